"""Exceptions of eddy_client. Each message is one sentence that says what
failed, where (URL, topic, partition and offset) and why, so that a program
can print str(error) to a person as it is."""
from __future__ import annotations

from typing import Optional


class EddyError(Exception):
    """Base of every error this package raises."""


class AlertDecodeError(EddyError):
    """A record is not an alert of configs/schemas/alert.avsc."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: not an alert: {reason}")
        self.where = where
        self.reason = reason


class AdminUnreachable(EddyError):
    """The admin server could not be reached (refused, timed out, TLS)."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(f"cannot reach the eddy admin server at {url}: {reason}")
        self.url = url
        self.reason = reason


class AdminHTTPError(EddyError):
    """The admin server answered with an error status. `message` is the
    server's own explanation (the "error" member of its JSON answer)."""

    def __init__(self, method: str, url: str, status: int, message: str) -> None:
        hint = _HINTS.get(status, "")
        said = f": {message}" if message else ""
        super().__init__(f"{method} {url} answered HTTP {status}{said}{hint}")
        self.method = method
        self.url = url
        self.status = status
        self.message = message


class FeaturesNotFound(AdminHTTPError):
    """404 on /v1/features/{view}/{entity}: absent, expired, or a view that
    no feature_store sink of this worker writes."""


class UnexpectedAnswer(EddyError):
    """The server answered 200 with something that is not what eddy sends
    (another program on that port, or an incompatible version)."""

    def __init__(self, url: str, reason: str, body: Optional[str] = None) -> None:
        shown = f" (answer began: {body[:200]!r})" if body else ""
        super().__init__(f"unexpected answer from {url}: {reason}{shown}")
        self.url = url
        self.reason = reason


class KafkaReadError(EddyError):
    """The topic could not be read: brokers unreachable, topic missing,
    authorisation, or a consumer error."""

    def __init__(self, topic: str, brokers: str, reason: str) -> None:
        super().__init__(f"cannot read alerts from topic '{topic}' at {brokers}: {reason}")
        self.topic = topic
        self.brokers = brokers
        self.reason = reason


# What to do about the usual refusals (docs/OPERATIONS.md, "Admin API security").
_HINTS = {
    401: " (the worker has an admin token: pass token=..., or set EDDY_ADMIN_TOKEN)",
    403: " (the admin server refused this client: see Admin API security in docs/OPERATIONS.md)",
    421: " (the Host header is not one the admin server accepts: see worker.admin.allowed_hosts)",
}
