#!/usr/bin/env python3
"""Writes the seed corpora of tests/fuzz/corpus/<harness>/: a handful of
small valid and invalid inputs per harness, from the test fixtures, the
example configs and the formats' own specs (docs/, engine/state/cache.h).
Run from anywhere: python3 tests/fuzz/make_corpus.py. Deterministic."""
import json
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(HERE, "corpus")


def put(harness, name, data):
    d = os.path.join(OUT, harness)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def fixture(*p):
    with open(os.path.join(ROOT, *p), "rb") as f:
        return f.read()


# ---- JSON -----------------------------------------------------------------
for i, s in enumerate([
        '{"user_id":"user-42","amount":12.75,"count":123456789,"ok":true,"note":null}',
        '{"tags":["caf\\u00e9","b"],"counters":{"x":-70000},"address":{"city":"Lyon","zip":69001}}',
        '{"a":1e308,"b":-0.0,"c":9223372036854775807,"d":-9223372036854775809,"e":"\\ud83d\\ude00"}',
        '{"deep":[[[[{"k":[1,2,{"z":[]}]}]]]],"dup":1,"dup":2}',
        '{"s":"tab\\there \\"q\\" \\\\ \\/ \\b\\f\\n\\r","u":"\xc3\xa9\xe2\x82\xac"}',
        '{"unterminated":"abc',
        '[1,2,3]',
        '{"bad":tru}',
        '{"x":01}',
        '{"s":"\\ud800"}',
]):
    put("json", f"seed{i}", s)


# ---- msgpack ----------------------------------------------------------------
def mp(v):
    if v is None:
        return b"\xc0"
    if v is True:
        return b"\xc3"
    if v is False:
        return b"\xc2"
    if isinstance(v, int):
        if 0 <= v < 128:
            return bytes([v])
        if -32 <= v < 0:
            return struct.pack("b", v)
        return b"\xd3" + struct.pack(">q", v)
    if isinstance(v, float):
        return b"\xcb" + struct.pack(">d", v)
    if isinstance(v, bytes):
        return b"\xc4" + bytes([len(v)]) + v
    if isinstance(v, str):
        b = v.encode()
        return (bytes([0xa0 | len(b)]) if len(b) < 32 else b"\xd9" + bytes([len(b)])) + b
    if isinstance(v, list):
        return bytes([0x90 | len(v)]) + b"".join(mp(x) for x in v)
    if isinstance(v, dict):
        return bytes([0x80 | len(v)]) + b"".join(mp(k) + mp(x) for k, x in v.items())
    raise TypeError(v)


recs = [
    {"user_id": "user-42", "amount": 12.75, "count": 123456789, "ok": True, "note": None},
    {"tags": ["caf\u00e9", "b"], "counters": {"x": -70000}, "raw": b"\x00\xff"},
    {"n": -1, "big": 2**63 - 1, "nested": [[{"k": [1, 2]}]]},
    {},
]
for i, r in enumerate(recs):
    put("msgpack", f"seed{i}", mp(r))
put("msgpack", "ext", b"\x81\xa1e\xd6\xff\x00\x00\x00\x01")  # timestamp ext
put("msgpack", "str32", b"\x81\xa1s\xdb\x00\x00\x00\x05hello")
put("msgpack", "truncated", mp(recs[0])[:-3])
put("msgpack", "not_a_map", mp([1, 2, 3]))
put("msgpack", "map16", b"\xde\x00\x01\xa1k\xcd\x01\x00")


# ---- Avro binary ------------------------------------------------------------
def zz(n):
    n = (n << 1) ^ (n >> 63)
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def av_str(s):
    b = s.encode() if isinstance(s, str) else s
    return zz(len(b)) + b


def av_double(d):
    return struct.pack("<d", d)


# Schemas in fuzz_avro.c's order: event, small, rt, alert, tree.
event = (av_str("user-42") + av_double(12.75) + zz(123456789) + zz(7) + struct.pack("<f", 0.5)
         + b"\x01" + zz(0) + zz(1) + av_str("a note") + av_str(b"\x00\x01") + b"abcd"
         + zz(2) + av_str("a") + av_str("b") + zz(0) + zz(1) + av_str("x") + zz(-5) + zz(0)
         + zz(1) + av_str("Lyon") + zz(1) + zz(69001) + av_str("FR"))
