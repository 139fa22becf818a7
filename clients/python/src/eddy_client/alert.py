"""The alert record (configs/schemas/alert.avsc) as a typed dataclass, and
its JSON form. The fields are the schema's, in the schema's order, so that
dataclasses.asdict(alert) is the JSON object eddy writes."""
from __future__ import annotations

import dataclasses
import datetime
import json
import math
from dataclasses import dataclass
from typing import Any, Dict, Literal, Mapping, Optional, Union, cast

from .errors import AlertDecodeError

State = Literal["firing", "resolved"]
Severity = Literal["info", "warning", "critical"]
STATES = ("firing", "resolved")


@dataclass(frozen=True)
class Alert:
    """One state change of an alert key (pipeline, step, feature, key).
    Times are milliseconds since the Unix epoch: `time`, the window bounds
    and the reference bounds are event time, `emitted_at` wall-clock time."""

    alert_id: str
    state: State
    severity: str
    time: int
    emitted_at: int
    worker: str
    pipeline: str
    step: str
    partition: int
    detector: str
    feature: str
    key: str
    statistic: str
    value: float
    threshold: float
    p_value: Optional[float]
    current_start: Optional[int]
    current_end: Optional[int]
    current_n: int
    reference_start: Optional[int]
    reference_end: Optional[int]
    reference_n: int
    message: str

    @property
    def firing(self) -> bool:
        return self.state == "firing"

    @property
    def event_time(self) -> datetime.datetime:
        """`time` as an aware UTC datetime."""
        return _utc(self.time)

    def to_dict(self) -> Dict[str, Any]:
        """The alert as eddy's JSON object (the schema's field order)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        """One line of JSON, as eddy writes it: a non-finite value or
        threshold is null (JSON has no NaN)."""
        d = self.to_dict()
        for k in ("value", "threshold", "p_value"):
            if isinstance(d[k], float) and not math.isfinite(d[k]):
                d[k] = None
        return json.dumps(d, separators=(",", ":"), ensure_ascii=False)

    def line(self) -> str:
        """One readable line, in the layout of `eddy alerts tail`:
        TIME STATE SEVERITY PIPELINE/STEP FEATURE key=KEY STAT=VALUE OP THRESHOLD (p=P) MESSAGE"""
        t = _utc(self.time)
        stamp = t.strftime("%Y-%m-%dT%H:%M:%S")
        if self.time % 1000:
            stamp += ".%03d" % (self.time % 1000)
        p = "" if self.p_value is None else "  (p=%.3g)" % self.p_value
        return "%sZ %-8s %-9s %s/%s  %s  key=%s  %s=%.4g %s %g%s  %s" % (
            stamp, self.state.upper(), _text(self.severity), _text(self.pipeline),
            _text(self.step), _text(self.feature), _text(self.key), _text(self.statistic),
            self.value, _relation(self.value, self.threshold), self.threshold, p,
            _text(self.message))


def _utc(ms: int) -> datetime.datetime:
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return epoch + datetime.timedelta(milliseconds=ms)


def _text(s: str) -> str:
    """`-` for an empty string; control characters escaped so that an alert
    stays on one line whatever its message holds."""
    if not s:
        return "-"
    return "".join("\\x%02x" % ord(c) if ord(c) < 0x20 or ord(c) == 0x7F else c for c in s)


def _relation(v: float, thr: float) -> str:
    """The relation that holds, not the detector's rule (p-values breach
    below their threshold, most statistics above)."""
    if math.isnan(v) or math.isnan(thr):
        return "vs"
    return "<" if v < thr else ">" if v > thr else "="


# Field -> what it must hold. "num" accepts null because eddy's JSON writes
# a non-finite double as null (docs/OPERATIONS.md, input limits): it
# becomes NaN, so that Alert.value stays a float.
_KINDS: Dict[str, str] = {
    "alert_id": "str", "state": "str", "severity": "str", "time": "int",
    "emitted_at": "int", "worker": "str", "pipeline": "str", "step": "str",
    "partition": "int", "detector": "str", "feature": "str", "key": "str",
    "statistic": "str", "value": "num", "threshold": "num", "p_value": "num?",
    "current_start": "int?", "current_end": "int?", "current_n": "int",
    "reference_start": "int?", "reference_end": "int?", "reference_n": "int",
    "message": "str",
}
_EXPECTED = {"str": "a string", "int": "an integer", "int?": "an integer or null",
             "num": "a number", "num?": "a number or null"}


def alert_from_dict(d: Mapping[str, Any], where: str = "alert") -> Alert:
    """Checks and converts one decoded alert object (JSON or Avro). Raises
    AlertDecodeError naming the first field that is missing or mistyped."""
    if not isinstance(d, Mapping):
        raise AlertDecodeError(where, "expected an object, got %s" % type(d).__name__)
    out: Dict[str, Union[str, int, float, None]] = {}
    for name, kind in _KINDS.items():
        if name not in d:
            raise AlertDecodeError(where, "missing field '%s'" % name)
        v = d[name]
        ok = True
        if kind == "str":
            ok = isinstance(v, str)
        elif kind.startswith("int"):
            # bool is an int to Python, never to the schema.
            ok = (isinstance(v, int) and not isinstance(v, bool)) or (v is None and kind == "int?")
        else:
            if v is None:
                v = math.nan if kind == "num" else None
            elif isinstance(v, (int, float)) and not isinstance(v, bool):
                v = float(v)
            else:
                ok = False
        if not ok:
            raise AlertDecodeError(where, "field '%s' is %s, expected %s" % (
                name, _json_type(v), _EXPECTED[kind]))
        out[name] = v
    if out["state"] not in STATES:
        raise AlertDecodeError(where, "state '%s', expected firing or resolved" % str(out["state"])[:40])
    return Alert(**cast(Dict[str, Any], out))


def _json_type(v: object) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "a boolean"
    if isinstance(v, (int, float)):
        return "a number"
    if isinstance(v, str):
        return "a string"
    if isinstance(v, (list, tuple)):
        return "an array"
    if isinstance(v, Mapping):
        return "an object"
    return type(v).__name__


def decode_json_alert(payload: Union[bytes, str], where: str = "alert") -> Alert:
    """One alert from its JSON form (a Kafka value of a `format: json`
    alerts sink, a line of a file sink, or a webhook body)."""
    try:
        d = json.loads(payload)
    except (ValueError, UnicodeDecodeError) as e:
        raise AlertDecodeError(where, "invalid JSON (%s)" % e) from None
    return alert_from_dict(d, where)
