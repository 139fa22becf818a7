#!/usr/bin/env python3
"""Compares a windowed output that lived through failures with a failure-free
reference run over the same input (tests/integration/test_state.sh).

    state_check.py REFERENCE.jsonl OUTPUT.jsonl RECORDS

At-least-once: every (key, window) of the reference is present in the output,
and every emission of it carries the reference's count (never short, never
counted twice); emitting a window more than once is allowed. The reference
itself must account for every input record. Prints a one-line summary."""
import collections
import json
import sys


def windows(path):
    seen = collections.defaultdict(list)
    for line in open(path):
        if line.strip():
            r = json.loads(line)
            seen[(r["user"], r["window_start"])].append(r["n"])
    return seen


def main():
    ref, out, records = windows(sys.argv[1]), windows(sys.argv[2]), int(sys.argv[3])
    problems = []
    total = sum(v[-1] for v in ref.values())
    if total != records or any(len(v) != 1 for v in ref.values()):
        problems.append(f"the reference is not a clean run: {total} of {records} records")
    missing = [k for k in ref if k not in out]
    short = [k for k in ref if k in out and min(out[k]) < ref[k][-1]]
    over = [k for k in ref if k in out and max(out[k]) > ref[k][-1]]
    extra = [k for k in out if k not in ref]
    dups = sum(len(v) - 1 for v in out.values())
    print(f"state check: {len(ref)} windows in the reference, {len(out)} in the output, "
          f"{len(missing)} missing, {len(short)} short, {len(over)} over-counted, "
          f"{len(extra)} unknown, {dups} repeated emissions", file=sys.stderr)
    for name, ks in (("missing", missing), ("short", short), ("over", over), ("unknown", extra)):
        for k in ks[:5]:
            problems.append(f"{name}: {k} reference {ref.get(k)} output {out.get(k)}")
    for p in problems:
        print("  " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
