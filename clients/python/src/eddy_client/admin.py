"""A running worker's admin API (docs/OPERATIONS.md): its recent alerts
(GET /v1/alerts?after=SEQ) and served features (GET /v1/features/{view}/
{entity}). Standard library only, so that this part of the client installs
with no dependency."""
from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Type, Union

from .alert import Alert, alert_from_dict
from .errors import AdminHTTPError, AdminUnreachable, FeaturesNotFound, UnexpectedAnswer

# A feature's value as the store serves it: numbers, booleans and strings,
# arrays and maps as JSON (docs/FEATURE_STORE.md).
FeatureValue = Union[None, bool, int, float, str, List[Any], Dict[str, Any]]


@dataclass(frozen=True)
class SeqAlert:
    """An alert of the worker's ring with its sequence number."""

    seq: int
    alert: Alert


@dataclass(frozen=True)
class AlertPage:
    """One answer of /v1/alerts: the alerts after the asked sequence, the
    cursor to ask with next, and how many alerts were overwritten in the
    worker's ring (it keeps 1024) before they could be read."""

    next: int
    dropped: int
    alerts: List[SeqAlert]


@dataclass(frozen=True)
class FeatureRow:
    """An entity's newest features. event_time is the row's event time in
    ms; age_ms how old it was when served."""

    view: str
    entity: str
    event_time: int
    age_ms: int
    features: Dict[str, FeatureValue] = field(default_factory=dict)


def normalise_url(url: str) -> str:
    """http://host:port from a bare host:port (as `eddy alerts tail --admin`
    takes), without a trailing slash."""
    url = url.strip().rstrip("/")
    return url if "://" in url else "http://" + url


