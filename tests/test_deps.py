#!/usr/bin/env python3
"""Checks the tree's dependency rules: which folder may include which.

The rules are the table under "## Dependency rules" in docs/ARCHITECTURE.md;
this script reads them from there, so the page and the check cannot drift
apart. For every .c/.h under the checked folders it checks each
`#include "..."`:

  * it names a file that exists from the top of the tree (one include root);
  * the including file's row of the table allows it, and the "every file"
    row does not forbid it;

and that no two checked source files share a name. Each violation is
printed as `file:line: includes X, which FOLDER may not include (rule: ...)`
and the exit status is 1 when there is any.

Usage: test_deps.py [SOURCE_ROOT]   (default: the tree this file is in)
Python 3 standard library only.
"""
import os
import re
import sys

CHECKED = ("include", "engine", "lib", "operators", "connectors", "cli")
DOC = "docs/ARCHITECTURE.md"
HEADING = "## Dependency rules"

# TEMPORARY: includes being removed by other issue-11 branches right now
# (the Kafka topic check moves behind the connector interface; the operator
# registry becomes a build-time table). The lead deletes this set when those
# branches are merged; nothing else may be added here.
TEMPORARY_EXCEPTIONS = {
}

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*"([^"]+)"')
TICK_RE = re.compile(r"`([^`]+)`")


class Rule:
    """One row of the table: the folder it covers and its patterns."""

    def __init__(self, folder, cell, line):
        self.folder = folder  # "engine/core/", a file, or None for "every file"
        self.cell = cell.strip()  # as written, for messages
        self.line = line
        tokens = TICK_RE.findall(cell)
        self.allow = [t for t in tokens if not t.startswith("!")]
        self.deny = [t[1:] for t in tokens if t.startswith("!")]


def pattern_matches(pat, target, own):
    """True when include path `target` matches `pat`, for a file in `own`."""
    if pat == "*":
        return True
    other = pat.startswith("{other}/")
    if other:
        pat = pat[len("{other}/"):]
    pat = pat.replace("{own}/", own + "/")
    if other:
        d = os.path.dirname(target)
        return d != own and pattern_matches(pat, os.path.basename(target), own)
    if pat.endswith("/"):
        return target.startswith(pat)
    rx = "".join("[^/]*" if c == "*" else re.escape(c) for c in pat)
    return re.fullmatch(rx, target) is not None


def read_rules(root):
    path = os.path.join(root, DOC)
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    try:
        start = next(i for i, l in enumerate(lines) if l.strip() == HEADING)
    except StopIteration:
        sys.exit(f"{DOC}: no '{HEADING}' section")
    rows, global_rules, in_table = [], [], False
    for i in range(start + 1, len(lines)):
        l = lines[i].strip()
        if l.startswith("## "):
            break
        if not l.startswith("|"):
            if in_table:
                break
            continue
        cells = [c.strip() for c in l.strip("|").split("|")]
        if not in_table:  # the header row, then the --- row
            in_table = True
            continue
        if set(cells[0]) <= set("-: "):
            continue
        if len(cells) < 2:
            sys.exit(f"{DOC}:{i + 1}: a rules row needs a folder and its includes")
        folder = TICK_RE.findall(cells[0])
        if cells[0].lower() == "every file":
            global_rules.append(Rule(None, cells[1], i + 1))
        elif len(folder) == 1:
            rows.append(Rule(folder[0], cells[1], i + 1))
        else:
            sys.exit(f"{DOC}:{i + 1}: first cell must be `folder/`, `file` or 'every file'")
    if not rows:
        sys.exit(f"{DOC}: no rules table under '{HEADING}'")
    return rows, global_rules


def sources(root):
    for top in CHECKED:
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith((".c", ".h")):
                    full = os.path.join(dirpath, name)
                    yield os.path.relpath(full, root).replace(os.sep, "/")


def rule_for(rows, rel):
    best = None
    for r in rows:
        covers = rel.startswith(r.folder) if r.folder.endswith("/") else rel == r.folder
        if covers and (best is None or len(r.folder) > len(best.folder)):
            best = r
    return best


def temporary(rel, target):
    return any(rel == f and target.startswith(t) for f, t in TEMPORARY_EXCEPTIONS)


def check(root):
    rows, global_rules = read_rules(root)
    bad, used_exceptions, by_name = [], set(), {}
    for rel in sources(root):
        by_name.setdefault(os.path.basename(rel), []).append(rel)
        own = os.path.dirname(rel)
        rule = rule_for(rows, rel)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            for n, text in enumerate(f, 1):
                m = INCLUDE_RE.match(text)
                if not m:
                    continue
                target = m.group(1)
                where = f"{rel}:{n}: includes {target}"
                if not os.path.isfile(os.path.join(root, target)):
                    bad.append(f"{where}, which is not a file from the top of the tree "
                               "(rule: one include root)")
                    continue
                if rule is None:
                    bad.append(f"{where}, but no row of {DOC} covers {own}/ "
                               "(rule: every checked folder has a row)")
                    continue
                denied = [g for g in global_rules
                          if any(pattern_matches(p, target, own) for p in g.deny)]
                allowed = any(pattern_matches(p, target, own) for p in rule.allow) and \
                    not any(pattern_matches(p, target, own) for p in rule.deny)
                if allowed and not denied:
                    continue
                if temporary(rel, target):
                    used_exceptions.add((rel, target))
                    continue
                if denied:
                    g = denied[0]
                    bad.append(f"{where}, which {own}/ may not include "
                               f"(rule: every file: {g.cell}; {DOC}:{g.line})")
                else:
                    bad.append(f"{where}, which {rule.folder} may not include "
                               f"(rule: {rule.folder} may include {rule.cell}; "
                               f"{DOC}:{rule.line})")
    for name, paths in sorted(by_name.items()):
        if len(paths) > 1:
            bad.append(f"{paths[1]}:1: shares its name with {', '.join(p for p in paths if p != paths[1])} "
                       "(rule: file names are unique across the tree)")
    return bad, used_exceptions


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    bad, used = check(root)
    for rel, target in sorted(used):
        print(f"note: {rel}: includes {target} (TEMPORARY exception, removed at merge)")
    for f, t in sorted(TEMPORARY_EXCEPTIONS):
        if not any(rel == f and target.startswith(t) for rel, target in used):
            print(f"note: TEMPORARY exception ({f}, {t}) is no longer needed: remove it")
    for line in bad:
        print(line)
    if bad:
        print(f"{len(bad)} dependency rule violation(s); the rules: {DOC}, '{HEADING}'")
        return 1
    print(f"dependency rules hold ({DOC}, '{HEADING}')")
    return 0


if __name__ == "__main__":
    sys.exit(main())
