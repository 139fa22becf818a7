#!/usr/bin/env python3
"""Follows a running eddy worker's alerts over its admin API (GET /v1/alerts)
and prints one line per alert. Standard library only: copy it into any
program that should react to drift or anomaly alerts.

    python3 examples/alerts_poll.py http://127.0.0.1:9464 [--count N] [--timeout S]

/v1/alerts?after=SEQ returns {"next": N, "dropped": D, "alerts": [{"seq": S,
"alert": {...}}]}: the alerts newer than SEQ (the worker keeps its last 1024);
"dropped" counts alerts that were overwritten before this client asked.
Each alert follows configs/schemas/alert.avsc.

When the worker has an admin token (worker.admin.token), put it in the
environment as EDDY_ADMIN_TOKEN: it is sent as "Authorization: Bearer ...".
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request


def follow(base, count=None, timeout=None, interval=0.5):
    after, seen, start = 0, 0, time.time()
    while count is None or seen < count:
        if timeout is not None and time.time() - start > timeout:
            return seen
        req = urllib.request.Request("%s/v1/alerts?after=%d" % (base, after))
        if os.environ.get("EDDY_ADMIN_TOKEN"):
            req.add_header("Authorization", "Bearer " + os.environ["EDDY_ADMIN_TOKEN"])
        try:
            with urllib.request.urlopen(req, timeout=5) as r:
                page = json.load(r)
        except urllib.error.HTTPError as e:
            sys.exit("alerts_poll: %s answered HTTP %d: %s%s" % (
                base, e.code, e.read().decode(errors="replace").strip(),
                " (set EDDY_ADMIN_TOKEN)" if e.code == 401 else ""))
        except (urllib.error.URLError, OSError) as e:
            sys.exit("alerts_poll: cannot reach the admin server at %s: %s" % (
                base, getattr(e, "reason", e)))
        if page["dropped"]:
            print("(%d alerts dropped before they were read)" % page["dropped"], file=sys.stderr)
        for item in page["alerts"]:
            if count is not None and seen >= count:
                break  # a page holds up to 1000: stop at what was asked
            a = item["alert"]
            where = "/".join([a["pipeline"], a["feature"] or "-", a["key"] or "-"])
            print("%s %-8s %s %s=%.4g threshold=%.4g  %s" % (
                a["state"].upper(), a["severity"], where, a["statistic"], a["value"],
                a["threshold"], a["message"]), flush=True)
            seen += 1
        after = page["next"]
        if not page["alerts"]:
            time.sleep(interval)
    return seen


if __name__ == "__main__":
    args = sys.argv[1:]
    if not args or args[0].startswith("-"):
        sys.exit(__doc__)
    try:
        count = int(args[args.index("--count") + 1]) if "--count" in args else None
        timeout = float(args[args.index("--timeout") + 1]) if "--timeout" in args else None
    except (IndexError, ValueError):
        sys.exit("alerts_poll: --count takes a whole number and --timeout seconds\n" + __doc__)
    base = args[0].rstrip("/")
    if "://" not in base:  # a bare host:port, as `eddy alerts tail --admin` takes
        base = "http://" + base
    n = follow(base, count, timeout)
    sys.exit(0 if count is None or n >= count else 1)
