"""eddy-client (also python -m eddy_client): alerts from a topic or a
worker, and served features, on the command line. Like `eddy alerts tail`
and `eddy features get`, it prints sentences, never tracebacks: every
error this package knows is an EddyError, printed as it is."""
from __future__ import annotations

import argparse
import json
import sys
from typing import Iterator, List, Optional

from .admin import AdminClient
from .alert import Alert
from .errors import AlertDecodeError, EddyError

PROG = "eddy-client"
EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
Reads eddy's drift and anomaly alerts, from a Kafka topic (a step's
`outputs: { alerts: ... }`, JSON or Avro) or from a running worker's admin
server (GET /v1/alerts), and the features a worker serves.

  eddy-client alerts TOPIC --brokers HOST:PORT [--format avro] [-f] [-n N]
  eddy-client alerts --admin HOST:PORT [-f] [-n N]
  eddy-client features --admin HOST:PORT VIEW ENTITY

The admin token, when the worker has one, is read from EDDY_ADMIN_TOKEN,
and the CA file of an https:// server from EDDY_ADMIN_CACERT.
Exit codes: 0 done (or interrupted), 1 failed (or fewer than --count
alerts before --timeout), 2 usage."""


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog=PROG, description=DESCRIPTION,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="command", required=True, metavar="{alerts,features}")
    a = sub.add_parser("alerts", help="print alerts, one line (or JSON object) each",
                       description="Without -f: the alerts present now, then exit. With -f: "
                       "also the new ones as they come.")
    a.add_argument("topic", nargs="?", help="the alert topic (omit with --admin)")
    a.add_argument("--brokers", default="localhost:9092", help="Kafka bootstrap servers")
    a.add_argument("--format", choices=["json", "avro"], default="json", help="value format")
    a.add_argument("--schema", help="Avro schema file (default: the alert schema shipped with the client)")
    a.add_argument("--framing", choices=["auto", "plain", "confluent"], default="auto",
                   help="Avro framing; auto tells them apart by the first byte")
    a.add_argument("--group", help="consumer group to join (default: none, nothing committed)")
    a.add_argument("--from-beginning", action="store_true",
                   help="with -f, start at the oldest retained alert")
    a.add_argument("--admin", metavar="URL", help="a worker's admin server instead of a topic")
    a.add_argument("--after", type=int, default=0, metavar="SEQ",
                   help="with --admin, only alerts after this sequence number")
    a.add_argument("-f", "--follow", action="store_true", help="keep waiting for new alerts")
    a.add_argument("-n", "--count", type=int, help="stop after N alerts")
    a.add_argument("--timeout", type=float, metavar="SECONDS",
                   help="stop after this long without a new alert")
    a.add_argument("--json", action="store_true", help="each alert as its JSON object")
    f = sub.add_parser("features", help="print an entity's served features")
    f.add_argument("--admin", metavar="URL", required=True, help="the worker's admin server")
    f.add_argument("view")
    f.add_argument("entity")
    f.add_argument("--json", action="store_true", help="the whole answer as JSON")
    return p


def _alerts(args: argparse.Namespace) -> Iterator[Alert]:
    def skip(e: AlertDecodeError) -> None:
        print("ERROR %s" % e, file=sys.stderr, flush=True)

    if args.admin:
        client = AdminClient.from_env(args.admin)
        # Without -f: what the worker holds now (one empty answer ends it).
        timeout = args.timeout if args.follow else 0.0
        return client.follow_alerts(args.after, args.count, timeout,
                                    on_dropped=lambda n: print(
                                        "%s: %d alerts were overwritten in the worker's ring "
                                        "before they could be read" % (PROG, n), file=sys.stderr))
    from .kafka import follow_kafka
    return follow_kafka(args.topic, args.brokers, format=args.format, schema=args.schema,
                        framing=args.framing, group=args.group,
                        from_beginning=args.from_beginning or not args.follow,
                        count=args.count, timeout=args.timeout, stop_at_end=not args.follow,
                        on_error=skip)


def _run_alerts(args: argparse.Namespace) -> int:
    n = 0
    for alert in _alerts(args):
        print(alert.to_json() if args.json else alert.line(), flush=True)
        n += 1
    if args.count is not None and n < args.count:
        print("%s: %d of %d alerts read before %s" % (
            PROG, n, args.count, "the end" if not args.follow else "--timeout"), file=sys.stderr)
        return EXIT_FAIL
    return EXIT_OK


def _run_features(args: argparse.Namespace) -> int:
    row = AdminClient.from_env(args.admin).features(args.view, args.entity)
    if args.json:
        print(json.dumps({"view": row.view, "entity": row.entity, "event_time": row.event_time,
                          "age_ms": row.age_ms, "features": row.features}))
    else:
        for name, value in row.features.items():
            print("%s\t%s" % (name, json.dumps(value)))
    return EXIT_OK


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "alerts":
        if bool(args.topic) == bool(args.admin):
            print("%s alerts: give either a TOPIC or --admin URL" % PROG, file=sys.stderr)
            return EXIT_USAGE
        if args.count is not None and args.count < 1:
            print("%s alerts: --count must be at least 1" % PROG, file=sys.stderr)
            return EXIT_USAGE
    try:
        return _run_alerts(args) if args.command == "alerts" else _run_features(args)
    except EddyError as e:
        print("%s: %s" % (PROG, e), file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        return EXIT_OK
    except BrokenPipeError:  # `eddy-client alerts ... | head`
        sys.stderr.close()
        return EXIT_OK
