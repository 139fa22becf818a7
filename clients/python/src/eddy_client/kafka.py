"""Alerts from the Kafka topic a step's `outputs: { alerts: ... }` writes
(docs/DRIFT.md), through confluent-kafka. Values are JSON (`format: json`)
or Avro (`format: avro`, plain or with `confluent: true`); see avro.py."""
from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, Literal, Mapping, Optional, Set, Union

from .alert import Alert, decode_json_alert
from .avro import AvroAlertDecoder, Framing
from .errors import AlertDecodeError, EddyError, KafkaReadError

Format = Literal["json", "avro"]

# librdkafka's own log (connection failures, retries) goes to this logger
# rather than straight to stderr: a program sees it only when it configures
# logging, and what stops the reader is raised as a KafkaReadError anyway.
log = logging.getLogger("eddy_client.kafka")
log.addHandler(logging.NullHandler())


def _kafka() -> Any:
    try:
        import confluent_kafka
    except ImportError:
        raise EddyError("reading alerts from Kafka needs confluent-kafka: "
                        "pip install 'eddy-client[kafka]'") from None
    return confluent_kafka


def follow_kafka(topic: str, brokers: str = "localhost:9092", *, format: Format = "json",
                 schema: Union[str, Path, None] = None, framing: Framing = "auto",
                 group: Optional[str] = None, from_beginning: bool = False,
                 count: Optional[int] = None, timeout: Optional[float] = None,
                 stop_at_end: bool = False, connect_timeout: float = 10.0,
                 config: Optional[Mapping[str, Any]] = None,
                 on_error: Optional[Callable[[AlertDecodeError], None]] = None) -> Iterator[Alert]:
    """Alerts of `topic`, in each partition's order.

    group: a consumer group to join (offsets committed as usual, so a
    restarted reader goes on where it stopped; from_beginning then only
    applies while the group has no committed offset). Without a group
    every partition is read, joining no group and committing nothing.
    from_beginning: start at the oldest retained alert, else at the end
    (new alerts only).

    Stops after `count` alerts, after `timeout` seconds without one, or,
    with stop_at_end, once every partition is read up to its end. `config`
    adds librdkafka properties (security.protocol, sasl.*, ...).

    A record that is not an alert raises AlertDecodeError, which names the
    topic, partition and offset; with on_error it is handed to it and
    skipped instead."""
    ck = _kafka()
    if format == "json":
        decode: Callable[[bytes, str, Optional[bool]], Alert] = (
            lambda b, where, _confluent: decode_json_alert(b, where))
    elif format == "avro":
        decode = AvroAlertDecoder(schema, framing).decode
    else:
        raise EddyError("alert format '%s': expected json or avro" % format)
    conf: Dict[str, Any] = {
        "bootstrap.servers": brokers,
        # Without a group the id is only a name: nothing joins or commits.
        "group.id": group or "eddy-client",
        "enable.auto.commit": group is not None,
        "auto.offset.reset": "earliest" if from_beginning else "latest",
        "enable.partition.eof": True,
        "logger": log,
    }
    conf.update(config or {})
    try:
        consumer = ck.Consumer(conf)
    except ck.KafkaException as e:
        raise KafkaReadError(topic, brokers, "bad consumer configuration: %s" % _reason(e)) from None
    try:
        nparts = _partitions(ck, consumer, topic, brokers, connect_timeout)
        if group is not None:
            consumer.subscribe([topic])
        else:
            start = ck.OFFSET_BEGINNING if from_beginning else ck.OFFSET_END
            consumer.assign([ck.TopicPartition(topic, p, start) for p in range(nparts)])
        yield from _read(ck, consumer, topic, brokers, decode, nparts, count, timeout,
                         stop_at_end, on_error)
    finally:
        consumer.close()


def _reason(e: BaseException) -> str:
    """KafkaException carries a KafkaError, whose str() is the sentence."""
    err: Any = e.args[0] if e.args else None
    return str(err.str()) if err is not None and hasattr(err, "str") else str(e)


def _partitions(ck: Any, consumer: Any, topic: str, brokers: str, wait: float) -> int:
    """The topic's partition count; a missing topic or unreachable brokers
    is an error now, not an endless wait."""
    try:
        md = consumer.list_topics(topic, timeout=wait)
    except ck.KafkaException as e:
        raise KafkaReadError(topic, brokers, "no answer from the brokers within %gs (%s)"
                             % (wait, _reason(e))) from None
    t = md.topics.get(topic)
    err = t.error if t is not None else None
    if t is None or err is not None:
        why = str(err.str()) if err is not None else "unknown topic"
        raise KafkaReadError(topic, brokers, "the topic does not exist or cannot be described (%s)" % why)
    return len(t.partitions)


def _read(ck: Any, consumer: Any, topic: str, brokers: str,
          decode: Callable[[bytes, str, Optional[bool]], Alert], nparts: int,
          count: Optional[int], timeout: Optional[float], stop_at_end: bool,
          on_error: Optional[Callable[[AlertDecodeError], None]]) -> Iterator[Alert]:
    seen = 0
    at_end: Set[int] = set()
    last_news = time.monotonic()
    # Errors that will not go away by waiting; librdkafka retries the rest
    # (a broker restarting, a leader moving).
    hard = {ck.KafkaError.UNKNOWN_TOPIC_OR_PART, ck.KafkaError.TOPIC_AUTHORIZATION_FAILED,
            ck.KafkaError.GROUP_AUTHORIZATION_FAILED, ck.KafkaError._AUTHENTICATION}
    while count is None or seen < count:
        if timeout is not None and time.monotonic() - last_news >= timeout:
            return
        msg = consumer.poll(0.2 if timeout is None else max(0.0, min(0.2, timeout)))
        if msg is None:
            continue
        err = msg.error()
        if err is not None:
            if err.code() == ck.KafkaError._PARTITION_EOF:
                at_end.add(msg.partition())
                if stop_at_end and len(at_end) >= nparts:
                    return
                continue
            if err.fatal() or err.code() in hard:
                raise KafkaReadError(topic, brokers, err.str())
            continue
        at_end.discard(msg.partition())
        where = "%s [%d] offset %d" % (msg.topic(), msg.partition(), msg.offset())
        value = msg.value()
        try:
            if value is None:
                raise AlertDecodeError(where, "no value (tombstone)")
            alert = decode(value, where, _confluent_header(msg.headers()))
        except AlertDecodeError as e:
            if on_error is None:
                raise
            on_error(e)
            continue
        seen += 1
        last_news = time.monotonic()
        yield alert


def _confluent_header(headers: Optional[Any]) -> Optional[bool]:
    """True when eddy's sink said it wrote the Confluent framing (header
    eddy.schema_id), else None: the decoder's own framing decides."""
    for name, _value in headers or ():
        if name == "eddy.schema_id":
            return True
    return None
