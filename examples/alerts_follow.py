#!/usr/bin/env python3
"""Follows eddy's drift and anomaly alerts with the Python client
(clients/python, `pip install 'clients/python[kafka]'`) and hands each to
handle(): replace its body with what your program does about an alert.

    python3 examples/alerts_follow.py --brokers HOST:PORT --topic drift.alerts [--format avro]
    python3 examples/alerts_follow.py --admin 127.0.0.1:9464
      [--from-beginning] [--group G] [--count N] [--timeout S] [--json]

From a topic it reads the values a step's `outputs: { alerts: ... }`
writes: JSON, or Avro (plain or Confluent wire format, told apart by
itself). From a worker it polls GET /v1/alerts, with the admin token from
EDDY_ADMIN_TOKEN. Exits 1 with one sentence when it cannot read, or when
--count alerts did not come within --timeout seconds of quiet.
"""
from __future__ import annotations

import argparse
import sys
from typing import Iterator

try:
    from eddy_client import AdminClient, Alert, EddyError, follow_kafka
except ImportError:
    sys.exit("alerts_follow: needs the eddy Python client: pip install 'clients/python[kafka]'")


def handle(alert: Alert, as_json: bool) -> None:
    """React to one alert. Here: print it; a real program might page on
    alert.severity == "critical" while alert.firing, or retrain a model."""
    print(alert.to_json() if as_json else alert.line(), flush=True)


def alerts(args: argparse.Namespace) -> Iterator[Alert]:
    if args.admin:
        return AdminClient.from_env(args.admin).follow_alerts(
            count=args.count, timeout=args.timeout)
    return follow_kafka(args.topic, args.brokers, format=args.format, group=args.group,
                        from_beginning=args.from_beginning, count=args.count,
                        timeout=args.timeout)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--brokers", default="localhost:9092")
    p.add_argument("--topic")
    p.add_argument("--format", choices=["json", "avro"], default="json")
    p.add_argument("--group", help="consumer group (default: none)")
    p.add_argument("--from-beginning", action="store_true")
    p.add_argument("--admin", help="a worker's admin server instead of a topic")
    p.add_argument("--count", type=int, help="stop after N alerts")
    p.add_argument("--timeout", type=float, help="stop after S seconds without an alert")
    p.add_argument("--json", action="store_true", help="print alerts as JSON lines")
    args = p.parse_args()
    if bool(args.topic) == bool(args.admin):
        p.error("give either --topic (with --brokers) or --admin")
    seen = 0
    try:
        for alert in alerts(args):
            handle(alert, args.json)
            seen += 1
    except EddyError as e:
        print("alerts_follow: %s" % e, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    if args.count is not None and seen < args.count:
        print("alerts_follow: %d of %d alerts within the timeout" % (seen, args.count),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
