"""Shared by the unit tests: the fixtures eddy itself wrote (see
fixtures/README.md) and a fake admin server."""
from __future__ import annotations

import json
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import pytest

HERE = Path(__file__).resolve().parent


def fixture_dir() -> Path:
    """EDDY_CLIENT_FIXTURES (tests/python/test_python_client.sh points it
    at what a worker wrote minutes ago), else the checked-in fixtures."""
    return Path(os.environ.get("EDDY_CLIENT_FIXTURES") or HERE / "fixtures")


def fixture_values(topic: str) -> List[bytes]:
    """The raw Kafka values of one dumped topic (one hex line each)."""
    text = (fixture_dir() / (topic + ".hex")).read_text()
    return [bytes.fromhex(line) for line in text.split()]


# A handler answers (status, body) for a path and the request's headers.
Handler = Callable[[str, Dict[str, str]], Tuple[int, Any]]


class FakeAdmin:
    """A stand-in for a worker's admin server: each GET goes to `handler`,
    and is recorded (path, Authorization header) in `requests`."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.requests: List[Tuple[str, Optional[str]]] = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                outer.requests.append((self.path, headers.get("authorization")))
                status, body = outer.handler(self.path, headers)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]
        # A short poll interval: shutdown() waits for one.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_admin() -> Iterator[Callable[[Handler], FakeAdmin]]:
    servers: List[FakeAdmin] = []

    def start(handler: Handler) -> FakeAdmin:
        servers.append(FakeAdmin(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