class AdminClient:
    """Talks to one worker's admin server.

    token: the admin token (worker.admin.token), sent as "Authorization:
    Bearer ...". cafile: the CA of an https:// server with its own
    certificate. AdminClient.from_env reads both as eddy's CLI does."""

    def __init__(self, url: str, token: Optional[str] = None, cafile: Optional[str] = None,
                 timeout: float = 10.0) -> None:
        self.url = normalise_url(url)
        self.token = token or None
        self.timeout = timeout
        self._ctx: Optional[ssl.SSLContext] = None
        if cafile:
            try:
                self._ctx = ssl.create_default_context(cafile=cafile)
            except (OSError, ssl.SSLError) as e:
                raise AdminUnreachable(self.url, "cannot load the CA file %s: %s" % (cafile, e)) from None

    @classmethod
    def from_env(cls, url: str, timeout: float = 10.0) -> "AdminClient":
        """Token from EDDY_ADMIN_TOKEN, CA file from EDDY_ADMIN_CACERT."""
        return cls(url, token=os.environ.get("EDDY_ADMIN_TOKEN"),
                   cafile=os.environ.get("EDDY_ADMIN_CACERT"), timeout=timeout)

    def _get(self, path: str, not_found: Type[AdminHTTPError] = AdminHTTPError) -> Any:
        url = self.url + path
        req = urllib.request.Request(url, headers={"Accept": "application/json"})
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout, context=self._ctx) as r:
                body = r.read()
        except urllib.error.HTTPError as e:
            text = e.read().decode("utf-8", errors="replace").strip()
            raise (not_found if e.code == 404 else AdminHTTPError)(
                "GET", url, e.code, _server_message(text)) from None
        except urllib.error.URLError as e:
            raise AdminUnreachable(self.url, str(e.reason)) from None
        except (OSError, ValueError) as e:  # timeouts, resets, bad URLs
            raise AdminUnreachable(self.url, str(e) or type(e).__name__) from None
        try:
            return json.loads(body)
        except ValueError as e:
            raise UnexpectedAnswer(url, "not JSON (%s)" % e,
                                   body.decode("utf-8", errors="replace")) from None

    def alerts(self, after: int = 0, limit: Optional[int] = None) -> AlertPage:
        """The alerts with a sequence number above `after` (at most `limit`,
        from 1 to 100000; the server's default is 1000)."""
        q = "after=%d" % after + ("" if limit is None else "&limit=%d" % limit)
        url = "/v1/alerts?" + q
        page = self._get(url)
        if not (isinstance(page, dict) and _is_int(page.get("next")) and _is_int(page.get("dropped"))
                and isinstance(page.get("alerts"), list)):
            raise UnexpectedAnswer(self.url + url, "expected an object with next, dropped and alerts",
                                   json.dumps(page)[:200])
        items = []
        for item in page["alerts"]:
            if not (isinstance(item, dict) and _is_int(item.get("seq")) and "alert" in item):
                raise UnexpectedAnswer(self.url + url, 'expected alerts as {"seq": N, "alert": {...}}',
                                       json.dumps(item)[:200])
            where = "alert #%d of %s" % (item["seq"], self.url)
            items.append(SeqAlert(item["seq"], alert_from_dict(item["alert"], where)))
        return AlertPage(page["next"], page["dropped"], items)

    def follow_alerts(self, after: int = 0, count: Optional[int] = None,
                      timeout: Optional[float] = None, interval: float = 0.5,
                      on_dropped: Optional[Callable[[int], None]] = None) -> Iterator[Alert]:
        """Alerts after sequence `after` (0: every alert the worker still
        holds), then new ones as they come, polling every `interval` s.
        Stops after `count` alerts, or when `timeout` seconds passed without
        a new alert. on_dropped(n) is told of alerts overwritten in the
        worker's ring before they were read. A worker that restarted
        (sequence numbers went back) is read again from its start."""
        seen = 0
        last_news = time.monotonic()
        while count is None or seen < count:
            left = None if count is None else min(count - seen, 100000)
            page = self.alerts(after, left)
            if page.next < after:
                after = 0  # a new worker process: its numbering starts again
                continue
            if page.dropped and on_dropped:
                on_dropped(page.dropped)
            for item in page.alerts:
                yield item.alert
                seen += 1
                if count is not None and seen >= count:
                    return
            after = page.next
            if page.alerts:
                last_news = time.monotonic()
                continue
            if timeout is not None and time.monotonic() - last_news >= timeout:
                return
            time.sleep(interval if timeout is None else
                       max(0.0, min(interval, timeout - (time.monotonic() - last_news))))

    def features(self, view: str, entity: str) -> FeatureRow:
        """The newest features of `entity` in feature view `view`. Raises
        FeaturesNotFound (an AdminHTTPError, status 404) when the worker
        has none: absent, expired, or no feature_store sink writes `view`."""
        path = "/v1/features/%s/%s" % (urllib.parse.quote(view, safe=""),
                                       urllib.parse.quote(entity, safe=""))
        row = self._get(path, not_found=FeaturesNotFound)
        ok = (isinstance(row, dict) and isinstance(row.get("view"), str)
              and isinstance(row.get("entity"), str) and _is_int(row.get("event_time"))
              and _is_int(row.get("age_ms")) and isinstance(row.get("features"), dict))
        if not ok:
            raise UnexpectedAnswer(self.url + path,
                                   "expected view, entity, event_time, age_ms and features",
                                   json.dumps(row)[:200])
        return FeatureRow(row["view"], row["entity"], row["event_time"], row["age_ms"],
                          dict(row["features"]))

    def get_features(self, view: str, entity: str) -> Optional[FeatureRow]:
        """Like features(), but None where features() raises FeaturesNotFound."""
        try:
            return self.features(view, entity)
        except FeaturesNotFound:
            return None


def _is_int(v: object) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _server_message(text: str) -> str:
    """The "error" member of eddy's JSON error answers, else the text."""
    try:
        d = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(d, Mapping) and isinstance(d.get("error"), str):
        return str(d["error"])
    return text[:300]
