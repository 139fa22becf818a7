"""follow_kafka without a broker: its refusals are sentences. Reading a
real topic is tests/python/test_python_client.sh's part."""
from __future__ import annotations

import pytest

from eddy_client import EddyError, KafkaReadError, follow_kafka


def test_unreachable_brokers() -> None:
    with pytest.raises(KafkaReadError) as e:
        next(follow_kafka("drift.alerts", "127.0.0.1:1", connect_timeout=1))
    assert str(e.value).startswith(
        "cannot read alerts from topic 'drift.alerts' at 127.0.0.1:1: no answer from the brokers within 1s"), str(e.value)


def test_unknown_format() -> None:
    with pytest.raises(EddyError, match="alert format 'xml': expected json or avro"):
        next(follow_kafka("t", format="xml"))  # type: ignore[arg-type]


def test_bad_librdkafka_property() -> None:
    with pytest.raises(KafkaReadError, match="bad consumer configuration: .*no.such.property"):
        next(follow_kafka("t", "127.0.0.1:1", config={"no.such.property": "1"}))