small = av_str("alice") + zz(42)
rt = av_str("u1") + av_double(3.5) + zz(9)
tree = (zz(1) + zz(5) + zz(1) + zz(0) + zz(0) + zz(0) + zz(0)  # v=5, next={v:null,...}
        + zz(1) + zz(0) + zz(0) + zz(0) + zz(0) + zz(0)          # kids=[{}]
        + zz(1) + av_str("k") + zz(1) + b"\x01" + zz(0))         # attrs={k:true}
for name, sel, payload in [("event", 0, event), ("small", 1, small), ("rt", 2, rt),
                           ("tree", 4, tree)]:
    put("avro", f"{name}_plain", bytes([sel]) + payload)
    put("avro", f"{name}_confluent", bytes([sel | 8]) + b"\x00" + struct.pack(">i", sel + 1)
        + payload)
put("avro", "event_truncated", bytes([0]) + event[:20])
put("avro", "bad_magic", bytes([8]) + b"\x01\x00\x00\x00\x01" + small)
put("avro", "unknown_id", bytes([8]) + b"\x00\x00\x00\x00\x63" + small)


# ---- Avro object container files -------------------------------------------
def ocf(schema, records, codec="null", sync=bytes(range(16))):
    meta = {"avro.schema": json.dumps(schema).encode(), "avro.codec": codec.encode()}
    out = b"Obj\x01" + zz(len(meta))
    for k, v in meta.items():
        out += av_str(k) + av_str(v)
    out += zz(0) + sync
    body = b"".join(records)
    if codec == "deflate":
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        body = c.compress(body) + c.flush()
    if records:
        out += zz(len(records)) + zz(len(body)) + body + sync
    return out


small_schema = json.loads(fixture("tests", "fixtures", "format", "small.avsc"))
rt_schema = json.loads(fixture("tests", "fixtures", "kafka", "rt.avsc"))
tree_schema = json.loads(fixture("tests", "fuzz", "schemas", "tree.avsc"))
put("avro_file", "small", ocf(small_schema, [small, av_str("bob") + zz(-1)]))
put("avro_file", "small_deflate", ocf(small_schema, [small] * 3, "deflate"))
put("avro_file", "rt", ocf(rt_schema, [rt]))
put("avro_file", "tree", ocf(tree_schema, [tree]))
put("avro_file", "empty", ocf(small_schema, []))
put("avro_file", "not_record", ocf("long", [zz(5)]))
put("avro_file", "truncated", ocf(small_schema, [small])[:-10])
put("avro_file", "bad_magic", b"Obj\x02")


# ---- CSV ----------------------------------------------------------------------
for i, s in enumerate([
        "user_id,amount,count,ok,note\nuser-42,12.75,123456789,true,\nu2,-1,0,false,x\n",
        'name,quote\r\n"Smith, J.","He said ""hi"""\r\n"01234",""\r\n',
        'a,b\n"multi\nline",2\n3\n4,5,6\n',
        'a,b\n"unterminated,1\n',
        "x\n1e308\n-0\n9223372036854775808\nNaN\n",
        "\ufeffa;b\n1;2\n",
]):
    put("csv", f"seed{i}", s)
put("csv", "header_only", "a,b,c")
put("csv", "empty", "")


# ---- config ---------------------------------------------------------------
for f in ["drift.yaml", "anomaly.yaml", "features.yaml"]:
    put("config", f, fixture("configs", f))
for f in ["step.yaml", "syntax.yaml"]:
    put("config", f, fixture("tests", "fixtures", "config", f))
put("config", "minimal.yaml", """sources:
  - {name: in, type: generator, count: 10, fields: {x: "normal(0, 1)"}}
pipelines:
  - name: p
    from: in
    steps:
      - filter: {where: "x > 0 and user != null"}
      - project: {derive: {y: "x * 2", z: "lower(to_string(x))"}}
      - window: {type: tumbling, size: 1m, key: [user], aggregate: {n: count(), s: sum(x)}}
    to: [{type: console, format: json}]
""")
put("config", "anchors.yaml", "a: &x {b: [1, 2]}\nc: *x\nd: !!str 5\ne: ${NO_SUCH_VAR}\nf: file:/nonexistent\n")


