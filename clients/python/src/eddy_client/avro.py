"""Avro alerts as eddy's Kafka sink writes them (engine/format/avro_codec.c):
either the bare binary body of one record (`format: avro`, plain), or the
Confluent wire format (`confluent: true`): byte 0, a 4-byte big-endian
schema id, then the same body. eddy needs no schema registry, so neither
does this: the body is read with the alert schema, whatever the id."""
from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path
from typing import Any, Dict, Literal, Optional, Union

from .alert import Alert, alert_from_dict
from .errors import AlertDecodeError, EddyError

Framing = Literal["auto", "plain", "confluent"]


def _fastavro() -> Any:
    try:
        import fastavro
    except ImportError:
        raise EddyError("reading Avro alerts needs fastavro: pip install 'eddy-client[avro]'") from None
    return fastavro


def packaged_schema_text() -> str:
    """The alert schema shipped with this package (a copy of
    configs/schemas/alert.avsc; a unit test checks they are equal)."""
    return resources.files("eddy_client").joinpath("alert.avsc").read_text(encoding="utf-8")


def _strip_logical_types(node: Any) -> Any:
    """The schema without logicalType annotations: fastavro would turn
    timestamp-millis into datetime objects, while Alert keeps eddy's
    milliseconds (the bytes on the wire are the same long)."""
    if isinstance(node, dict):
        return {k: _strip_logical_types(v) for k, v in node.items() if k != "logicalType"}
    if isinstance(node, list):
        return [_strip_logical_types(v) for v in node]
    return node


class AvroAlertDecoder:
    """Decodes Avro alert payloads. `schema` is the writer's schema file
    (the `schema:` of the sink; default the packaged alert schema).

    framing "auto" tells the two forms apart by the first byte: a plain
    alert starts with the length of alert_id (16 hex digits, zig-zag 0x20),
    never 0x00, and the Confluent form always starts with 0x00."""

    def __init__(self, schema: Union[str, Path, None] = None, framing: Framing = "auto") -> None:
        if framing not in ("auto", "plain", "confluent"):
            raise EddyError("Avro framing '%s': expected auto, plain or confluent" % framing)
        fastavro = _fastavro()
        if schema is None:
            text, origin = packaged_schema_text(), "the packaged alert schema"
        else:
            origin = str(schema)
            try:
                text = Path(schema).read_text(encoding="utf-8")
            except OSError as e:
                raise EddyError("cannot read the Avro schema %s: %s" % (schema, e.strerror or e)) from None
        try:
            self._schema = fastavro.parse_schema(_strip_logical_types(json.loads(text)))
        except (ValueError, fastavro.schema.SchemaParseException) as e:
            raise EddyError("the Avro schema %s is not valid: %s" % (origin, e)) from None
        self._read = fastavro.schemaless_reader
        self.framing = framing

    def decode(self, payload: bytes, where: str = "alert", confluent: Optional[bool] = None) -> Alert:
        """One alert. `confluent` overrides the framing for this payload
        (e.g. from the eddy.schema_id header)."""
        if not payload:
            raise AlertDecodeError(where, "empty payload")
        if confluent is None:
            confluent = self.framing == "confluent" or (self.framing == "auto" and payload[0] == 0)
        body = payload
        if confluent:
            if payload[0] != 0:
                raise AlertDecodeError(where, "bad magic byte 0x%02x (the Confluent wire format "
                                       "starts with 0x00)" % payload[0])
            if len(payload) < 5:
                raise AlertDecodeError(where, "truncated Confluent header: %d of 5 bytes" % len(payload))
            body = payload[5:]
        buf = io.BytesIO(body)
        try:
            record: Dict[str, Any] = self._read(buf, self._schema)
        except Exception as e:  # fastavro raises EOFError, ValueError, UnicodeDecodeError, ...
            raise AlertDecodeError(where, "cannot read the Avro record with the alert schema "
                                   "(%s: %s)" % (type(e).__name__, e)) from None
        if buf.tell() != len(body):
            raise AlertDecodeError(where, "%d bytes left after the Avro record: written with "
                                   "another schema?" % (len(body) - buf.tell()))
        return alert_from_dict(record, where)
