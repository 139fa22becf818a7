"""The alerts eddy's Kafka sinks wrote in tests/python/test_python_client.sh
(one worker, three pipelines: pj to a JSON topic, pa to plain Avro, pc to
Avro in the Confluent wire format with schema id 42), decoded back to the
alerts that worker's drift fires and resolves."""
from __future__ import annotations

import datetime
from typing import List

import pytest

from eddy_client import Alert, AvroAlertDecoder, decode_json_alert

from conftest import fixture_values


def summary(alerts: List[Alert]) -> List[str]:
    return ["%s %s %s %s %s" % (a.pipeline, a.state, a.feature or "-", a.statistic,
                                a.event_time.strftime("%H:%M:%S")) for a in alerts]


def expected(pipeline: str) -> List[str]:
    return ["%s %s %s" % (pipeline, s, rest) for s, rest in [
        ("firing", "amount psi 02:29:59"), ("firing", "merchant chi2_pvalue 02:29:59"),
        ("firing", "- drifted_share 02:29:59"), ("resolved", "amount psi 04:29:59"),
        ("resolved", "merchant chi2_pvalue 04:29:59"), ("resolved", "- drifted_share 04:29:59")]]


def check(alerts: List[Alert], pipeline: str) -> None:
    seen, want = summary(alerts), expected(pipeline)
    assert seen == want, "expected %s, seen %s" % (want, seen)
    for a in alerts:
        assert len(a.alert_id) == 16 and int(a.alert_id, 16) >= 0, a.alert_id
        assert a.worker == "pyclient" and a.step == "dd" and a.detector == "distribution"
        assert a.key == "" and a.partition == 0
        assert a.reference_n == 2000 and a.current_n > 0
        assert a.current_start is not None and a.current_end is not None
        assert a.current_start <= a.current_end == a.time
        assert a.event_time.tzinfo == datetime.timezone.utc
    # A firing and the resolve that ends it share the alert id.
    firing = {a.feature: a.alert_id for a in alerts if a.firing}
    resolved = {a.feature: a.alert_id for a in alerts if not a.firing}
    assert firing == resolved, "ids: firing %s, resolved %s" % (firing, resolved)


def test_json_topic() -> None:
    alerts = [decode_json_alert(v, "alerts.json #%d" % i)
              for i, v in enumerate(fixture_values("alerts.json"))]
    check(alerts, "pj")
    psi = alerts[0]
    assert psi.value > psi.threshold == 0.2 and psi.p_value is not None


def test_plain_avro_topic() -> None:
    values = fixture_values("alerts.avro")
    assert values and all(v[0] != 0 for v in values), "plain Avro never starts with 0x00"
    for framing in ("auto", "plain"):
        dec = AvroAlertDecoder(framing=framing)
        check([dec.decode(v) for v in values], "pa")


def test_confluent_avro_topic() -> None:
    values = fixture_values("alerts.confluent")
    assert values and all(v[:5] == b"\x00\x00\x00\x00\x2a" for v in values), "magic 0, schema id 42"
    for framing in ("auto", "confluent"):
        dec = AvroAlertDecoder(framing=framing)
        check([dec.decode(v) for v in values], "pc")


def test_same_alerts_in_every_format() -> None:
    """The three pipelines watch one stream: apart from where they were
    raised and when, their alerts are equal, whatever the format."""
    dec = AvroAlertDecoder()
    forms = [[decode_json_alert(v) for v in fixture_values("alerts.json")],
             [dec.decode(v) for v in fixture_values("alerts.avro")],
             [dec.decode(v) for v in fixture_values("alerts.confluent")]]

    def core(a: Alert) -> tuple:  # type: ignore[type-arg]
        return (a.state, a.severity, a.time, a.feature, a.statistic, a.value, a.threshold,
                a.p_value, a.current_n, a.reference_n)

    assert [core(a) for a in forms[0]] == [core(a) for a in forms[1]] == [core(a) for a in forms[2]]


@pytest.mark.parametrize("topic", ["alerts.avro", "alerts.confluent"])
def test_plain_and_confluent_told_apart(topic: str) -> None:
    """Decoding with the wrong framing is an error naming the cause, never
    a silently wrong alert."""
    v = fixture_values(topic)[0]
    wrong = "confluent" if topic == "alerts.avro" else "plain"
    with pytest.raises(Exception) as e:
        AvroAlertDecoder(framing=wrong).decode(v, "x")  # type: ignore[arg-type]
    assert "x: not an alert:" in str(e.value)
