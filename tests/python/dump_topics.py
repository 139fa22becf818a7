"""dump_topics.py BROKERS DIR TOPIC...: writes every value of each topic
(from the beginning to the end present now) to DIR/TOPIC.hex, one message
a line in hex: the raw bytes eddy's sink produced, for the client's fixture
tests (clients/python/tests/test_fixtures.py)."""
import os
import sys

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, TopicPartition


def dump(brokers: str, topic: str, path: str) -> int:
    c = Consumer({"bootstrap.servers": brokers, "group.id": "dump-topics",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    try:
        parts = c.list_topics(topic, timeout=30).topics[topic].partitions
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        values, ended = [], set()
        while len(ended) < len(parts):
            m = c.poll(30)
            if m is None:
                sys.exit("dump_topics: no message and no end of %s within 30 s" % topic)
            if m.error():
                if m.error().code() == KafkaError._PARTITION_EOF:
                    ended.add(m.partition())
                    continue
                sys.exit("dump_topics: %s: %s" % (topic, m.error().str()))
            values.append((m.partition(), m.offset(), m.value() or b""))
    finally:
        c.close()
    with open(path, "w") as f:
        for _p, _o, v in sorted(values):
            f.write(v.hex() + "\n")
    return len(values)


if __name__ == "__main__":
    brokers, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for t in sys.argv[3:]:
        print("%s: %d values" % (t, dump(brokers, t, os.path.join(out, t + ".hex"))))
