"""Decoding an alert's JSON form and checking its fields; the readable line."""
from __future__ import annotations

import json
import math
from typing import Any, Dict

import pytest

from eddy_client import Alert, AlertDecodeError, alert_from_dict, decode_json_alert

from conftest import fixture_values


def sample() -> Dict[str, Any]:
    """The first alert eddy wrote to the JSON fixture topic, as a dict."""
    d: Dict[str, Any] = json.loads(fixture_values("alerts.json")[0])
    return d


def test_fields_in_schema_order() -> None:
    a = decode_json_alert(fixture_values("alerts.json")[0])
    assert list(a.to_dict()) == list(sample()), "Alert's fields are the schema's, in its order"
    assert json.loads(a.to_json()) == sample()


def test_typed_values() -> None:
    a = alert_from_dict(sample())
    assert a.state == "firing" and a.firing
    assert isinstance(a.time, int) and isinstance(a.value, float) and isinstance(a.partition, int)
    assert a.event_time.isoformat() == "2026-01-01T02:29:59+00:00"


def test_integer_statistic_becomes_float() -> None:
    d = sample()
    d["value"], d["p_value"] = 3, 0
    a = alert_from_dict(d)
    assert isinstance(a.value, float) and a.value == 3.0 and a.p_value == 0.0


def test_null_value_is_nan() -> None:
    """eddy's JSON writes a non-finite double as null; value stays a float."""
    d = sample()
    d["value"] = None
    a = alert_from_dict(d)
    assert math.isnan(a.value)
    assert json.loads(a.to_json())["value"] is None


def test_optional_fields_null() -> None:
    d = sample()
    for k in ("p_value", "current_start", "current_end", "reference_start", "reference_end"):
        d[k] = None
    a = alert_from_dict(d)
    assert a.p_value is None and a.current_start is None and a.reference_end is None


@pytest.mark.parametrize("change, said", [
    ({"state": "burning"}, "state 'burning', expected firing or resolved"),
    ({"time": "soon"}, "field 'time' is a string, expected an integer"),
    ({"time": 1.5}, "field 'time' is a number, expected an integer"),
    ({"partition": True}, "field 'partition' is a boolean, expected an integer"),
    ({"value": "high"}, "field 'value' is a string, expected a number"),
    ({"current_n": None}, "field 'current_n' is null, expected an integer"),
    ({"feature": 7}, "field 'feature' is a number, expected a string"),
])
def test_bad_field_named(change: Dict[str, Any], said: str) -> None:
    d = sample()
    d.update(change)
    with pytest.raises(AlertDecodeError) as e:
        alert_from_dict(d, "t [0] offset 3")
    assert str(e.value) == "t [0] offset 3: not an alert: " + said, str(e.value)


def test_missing_field_named() -> None:
    d = sample()
    del d["threshold"]
    with pytest.raises(AlertDecodeError, match="missing field 'threshold'"):
        alert_from_dict(d)


@pytest.mark.parametrize("payload, said", [
    (b"{", "invalid JSON"),
    (b"[1, 2]", "expected an object, got list"),
    (b"\xff", "invalid JSON"),
])
def test_not_json_object(payload: bytes, said: str) -> None:
    with pytest.raises(AlertDecodeError, match=said):
        decode_json_alert(payload, "where")


def test_line_like_eddy_alerts_tail() -> None:
    a = alert_from_dict(sample())
    line = a.line()
    assert line.startswith("2026-01-01T02:29:59Z FIRING   warning   pj/dd  amount  key=-  psi=6.402 > 0.2  (p=0)  "), line
    assert line.endswith(a.message)


def test_line_escapes_control_characters() -> None:
    d = sample()
    d["message"], d["key"] = "two\nlines", ""
    assert "two\\x0alines" in alert_from_dict(d).line()
    assert "\n" not in alert_from_dict(d).line()


def test_frozen() -> None:
    a: Alert = alert_from_dict(sample())
    with pytest.raises(AttributeError):
        a.state = "resolved"  # type: ignore[misc]
