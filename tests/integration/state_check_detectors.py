#!/usr/bin/env python3
"""Compares detector outputs that lived through failures with a failure-free
reference run over the same input (tests/integration/test_state_detectors.sh).

    state_check_detectors.py [--exact] DIR RECORDS

DIR holds sd-drift, sd-anom, sd-alerts, sd-dist (distribution_drift's
alerts), sd-win (windows), sd-anom-alerts (the ensemble's alerts) and their
-ref twins (sd-anom-ref-alerts) as JSON lines.
--exact (exactly-once): every output equals its reference as a multiset of
records, without the fields that differ between any two runs (emitted_at:
the wall clock; worker: the worker's name).
At-least-once: every input record (its id) is in the output, and every copy
of it carries the reference's values (drift_signal and drift_n; z_score), so
a detector that lost, reset or double-counted its state shows. Alerts: the
distinct (alert_id, state, key) set equals the reference's: a restart must
neither fire an alert again (a new id) nor forget a firing one. Prints a
one-line summary per output."""
import collections
import json
import os
import sys


def rows(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def compare(name, ref, out, fields, records, problems):
    want = {}
    for r in ref:
        want[r["id"]] = tuple(r.get(f) for f in fields)
    if len(want) != records or len(ref) != records:
        problems.append(f"{name}: the reference is not a clean run: {len(ref)} rows, "
                        f"{len(want)} ids of {records}")
    got = collections.defaultdict(list)
    for r in out:
        got[r["id"]].append(tuple(r.get(f) for f in fields))
    missing = [i for i in want if i not in got]
    differ = [i for i in want if i in got and any(v != want[i] for v in got[i])]
    dups = sum(len(v) - 1 for v in got.values())
    print(f"{name}: {len(want)} reference records, {len(out)} output rows, {len(missing)} "
          f"missing, {len(differ)} with other values, {dups} repeated", file=sys.stderr)
    for i in missing[:3]:
        problems.append(f"{name}: missing id {i}")
    for i in differ[:5]:
        problems.append(f"{name}: id {i}: reference {want[i]} output {got[i]}")


def alerts(name, ref, out, problems):
    def keyset(rs):
        return {(r["alert_id"], r["state"], r.get("key")) for r in rs}
    a, b = keyset(ref), keyset(out)
    firing_ref = sum(1 for r in ref if r["state"] == "firing")
    firing_out = len({r["alert_id"] for r in out if r["state"] == "firing"})
    print(f"{name}: {firing_ref} firing in the reference, {firing_out} distinct firing ids in "
          f"the output ({len(out)} alert rows), {len(a - b)} missing, {len(b - a)} unknown",
          file=sys.stderr)
    if not ref:
        problems.append(f"{name}: the reference fired none: the check would prove nothing")
    if a != b:
        for x in sorted(a - b)[:3]:
            problems.append(f"{name}: missing {x}")
        for x in sorted(b - a)[:3]:
            problems.append(f"{name}: unknown {x}")


def windows(name, ref, out, records, problems):
    want = {(r["user"], r["window_start"]): r["n"] for r in ref}
    if sum(want.values()) != records or len(want) != len(ref):
        problems.append(f"{name}: the reference is not a clean run: {sum(want.values())} of "
                        f"{records} records in {len(ref)} rows")
    got = collections.defaultdict(list)
    for r in out:
        got[(r["user"], r["window_start"])].append(r["n"])
    missing = [k for k in want if k not in got]
    short = [k for k in want if k in got and min(got[k]) < want[k]]
    over = [k for k in want if k in got and max(got[k]) > want[k]]
    print(f"{name}: {len(want)} reference windows, {len(out)} output rows, {len(missing)} "
          f"missing, {len(short)} short, {len(over)} over-counted", file=sys.stderr)
    for k in (missing + short + over)[:5]:
        problems.append(f"{name}: {k}: reference {want[k]} output {got.get(k)}")


VOLATILE = ("emitted_at", "worker")


def exact(name, ref, out, problems):
    def canon(rs):
        return collections.Counter(
            json.dumps({k: v for k, v in r.items() if k not in VOLATILE}, sort_keys=True)
            for r in rs)
    a, b = canon(ref), canon(out)
    missing, extra = a - b, b - a
    print(f"{name}: {len(ref)} reference records, {len(out)} read_committed records, "
          f"{sum(missing.values())} missing, {sum(extra.values())} extra or repeated",
          file=sys.stderr)
    if not ref:
        problems.append(f"{name}: the reference is empty: the check would prove nothing")
    for x in list(missing)[:3]:
        problems.append(f"{name}: missing {x}")
    for x in list(extra)[:3]:
        problems.append(f"{name}: extra {x} (x{extra[x]})")


def main():
    args = sys.argv[1:]
    strict = args[:1] == ["--exact"]
    if strict:
        args = args[1:]
    d, records = args[0], int(args[1])
    problems = []
    p = lambda n: rows(os.path.join(d, n + ".jsonl"))
    if strict:
        for name, topic in (("drift", "sd-drift"), ("anomaly", "sd-anom"), ("windows", "sd-win"),
                            ("adwin alerts", "sd-alerts"),
                            ("distribution_drift alerts", "sd-dist")):
            exact(name, p(topic + "-ref"), p(topic), problems)
        exact("ensemble alerts", p("sd-anom-ref-alerts"), p("sd-anom-alerts"), problems)
        if sum(r["n"] for r in p("sd-win-ref")) != records:
            problems.append("windows: the reference does not count every record")
        for x in problems:
            print("  " + x, file=sys.stderr)
        return 1 if problems else 0
    ref = p("sd-drift-ref")
    if not any(r.get("drift_signal") == "change" for r in ref):
        problems.append("drift: the reference has no change: the check would prove nothing")
    compare("drift", ref, p("sd-drift"), ("user", "drift_signal", "drift_n"), records, problems)
    compare("anomaly", p("sd-anom-ref"), p("sd-anom"), ("user", "z_score"), records, problems)
    windows("windows", p("sd-win-ref"), p("sd-win"), records, problems)
    alerts("adwin alerts", p("sd-alerts-ref"), p("sd-alerts"), problems)
    alerts("ensemble alerts", p("sd-anom-ref-alerts"), p("sd-anom-alerts"), problems)
    alerts("distribution_drift alerts", p("sd-dist-ref"), p("sd-dist"), problems)
    for x in problems:
        print("  " + x, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
