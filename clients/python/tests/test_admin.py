"""The admin API client against a fake admin server: paging by cursor,
the token, eddy's error answers as sentences, features."""
from __future__ import annotations

import json
from typing import Any, Callable, Dict, List, Tuple
from urllib.parse import parse_qs, urlsplit

import pytest

from eddy_client import (AdminClient, AdminHTTPError, AdminUnreachable, FeaturesNotFound,
                         UnexpectedAnswer)

from conftest import FakeAdmin, Handler, fixture_values

ALERTS = [json.loads(v) for v in fixture_values("alerts.json")]


def ring(alerts: List[Dict[str, Any]], first_seq: int = 1) -> Handler:
    """A worker's /v1/alerts over `alerts`, numbered from first_seq."""
    def handle(path: str, headers: Dict[str, str]) -> Tuple[int, Any]:
        q = parse_qs(urlsplit(path).query)
        after, limit = int(q.get("after", ["0"])[0]), int(q.get("limit", ["1000"])[0])
        items = [{"seq": first_seq + i, "alert": a} for i, a in enumerate(alerts)
                 if first_seq + i > after][:limit]
        nxt = items[-1]["seq"] if items else max(after, first_seq + len(alerts) - 1)
        return 200, {"next": nxt, "dropped": 0, "alerts": items}
    return handle


def test_page(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(ring(ALERTS))
    page = AdminClient(srv.url).alerts(after=2, limit=3)
    assert [i.seq for i in page.alerts] == [3, 4, 5] and page.next == 5 and page.dropped == 0
    assert page.alerts[0].alert.statistic == "drifted_share"
    assert srv.requests == [("/v1/alerts?after=2&limit=3", None)]


def test_follow_count_and_cursor(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(ring(ALERTS))
    got = list(AdminClient(srv.url.replace("http://", "")).follow_alerts(count=4))
    assert [a.state for a in got] == ["firing"] * 3 + ["resolved"], [a.state for a in got]
    assert srv.requests[0][0] == "/v1/alerts?after=0&limit=4"


def test_follow_timeout_ends_quietly(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(ring(ALERTS))
    got = list(AdminClient(srv.url).follow_alerts(after=4, timeout=0.3, interval=0.05))
    assert len(got) == 2, "the two alerts after #4, then quiet until the timeout"


def test_follow_after_restart(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    """Sequence numbers that go back mean a new worker: read it from its start."""
    state = {"calls": 0}
    fresh = ring(ALERTS[:2])

    def handle(path: str, headers: Dict[str, str]) -> Tuple[int, Any]:
        state["calls"] += 1
        if "after=50" in path:
            return 200, {"next": 2, "dropped": 0, "alerts": []}
        return fresh(path, headers)

    srv = fake_admin(handle)
    got = list(AdminClient(srv.url).follow_alerts(after=50, count=2))
    assert [a.feature for a in got] == ["amount", "merchant"]


def test_dropped_reported(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(lambda p, h: (200, {"next": 9, "dropped": 5, "alerts": [{"seq": 9, "alert": ALERTS[0]}]}))
    told: List[int] = []
    list(AdminClient(srv.url).follow_alerts(count=1, on_dropped=told.append))
    assert told == [5]


def test_token_sent(fake_admin: Callable[[Handler], FakeAdmin], monkeypatch: pytest.MonkeyPatch) -> None:
    srv = fake_admin(ring(ALERTS))
    monkeypatch.setenv("EDDY_ADMIN_TOKEN", "t0ken-0123456789abcdef")
    AdminClient.from_env(srv.url).alerts()
    assert srv.requests[-1][1] == "Bearer t0ken-0123456789abcdef"


def test_401_is_a_sentence_with_the_servers_reason(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    why = "GET /v1/alerts needs the admin token: send Authorization: Bearer <token> (worker.admin.token)"
    srv = fake_admin(lambda p, h: (401, {"error": why}))
    with pytest.raises(AdminHTTPError) as e:
        AdminClient(srv.url).alerts()
    assert e.value.status == 401 and e.value.message == why
    assert str(e.value).startswith("GET %s/v1/alerts?after=0 answered HTTP 401: %s (" % (srv.url, why)), str(e.value)
    assert "EDDY_ADMIN_TOKEN" in str(e.value)


def test_400_not_json_body(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(lambda p, h: (400, b"plain words"))
    with pytest.raises(AdminHTTPError, match="answered HTTP 400: plain words$"):
        AdminClient(srv.url).alerts()


def test_unexpected_answers(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(lambda p, h: (200, b"<html>"))
    with pytest.raises(UnexpectedAnswer, match="not JSON"):
        AdminClient(srv.url).alerts()
    srv.handler = lambda p, h: (200, {"next": 1})
    with pytest.raises(UnexpectedAnswer, match="expected an object with next, dropped and alerts"):
        AdminClient(srv.url).alerts()


def test_bad_alert_in_page_named(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(lambda p, h: (200, {"next": 7, "dropped": 0, "alerts": [{"seq": 7, "alert": {"state": "x"}}]}))
    with pytest.raises(Exception, match=r"alert #7 of http://127\.0\.0\.1:\d+: not an alert: missing field 'alert_id'"):
        AdminClient(srv.url).alerts()


def test_unreachable() -> None:
    with pytest.raises(AdminUnreachable, match="cannot reach the eddy admin server at http://127.0.0.1:1: "):
        AdminClient("127.0.0.1:1", timeout=2).alerts()


ROW = {"view": "user_amount", "entity": "user 7/x", "event_time": 1767247199999, "age_ms": 12,
       "features": {"n": 122, "avg": 49.6, "flag": True, "name": "a", "hist": [1, 2], "none": None}}


def test_features_typed(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(lambda p, h: (200, ROW))
    row = AdminClient(srv.url).features("user_amount", "user 7/x")
    assert srv.requests[0][0] == "/v1/features/user_amount/user%207%2Fx", "entity is escaped"
    assert row.features == ROW["features"] and row.event_time == 1767247199999
    n, avg, flag = row.features["n"], row.features["avg"], row.features["flag"]
    assert type(n) is int and type(avg) is float and flag is True


def test_features_not_found(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    why = "no features for entity 'nobody' in view 'v' (absent, expired, or no feature_store sink writes that view)"
    srv = fake_admin(lambda p, h: (404, {"error": why}))
    c = AdminClient(srv.url)
    with pytest.raises(FeaturesNotFound) as e:
        c.features("v", "nobody")
    assert e.value.status == 404 and str(e.value).endswith("answered HTTP 404: " + why)
    assert c.get_features("v", "nobody") is None


def test_features_store_down_is_not_not_found(fake_admin: Callable[[Handler], FakeAdmin]) -> None:
    srv = fake_admin(lambda p, h: (503, {"error": "feature store unavailable for view 'v' (timeout)"}))
    with pytest.raises(AdminHTTPError) as e:
        AdminClient(srv.url).get_features("v", "e")
    assert not isinstance(e.value, FeaturesNotFound) and e.value.status == 503
