"""Python peers of benchmarks/peers/run.sh (run with the benchmark's venv).

  apps.py quix-j1 BROKERS IN OUT GROUP STATE_DIR   Quix Streams, J1
  apps.py quix-j2 BROKERS IN OUT GROUP STATE_DIR   Quix Streams, J2
  apps.py river-j3 BROKERS IN OUT GROUP            river ADWIN per user, J3

The Quix apps run until SIGTERM (the benchmark stops them once their output
is complete); they use Quix Streams' defaults (at-least-once, commit every
5 s, RocksDB state with changelog topics) and one process. The river
consumer reads every partition to its end, writes each change point to OUT,
commits and exits, like eddy with stop_at_end.
"""
import json
import sys
import time


def quix(job, brokers, tin, tout, group, state_dir):
    from quixstreams import Application
    from quixstreams.dataframe.windows import Count, Mean, Sum

    app = Application(
        broker_address=brokers,
        consumer_group=group,
        auto_offset_reset="earliest",
        state_dir=state_dir,
        loglevel="WARNING",
    )
    # Event time from the record's "ts" field, as eddy and Kafka Streams do.
    src = app.topic(
        tin,
        value_deserializer="json",
        timestamp_extractor=lambda value, headers, ts, ts_type: value["ts"],
    )
    dst = app.topic(tout, value_serializer="json")
    sdf = app.dataframe(src)
    if job == "j1":
        sdf = sdf.filter(lambda v: v["amount"] > 50)
        sdf["amount_x100"] = sdf["amount"] * 100
    else:
        # closing_strategy="partition": a window closes when the partition's
        # event time passes its end, as in Kafka Streams and eddy (Quix's
        # default, "key", closes a user's window only on that user's next
        # record, so a user's last windows would never come out).
        sdf = (
            sdf.tumbling_window(duration_ms=60000)
            .agg(n=Count(), total=Sum("amount"), avg=Mean("amount"))
            .final(closing_strategy="partition")
        )
    sdf.to_topic(dst)
    app.run()


def river_j3(brokers, tin, tout, group):
    from confluent_kafka import Consumer, KafkaError, Producer
    from river import drift

    c = Consumer({
        "bootstrap.servers": brokers,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "enable.partition.eof": True,
    })
    p = Producer({"bootstrap.servers": brokers, "enable.idempotence": True})
    nparts = len(c.list_topics(tin, timeout=10).topics[tin].partitions)
    c.subscribe([tin])
    dets, counts, eof = {}, {}, set()
    last_commit = time.monotonic()
    while len(eof) < nparts:
        for m in c.consume(num_messages=1000, timeout=1.0):
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    eof.add(m.partition())
                    continue
                raise SystemExit("river-j3: %s" % m.error())
            eof.discard(m.partition())
            v = json.loads(m.value())
            user = v["user"]
            d = dets.get(user)
            if d is None:
                d = dets[user] = drift.ADWIN()
            i = counts.get(user, 0)
            counts[user] = i + 1
            d.update(v["amount"])
            if d.drift_detected:
                p.produce(tout, key=m.key(),
                          value=json.dumps({"user": user, "id": v["id"], "idx": i}))
        p.poll(0)
        if time.monotonic() - last_commit > 5:  # at-least-once: outputs acked, then offsets
            p.flush()
            c.commit(asynchronous=False)
            last_commit = time.monotonic()
    p.flush()
    c.commit(asynchronous=False)
    c.close()


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[0] in ("quix-j1", "quix-j2"):
        quix(a[0][-2:], *a[1:6])
    elif a[0] == "river-j3":
        river_j3(*a[1:5])
    else:
        sys.exit("unknown app " + a[0])
