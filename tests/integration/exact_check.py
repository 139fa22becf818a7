#!/usr/bin/env python3
"""Exactly-once check: an output that lived through failures equals a
failure-free reference run's output, record for record.

    exact_check.py NAME REFERENCE.jsonl OUTPUT.jsonl [RECORDS]

Both files are JSON lines (what a read_committed consumer read). They are
compared as multisets, without emitted_at (the wall clock) and worker (the
worker's name). With RECORDS, the reference's window counts (field n) must
add up to it, so a reference that missed input cannot pass. Prints a
one-line summary and the first differences."""
import collections
import json
import sys

VOLATILE = ("emitted_at", "worker")


def rows(path):
    with open(path) as f:
        return [json.loads(l) for l in f if l.strip()]


def main():
    name, ref, out = sys.argv[1], rows(sys.argv[2]), rows(sys.argv[3])
    canon = lambda rs: collections.Counter(
        json.dumps({k: v for k, v in r.items() if k not in VOLATILE}, sort_keys=True) for r in rs)
    a, b = canon(ref), canon(out)
    missing, extra = a - b, b - a
    print(f"{name}: reference {len(ref)} records, output {len(out)}, "
          f"{sum(missing.values())} missing, {sum(extra.values())} extra or repeated",
          file=sys.stderr)
    bad = bool(missing or extra or not ref)
    if len(sys.argv) > 4:
        n = sum(r.get("n", 0) for r in ref)
        if n != int(sys.argv[4]):
            print(f"  the reference counts {n} records, not {sys.argv[4]}", file=sys.stderr)
            bad = True
    for x in list(missing)[:3]:
        print(f"  missing {x}", file=sys.stderr)
    for x in list(extra)[:3]:
        print(f"  extra {x} (x{extra[x]})", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
