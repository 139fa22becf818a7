#!/usr/bin/env python3
"""Reads features that eddy wrote with `layout: feast` through Feast's own
SDK (get_online_features), with no glue: a throwaway Feast repo whose online
store is the test's Redis. Prints one JSON object per entity row.

    feast_read.py PORT PROJECT VIEW JOIN_KEY TYPE(string|int64) FEATURES ENTITY...

FEATURES is comma-separated name:dtype (dtype float64|int64|string)."""
import json
import os
import sys
import tempfile
from datetime import timedelta

os.environ.setdefault("FEAST_USAGE", "False")

from feast import Entity, FeatureStore, FeatureView, Field, FileSource, ValueType  # noqa: E402
from feast.repo_config import RegistryConfig, RepoConfig  # noqa: E402
from feast.types import Float64, Int64, String  # noqa: E402

port, project, view, join_key, ktype, features = sys.argv[1:7]
entities = sys.argv[7:]
dtypes = {"float64": Float64, "int64": Int64, "string": String}
fields = [(n, dtypes[t]) for n, t in (f.split(":") for f in features.split(","))]

repo = tempfile.mkdtemp(prefix="eddy-feast-")
config = RepoConfig(
    project=project,
    provider="local",
    registry=RegistryConfig(path=os.path.join(repo, "registry.db")),
    online_store={"type": "redis", "connection_string": f"127.0.0.1:{port}"},
    entity_key_serialization_version=3,
)
store = FeatureStore(config=config, repo_path=repo)
entity = Entity(name=join_key, join_keys=[join_key],
                value_type=ValueType.INT64 if ktype == "int64" else ValueType.STRING)
source = FileSource(path=os.path.join(repo, "unused.parquet"), timestamp_field="event_time")
fv = FeatureView(
    name=view,
    entities=[entity],
    ttl=timedelta(days=1),
    schema=[Field(name=join_key, dtype=Int64 if ktype == "int64" else String)]
    + [Field(name=n, dtype=t) for n, t in fields],
    source=source,
    online=True,
)
store.apply([entity, fv])
rows = [{join_key: int(e) if ktype == "int64" else e} for e in entities]
got = store.get_online_features(
    features=[f"{view}:{n}" for n, _ in fields], entity_rows=rows
).to_dict()
for i in range(len(entities)):
    print(json.dumps({k: v[i] for k, v in got.items()}, sort_keys=True))
