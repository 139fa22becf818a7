#!/usr/bin/env python3
"""Checks the monitoring kit against what a worker really exports.

    metric_names.py DASHBOARD.json RULES.yml METRICS.txt

DASHBOARD.json: deploy/grafana/eddy.json; its structure is validated
(a datasource variable; panels with that datasource, unique ids, grid
positions within 24 columns that do not overlap, targets with an expr).
Every metric name used in its queries (panels and template variables) and
in the rules' expressions must be a series name in METRICS.txt (a
worker's /metrics): a histogram is used through its _bucket/_sum/_count
series, which are what the exposition lists, so a bare histogram name is
an error like any unknown name. Recording rules' names (level:metric:ops)
count as known: their expressions are checked instead. A label matcher
after a metric name (metric{label="..."}) must name a label the metric's
series have, or job/instance (the target's).
Prints each problem, then `N names checked, N problems`; exits 1 on any.
"""
import json
import re
import sys

import yaml

# Series Prometheus makes itself, not the worker: the scrape's `up` and the
# rule engine's ALERTS.
PROMETHEUS_OWN = {"up", "ALERTS", "ALERTS_FOR_STATE"}
# PromQL words that look like identifiers but are not metric names.
# Labels Prometheus attaches to every series of a scrape target.
TARGET_LABELS = {"job", "instance"}
KEYWORDS = {"by", "without", "on", "ignoring", "group_left", "group_right", "bool", "and",
            "or", "unless", "offset", "atan2", "inf", "nan", "Inf", "NaN"}


def metric_names(expr):
    """The metric names a PromQL expression selects."""
    # Grafana variables ($job, ${datasource}, $__rate_interval) first: not PromQL.
    s = re.sub(r"\$\{?\w+\}?", " ", expr)
    # String literals (label values, label_replace arguments): their contents
    # are not names. Backslash escapes are skipped inside them.
    s = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', '""', s)
    # Label matchers {...} and range/subquery brackets [...].
    s = re.sub(r"\{[^}]*\}", " ", s)
    s = re.sub(r"\[[^\]]*\]", " ", s)
    # Label lists of grouping and vector matching: by (...), without (...),
    # on (...), ignoring (...), group_left (...), group_right (...).
    s = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", s)
    names = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)", s):
        word = m.group(1)
        rest = s[m.end():].lstrip()
        if rest.startswith("("):
            continue  # a function or an aggregation operator
        if word in KEYWORDS:
            continue
        if re.match(r"[0-9]", s[m.start() - 1:m.start()] or " "):
            continue
        names.add(word)
    return names


