#!/usr/bin/env python3
"""Writes feast_fixtures.txt: Feast's own bytes for the Redis online store
layout, which tests/unit/store/test_feast_encoding.c compares eddy's hand-
written encoder against.

Run with the pinned Feast (see tests/store/feast_env.sh):
    $(tests/store/feast_env.sh) tests/store/gen_fixtures.py > tests/store/feast_fixtures.txt

Each line: <case> <hex bytes> (an empty value is written as '-')."""
import datetime
import sys

import feast
from feast.infra.online_stores.helpers import _mmh3, _redis_key
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import Value
from google.protobuf.timestamp_pb2 import Timestamp

PROJECT = "eddy_demo"


def out(name, data):
    print(name, data.hex() if data else "-")


def key(name, keys, values):
    ek = EntityKey(join_keys=keys, entity_values=values)
    out(name, _redis_key(PROJECT, ek, entity_key_serialization_version=3))


def ts(name, ms):
    t = Timestamp()
    t.FromDatetime(datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc))
    out(name, t.SerializeToString())


print("# feast", feast.__version__, "entity_key_serialization_version 3, project", PROJECT)
key("key_string", ["user_id"], [Value(string_val="u42")])
key("key_int", ["user_id"], [Value(int64_val=12345)])
key("key_int_neg", ["user_id"], [Value(int64_val=-7)])
key("key_multi", ["user_id", "merchant"], [Value(string_val="u1"), Value(string_val="m2")])
out("field_spend", _mmh3("user_spend:spend"))
out("field_n", _mmh3("user_spend:n"))
out("field_unicode", _mmh3("vue:caf\u00e9"))
out("field_long", _mmh3("a_rather_long_feature_view_name:p95_amount_over_5m"))
out("value_int", Value(int64_val=42).SerializeToString())
out("value_int_zero", Value(int64_val=0).SerializeToString())
out("value_int_neg", Value(int64_val=-3).SerializeToString())
out("value_double", Value(double_val=3.25).SerializeToString())
out("value_double_frac", Value(double_val=0.1).SerializeToString())
out("value_bool_true", Value(bool_val=True).SerializeToString())
out("value_bool_false", Value(bool_val=False).SerializeToString())
out("value_string", Value(string_val="h\u00e9llo").SerializeToString())
out("value_bytes", Value(bytes_val=b"\x00\x01\xff").SerializeToString())
out("value_json", Value(json_val="[1,2]").SerializeToString())
out("value_null", Value().SerializeToString())
ts("ts_ms", 1700000000123)
ts("ts_whole", 1700000000000)
ts("ts_epoch", 0)
ts("ts_sub_second", 250)
