"""Avro alerts: the packaged schema, framing errors, schema files."""
from __future__ import annotations

from pathlib import Path

import pytest

from eddy_client import AlertDecodeError, AvroAlertDecoder, EddyError
from eddy_client.avro import packaged_schema_text

from conftest import HERE, fixture_values

REPO_SCHEMA = HERE.parents[2] / "configs" / "schemas" / "alert.avsc"


@pytest.mark.skipif(not REPO_SCHEMA.exists(), reason="not in the eddy source tree")
def test_packaged_schema_is_eddys() -> None:
    """The client ships a copy of configs/schemas/alert.avsc: they must not
    drift apart (copy it again when the schema changes)."""
    assert packaged_schema_text() == REPO_SCHEMA.read_text(encoding="utf-8")


@pytest.mark.skipif(not REPO_SCHEMA.exists(), reason="not in the eddy source tree")
def test_schema_file() -> None:
    dec = AvroAlertDecoder(REPO_SCHEMA)
    assert dec.decode(fixture_values("alerts.avro")[0]).pipeline == "pa"


def test_times_stay_milliseconds() -> None:
    """timestamp-millis is not turned into datetime: Alert.time is eddy's ms."""
    a = AvroAlertDecoder().decode(fixture_values("alerts.avro")[0])
    assert a.time == 1767234599000 and isinstance(a.emitted_at, int)


def test_header_says_confluent() -> None:
    v = fixture_values("alerts.confluent")[0]
    assert AvroAlertDecoder(framing="plain").decode(v, confluent=True).pipeline == "pc"


@pytest.mark.parametrize("payload, said", [
    (b"", "empty payload"),
    (b"\x00\x00\x00", "truncated Confluent header: 3 of 5 bytes"),
])
def test_framing_errors(payload: bytes, said: str) -> None:
    with pytest.raises(AlertDecodeError, match=said):
        AvroAlertDecoder().decode(payload, "t [0] offset 1")


def test_bad_magic_byte() -> None:
    v = fixture_values("alerts.avro")[0]
    with pytest.raises(AlertDecodeError, match="bad magic byte 0x20"):
        AvroAlertDecoder(framing="confluent").decode(v)


def test_truncated_record() -> None:
    v = fixture_values("alerts.avro")[0]
    with pytest.raises(AlertDecodeError) as e:
        AvroAlertDecoder().decode(v[: len(v) // 2], "t [0] offset 9")
    assert str(e.value).startswith("t [0] offset 9: not an alert: cannot read the Avro record"), str(e.value)


def test_trailing_bytes() -> None:
    v = fixture_values("alerts.avro")[0]
    with pytest.raises(AlertDecodeError, match="3 bytes left after the Avro record"):
        AvroAlertDecoder().decode(v + b"abc")


def test_unreadable_schema(tmp_path: Path) -> None:
    with pytest.raises(EddyError, match="cannot read the Avro schema .*nope.avsc"):
        AvroAlertDecoder(tmp_path / "nope.avsc")
    bad = tmp_path / "bad.avsc"
    bad.write_text('{"type": "record", "name": "A", "fields": [{"name": "x", "type": "nosuch"}]}')
    with pytest.raises(EddyError, match="the Avro schema .*bad.avsc is not valid"):
        AvroAlertDecoder(bad)


def test_unknown_framing() -> None:
    with pytest.raises(EddyError, match="expected auto, plain or confluent"):
        AvroAlertDecoder(framing="avro")  # type: ignore[arg-type]
