"""Every relative link in README.md and docs/*.md points at a file that
exists and, with #anchor, at a heading of that file (GitHub's anchors:
lower case, punctuation dropped, spaces to dashes). The guides moved from
the README to docs/ (issue 15.12); a link left behind fails here.

    python3 tests/docs_links.py ROOT
"""
import glob, os, re, sys

root = sys.argv[1]
def anchors(path):
    out = set()
    in_code = False
    for line in open(path, encoding="utf-8"):
        if line.startswith("```"):
            in_code = not in_code
        m = re.match(r"^#{1,6} (.*)$", line)
        if m and not in_code:
            a = re.sub(r"[^\w\- ]", "", m.group(1).strip().lower()).replace(" ", "-")
            out.add(a)
    return out

bad = 0
files = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
for f in files:
    text = open(f, encoding="utf-8").read()
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+://|^mailto:", target):
            continue
        path, _, frag = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(f), path)) if path else f
        if not os.path.exists(dest):
            print("%s: link to %s: no such file" % (os.path.relpath(f, root), target))
            bad += 1
        elif frag and dest.endswith(".md") and frag not in anchors(dest):
            print("%s: link to %s: no heading #%s there" % (os.path.relpath(f, root), target, frag))
            bad += 1
print("%d broken link(s) in %d files" % (bad, len(files)))
sys.exit(1 if bad else 0)