# ---- expressions --------------------------------------------------------------
for i, s in enumerate([
        "a > 40 and b < 3", "true or false and false", "a / 8", "a % 5", "a + b",
        "missing > 1 or missing != 1", "coalesce(missing, a) * 2", 's in ("DE", "FR", )',
        'lower(s) + "-" + to_string(a)', "round(b * 1.1, 2)", "max(a, b, missing)",
        'to_int("17") + 1', "len(arr) + len(m) + len(by)", "m.user == 'Alice'",
        "`odd key`.x", "exists(m.k) && !is_null(n)", "abs(-9223372036854775808)",
        "9223372036854775807 + 1", "sqrt(-1) == null", "-(-(-a))", "floor(b) + ceil(b)",
        '"\\u00e9\\n\\t" + s', "not a == b", "a < b < c", "((((a))))", "f(", '"unterminated',
        "1e400", "to_double(t) + exp(710) + log(0)", "upper(s) in (lower(s), s)",
]):
    put("expr", f"seed{i:02d}", s)


# ---- state (fuzz_state.c) -----------------------------------------------------
def cl_key(kind, step, key):
    return bytes([kind]) + struct.pack("<I", step) + key


put("state", "cl_key", b"\x00" + cl_key(0, 0x12345678, b"user-1"))
put("state", "cl_value", b"\x00" + b"\x01" + struct.pack("<IH", 0xDEADBEEF, 1) + b"payload")
put("state", "cl_marker", b"\x00" + b"\x01" + struct.pack("<qqqQ", 41, 1767225600000, 1767225500000, 3))


def cache(records, x=100):
    body = b""
    for k, v in records:
        body += struct.pack("<I", len(k)) + k
        body += struct.pack("<I", 0xFFFFFFFF) if v is None else struct.pack("<I", len(v)) + v
    trl = b"EDDYEND1" + struct.pack("<QQQI", x, len(records), len(body), zlib.crc32(body))
    return b"EDDYSTC1" + struct.pack("<I", 1) + body + trl


recs = [(cl_key(0, 7, b"k1"), b"\x01" + struct.pack("<IH", 1, 1) + b"v1"),
        (cl_key(0, 7, b"k2"), None),
        (cl_key(3, 9, b"topic"), b"\x01" + struct.pack("<IH", 0, 1)
         + b"\x01" + struct.pack("<qqqQ", 5, 6, 7, 1))]
put("state", "cache", b"\x02" + cache(recs))
put("state", "cache_badcrc", b"\x03" + cache(recs)[:-1] + b"\x00")
put("state", "cache_notrailer", b"\x02" + cache(recs)[:-36])
# One record per operator of fuzz_state.c's table (22 of them): a key and a
# few bytes of state, version 1; and for the windows a whole snapshot.
for op in range(22):
    sel = (op + 2) << 1
    key = b"\x02u0" if op < 5 else b"u0"
    data = struct.pack("<qdd", 3, 1.5, 2.25)
    put("state", f"op{op:02d}_load", bytes([sel, 1, len(key)]) + key + struct.pack("<H", len(data)) + data)
    if op < 5:
        put("state", f"op{op:02d}_restore", bytes([sel | 1, 1]) + struct.pack("<IIq", 1, 1, 1767225600000))

# The alert state, one past the operators: records as for state_load, an
# alert key firing with its severity (version 2), the same without it
# (version 1), the id counter under the empty key and a tombstone.
def alert_rec(version, key, data):
    return bytes([version, len(key)]) + key + struct.pack("<H", len(data)) + data


akey = b"ddm\x1ferr\x1fuser-1"
fields = struct.pack("<IIBBqqIQ", 2, 0, 1, 1, 1767225600000, 1767225600000, 1, 0xABCDEF)
put("state", "alert_v2", bytes([48]) + alert_rec(2, akey, fields + b"\x03")
    + alert_rec(2, b"", struct.pack("<Q", 7)))
put("state", "alert_v1", bytes([48]) + alert_rec(1, akey, fields) + alert_rec(0, b"gone", b""))

# ---- admin HTTP -------------------------------------------------------------
for i, s in enumerate([
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /readyz HTTP/1.0\r\n\r\n",
        "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "GET /v1/pipelines HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /v1/pipelines/watch/steps/feature_drift/reference HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n",
        "GET /v1/alerts?after=3&limit=10 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /v1/features/view/entity%2F1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "DELETE /v1/alerts HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /nope%00x HTTP/1.1\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /v1/pipelines HTTP/1.1\r\nHost: x\r\n\r\n",
        "POST /v1/alerts HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
]):
    put("admin", f"seed{i:02d}", s)