def selector_labels(expr):
    """(metric, label) pairs of the label matchers written after a metric
    name, e.g. eddy_sink_records_total{sink=~"..."} gives the sink label."""
    s = re.sub(r"\$\{?\w+\}?", "x", expr)
    # Strings emptied first: a label value may hold braces or commas.
    s = re.sub(r'"(?:[^"\\]|\\.)*"', '""', s)
    pairs = set()
    for m in re.finditer(r"(?<![\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}", s):
        for lm in re.finditer(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", m.group(2)):
            pairs.add((m.group(1), lm.group(1)))
    return pairs


def variable_names(query):
    """Metric names of a Grafana Prometheus template query."""
    m = re.match(r"\s*label_values\((.*),\s*\w+\s*\)\s*$", query)
    if m:
        return metric_names(m.group(1))
    m = re.match(r"\s*(?:query_result|label_names|metrics)\((.*)\)\s*$", query)
    return metric_names(m.group(1)) if m else metric_names(query)


def check_dashboard(d, problems):
    """Structure of the dashboard; returns [(where, expr)] of its queries."""
    exprs = []
    for key in ("title", "uid", "panels", "templating", "schemaVersion"):
        if key not in d:
            problems.append(f"dashboard: no '{key}'")
    variables = {v.get("name"): v for v in d.get("templating", {}).get("list", [])}
    dsv = variables.get("datasource")
    if not dsv or dsv.get("type") != "datasource" or dsv.get("query") != "prometheus":
        problems.append("dashboard: expected a template variable 'datasource' of type datasource "
                        f"for prometheus, seen {dsv}")
    for name, v in variables.items():
        if v.get("type") == "query":
            if v.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
                problems.append(f"variable {name}: datasource {v.get('datasource')}, expected the "
                                "${datasource} variable")
            q = v.get("query")
            q = q.get("query") if isinstance(q, dict) else q
            if not q:
                problems.append(f"variable {name}: no query")
            else:
                exprs.append((f"variable {name}", q, True))
    ids = {}
    placed = []
    flat = []
    for p in d.get("panels", []):
        flat.append(p)
        flat.extend(p.get("panels", []))  # panels of a collapsed row
    for p in flat:
        pid, title = p.get("id"), p.get("title", "?")
        where = f"panel {pid} '{title}'"
        if not isinstance(pid, int):
            problems.append(f"{where}: id is not an integer")
        elif pid in ids:
            problems.append(f"{where}: id {pid} already used by '{ids[pid]}'")
        else:
            ids[pid] = title
        gp = p.get("gridPos", {})
        if not all(isinstance(gp.get(k), int) for k in ("h", "w", "x", "y")) or gp["x"] + gp["w"] > 24:
            problems.append(f"{where}: gridPos {gp} is not h, w, x, y within 24 columns")
        else:
            for q in placed:  # Grafana stacks overlapping panels oddly
                qp = q["gridPos"]
                if (gp["x"] < qp["x"] + qp["w"] and qp["x"] < gp["x"] + gp["w"] and
                        gp["y"] < qp["y"] + qp["h"] and qp["y"] < gp["y"] + gp["h"]):
                    problems.append(f"{where}: overlaps panel {q.get('id')} '{q.get('title')}'")
            placed.append(p)
        if p.get("type") == "row":
            continue
        if p.get("datasource") != {"type": "prometheus", "uid": "${datasource}"}:
            problems.append(f"{where}: datasource {p.get('datasource')}, expected the ${{datasource}} variable")
        targets = p.get("targets") or []
        if not targets:
            problems.append(f"{where}: no targets")
        refs = set()
        for t in targets:
            if not t.get("expr", "").strip():
                problems.append(f"{where}: target {t.get('refId')} has no expr")
                continue
            if t.get("refId") in refs:
                problems.append(f"{where}: refId {t.get('refId')} twice")
            refs.add(t.get("refId"))
            exprs.append((f"{where} {t.get('refId')}", t["expr"], False))
    return exprs


def exported(path):
    """Series names in a Prometheus text exposition -> their label names."""
    names = {}
    for line in open(path, encoding="utf-8"):
        if line.strip() and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_:][a-zA-Z0-9_:]*", line).group(0)
            labels = names.setdefault(name, set())
            labels.update(re.findall(r'([a-zA-Z_][a-zA-Z0-9_]*)="(?:[^"\\]|\\.)*"',
                                     line[len(name):].rsplit(" ", 1)[0]))
    return names


def main(dashboard, rules, metrics):
    problems = []
    have = exported(metrics)
    exprs = check_dashboard(json.load(open(dashboard, encoding="utf-8")), problems)
    recorded = set()
    for g in yaml.safe_load(open(rules, encoding="utf-8"))["groups"]:
        for r in g["rules"]:
            name = r.get("record") or r.get("alert")
            if "record" in r:
                recorded.add(r["record"])
            exprs.append((f"rule {name}", r["expr"], False))
    used = {}
    for where, expr, is_var in exprs:
        for n in (variable_names(expr) if is_var else metric_names(expr)):
            used.setdefault(n, []).append(where)
    for n in sorted(used):
        if n in have or n in PROMETHEUS_OWN or n in recorded:
            continue
        problems.append(f"{n}: used by {', '.join(used[n][:3])}, not exported by the worker")
    # A matcher on a label the metric does not have selects nothing (or
    # everything, for != and !~): a typo that no error reveals. Prometheus
    # adds job and instance to every scraped series.
    for where, expr, _ in exprs:
        for metric, label in sorted(selector_labels(expr)):
            if metric in have and label not in have[metric] | TARGET_LABELS:
                problems.append(f"{where}: {metric} has no label '{label}' "
                                f"(its labels: {', '.join(sorted(have[metric])) or 'none'})")
    for p in problems:
        print(f"FAIL: {p}", file=sys.stderr)
    print(f"{len(used)} names checked ({len(set(used) & set(have))} exported series, "
          f"{len(set(used) & recorded)} recorded, {len(set(used) & PROMETHEUS_OWN)} Prometheus's own), "
          f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    sys.exit(main(*sys.argv[1:]))
