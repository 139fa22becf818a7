#!/usr/bin/env bash
# The Debian package of this build (scripts/package.sh) and the systemd unit
# in it (issue 15, deployment): contents and control fields, lintian,
# systemd-analyze verify, the plugin kit against the packaged header, and a
# SIGTERM drain of the packaged binary within the unit's TimeoutStopSec.
# scripts/release-check.sh installs the same package in a fresh Debian.
. "$(dirname "$0")/../integration/lib.sh"

for t in dpkg-deb lintian systemd-analyze make cc pkg-config; do
    command -v "$t" >/dev/null || { echo "FAIL: $t is missing (scripts/setup.sh installs it)" >&2; exit 1; }
done

# 1. The package: its name and version are meson.build's project version,
#    which is what the binary says.
version=$(meson introspect --projectinfo "$SRC/meson.build" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
arch=$(dpkg --print-architecture)
if ! deb=$("$SRC/scripts/package.sh" "$BUILD" "$TMP/out" 2>"$TMP/package.err"); then
    bad "scripts/package.sh failed: $(cat "$TMP/package.err")"
    finish
fi
check "the package is eddy_${version}_$arch.deb (got $deb)" [ "$deb" = "$TMP/out/eddy_${version}_$arch.deb" ]
check "\`eddy version\` says $version too ($("$EDDY" version | head -1))" [ "$("$EDDY" version | head -1)" = "eddy $version" ]
# Reproducible: the same build packaged again gives the same bytes.
deb2=$("$SRC/scripts/package.sh" "$BUILD" "$TMP/out2" 2>&1)
check "packaging the same build twice gives the same .deb ($(sha256sum "$deb" "$deb2" 2>&1 | cut -c1-16 | tr '\n' ' '))" cmp -s "$deb" "$deb2"
field() { dpkg-deb -f "$deb" "$1"; }
check "Package: eddy (got $(field Package))" [ "$(field Package)" = eddy ]
check "Version: $version (got $(field Version))" [ "$(field Version)" = "$version" ]
check "Architecture: $arch (got $(field Architecture))" [ "$(field Architecture)" = "$arch" ]

# Depends names the package of every shared library the binary needs
# (found here from the binary's NEEDED entries, independently of
# dpkg-shlibdeps), and no service eddy only talks to.
depends=$(field Depends)
for so in $(objdump -p "$EDDY" | awk '$1 == "NEEDED" { print $2 }'); do
    # The library as the dynamic linker resolves it, then its package.
    # (the dynamic linker itself is listed by its path, without "=>").
    path=$(ldd "$EDDY" | awk -v so="$so" '$1 == so { print $3 } $1 ~ "/" so "$" { print $1 }')
    pkg=$(dpkg -S "$(readlink -f "$path")" 2>/dev/null | head -1 | cut -d: -f1)
    [ -z "$pkg" ] && pkg=$(dpkg -S "$path" 2>/dev/null | head -1 | cut -d: -f1)
    case ", $depends" in
        *", $pkg "* | *", $pkg,"* | *", $pkg") ok ;;
        *) bad "Depends lacks $pkg (for $so at $path); Depends: $depends" ;;
    esac
done
names=$(echo "$depends" | tr ',' '\n' | awk '{ print $1 }')
services=$(echo "$names" | grep -E '^(redis-server|redis|kafka.*|openjdk.*|default-jre.*)$')
check "Depends names no service eddy only talks to (Redis, Kafka, Java; got: $services)" [ -z "$services" ]

# 2. Contents: what `meson install` installs plus deploy/.
dpkg-deb -c "$deb" | awk '{ print $6 }' | sed 's|^\./|/|' >"$TMP/contents"
for f in /usr/bin/eddy /usr/include/eddy/operator.h \
    "/usr/lib/$(gcc -print-multiarch)/pkgconfig/eddy-operator.pc" \
    /usr/share/eddy/operator-template/Makefile /usr/share/eddy/operator-template/scale.c \
    /usr/share/eddy/schemas/alert.avsc /usr/share/eddy/examples/quickstart.yaml \
    /usr/share/eddy/examples/features.yaml /usr/share/eddy/examples/drift.yaml \
    /usr/share/eddy/examples/anomaly.yaml /usr/share/man/man1/eddy.1.gz \
    /lib/systemd/system/eddy.service /lib/systemd/system/eddy@.service \
    /etc/eddy/eddy.yaml /usr/share/doc/eddy/copyright /usr/share/doc/eddy/changelog.Debian.gz; do
    check "the package holds $f" grep -qxF "$f" "$TMP/contents"
done
bad_paths=$(grep -E '^/usr/local|^/home|^/tmp|^/root' "$TMP/contents" | head -3)
check "nothing under /usr/local, /home, /tmp or /root (got: $bad_paths)" [ -z "$bad_paths" ]
dpkg-deb -e "$deb" "$TMP/control"
check "/etc/eddy/eddy.yaml is a conffile (conffiles: $(tr '\n' ' ' <"$TMP/control/conffiles"))" \
    [ "$(cat "$TMP/control/conffiles")" = /etc/eddy/eddy.yaml ]
dpkg-deb -c "$deb" | awk '$2 != "root/root" { print }' >"$TMP/owners"
check "every file is root's ($(head -2 "$TMP/owners"))" [ ! -s "$TMP/owners" ]
check "the copyright file says Apache-2.0" grep -q '^License: Apache-2.0$' <(dpkg-deb --fsys-tarfile "$deb" | tar -xO ./usr/share/doc/eddy/copyright)

# lintian: no errors or warnings (its info-level notes are allowed).
lintian --no-tag-display-limit "$deb" >"$TMP/lintian" 2>&1
grep -E '^[EW]: ' "$TMP/lintian" >"$TMP/lintian.bad"
check "lintian reports no error or warning ($(head -5 "$TMP/lintian.bad" | tr '\n' '|'))" [ ! -s "$TMP/lintian.bad" ]

# 3. The installed tree: the man page lists every command of `eddy --help`
#    and every exit code of docs/CLI.md.
root=$TMP/root
dpkg-deb -x "$deb" "$root"
zcat "$root/usr/share/man/man1/eddy.1.gz" >"$TMP/eddy.1"
python3 - "$TMP/eddy.1" "$SRC/docs/CLI.md" <("$EDDY" --help) >"$TMP/man.check" <<'PY'
import re, sys
man, cli, helptext = (open(p).read() for p in sys.argv[1:])
sections = dict(re.findall(r'^\.SH ([A-Z ]+)\n(.*?)(?=^\.SH |\Z)', man, re.M | re.S))
def items(sec):
    """The first words of each .TP item of a man page section."""
    lines = sections.get(sec, "").split("\n")
    out = []
    for i, l in enumerate(lines[:-1]):
        if l == ".TP":
            t = re.sub(r'\\f[BIRP]|\\-', '', lines[i + 1])
            t = re.sub(r'^\.[BIR]+ ', '', t).replace('"', '')
            out.append(" ".join(t.split()[:2]))
    return out
cmds = items("COMMANDS")
codes = [i.split()[0] for i in items("EXIT STATUS")]
want_cmds = re.findall(r'^  (\w+)', helptext.split("commands:")[1], re.M)
want_codes = re.findall(r'^\| (\d+|128\+N) \|', cli, re.M)
want_codes += re.findall(r'(\d+) [a-z]', helptext.split("Exit codes:")[1])
missing = [c for c in want_cmds if not any(x.split()[0] == c for x in cmds)]
missing += ["exit " + c for c in sorted(set(want_codes)) if c not in codes]
print("expected commands %s and exit codes %s; the man page has %s and %s; missing: %s"
      % (want_cmds, sorted(set(want_codes)), cmds, codes, missing or "none"))
sys.exit(1 if missing or not want_cmds or not want_codes else 0)
PY
check "eddy(1) lists the commands and exit codes: $(cat "$TMP/man.check")" [ "$(tail -c 5 "$TMP/man.check")" = none ]

# The plugin kit of the package builds the template (the header comes from
# the package: pkg-config with the extracted tree as sysroot) and the
# packaged binary loads the plugin.
cp -r "$root/usr/share/eddy/operator-template" "$TMP/tpl"
export PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1
export PKG_CONFIG_LIBDIR=$root/usr/lib/$(gcc -print-multiarch)/pkgconfig
check "the packaged template builds with the packaged kit (cflags $(pkg-config --cflags eddy-operator))" \
    make -s -C "$TMP/tpl"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_ALLOW_SYSTEM_CFLAGS PKG_CONFIG_LIBDIR
"$root/usr/bin/eddy" describe --plugin-dir "$TMP/tpl" scale >"$TMP/scale" 2>&1
check "and the packaged eddy loads it ($(head -1 "$TMP/scale"))" grep -q '^operator `scale`' "$TMP/scale"

# 4. The systemd units: systemd-analyze verify, with ExecStart pointing at
#    the extracted binary (verify checks that it is executable) and the
#    packaged man page on MANPATH (it checks Documentation=man:eddy(1) too).
#    A unit with a missing binary must fail, or the check proves nothing.
unit=$root/lib/systemd/system/eddy.service
mkdir -p "$TMP/units"
for u in eddy.service eddy@.service; do
    sed "s|/usr/bin/eddy|$root/usr/bin/eddy|g" "$root/lib/systemd/system/$u" >"$TMP/units/$u"
done
(cd "$TMP/units" && MANPATH=$root/usr/share/man systemd-analyze verify ./eddy.service ./eddy@test.service) >"$TMP/verify" 2>&1
vrc=$?
check "systemd-analyze verify passes the units (exit $vrc: $(head -5 "$TMP/verify" | tr '\n' '|'))" [ "$vrc" = 0 ]
mkdir -p "$TMP/units-bad"
sed 's|^ExecStart=.*|ExecStart=/nonexistent/eddy run|' "$TMP/units/eddy.service" >"$TMP/units-bad/eddy.service"
(cd "$TMP/units-bad" && MANPATH=$root/usr/share/man systemd-analyze verify ./eddy.service) >"$TMP/verify-bad" 2>&1
check "and refuses one whose binary is missing ($(head -1 "$TMP/verify-bad"))" grep -q 'not executable' "$TMP/verify-bad"
for d in 'ExecStart=/usr/bin/eddy run -c /etc/eddy/eddy.yaml' DynamicUser=yes ProtectSystem=strict \
    NoNewPrivileges=yes StateDirectory=eddy ProtectHome=yes PrivateTmp=yes Restart=on-failure; do
    check "eddy.service sets $d" grep -qxF "$d" "$unit"
done
check "eddy@.service runs /etc/eddy/%i.yaml" grep -qxF 'ExecStart=/usr/bin/eddy run -c /etc/eddy/%i.yaml' "$root/lib/systemd/system/eddy@.service"

# 5. SIGTERM drain: systemd kills what has not ended TimeoutStopSec after
#    its SIGTERM, so eddy's own drain deadline (worker.shutdown_timeout)
#    must be shorter, and a drain must end well within it with the output
#    flushed.
to_s() { # systemd/eddy duration -> seconds (s, ms, min; a bare number is s for systemd)
    python3 -c '
import re, sys
m = re.fullmatch(r"([0-9.]+)\s*(ms|s|min|m)?", sys.argv[1].strip())
print(float(m.group(1)) * {"ms": 0.001, "s": 1, None: float(sys.argv[2]), "min": 60, "m": 60}[m.group(2)])' "$1" "$2"
}
stop=$(sed -n 's/^TimeoutStopSec=//p' "$unit")
stop_s=$(to_s "$stop" 1)
shutdown=$("$EDDY" describe worker | awk '$1 == "shutdown_timeout" { print $3 }')
shutdown_s=$(to_s "$shutdown" 0.001)
check "the unit's TimeoutStopSec ($stop = ${stop_s}s) is longer than eddy's default drain deadline (shutdown_timeout $shutdown = ${shutdown_s}s)" \
    python3 -c "import sys; sys.exit(0 if $stop_s > $shutdown_s else 1)"

# A generator writing consecutive numbers to a file sink that buffers
# (flush: false holds up to 1 MiB), relative to the config's folder as under
# systemd: the drain has to flush what the buffer holds.
port=$(free_port)
mkdir -p "$TMP/etc/eddy" "$TMP/cwd"
cat >"$TMP/etc/eddy/eddy.yaml" <<Y
worker: { name: drain, admin: { listen: "127.0.0.1:$port" } }
sources:
  - { name: g, type: generator, rate: 4000, fields: { i: "seq()" } }
pipelines:
  - { name: p, from: g, to: [ { name: out, type: file, path: out.jsonl, flush: false } ] }
Y
(cd "$TMP/cwd" && exec "$root/usr/bin/eddy" run -c ../etc/eddy/eddy.yaml) >"$TMP/drain.log" 2>&1 &
pid=$!
pids+=("$pid")
written=0
for _ in $(seq 1 300); do
    written=$(curl -s "http://127.0.0.1:$port/metrics" 2>/dev/null |
        awk '/^eddy_sink_records_total\{/ { n += $2 } END { print n + 0 }')
    [ "${written%.*}" -ge 2000 ] 2>/dev/null && break
    sleep 0.1
done
check "the sink wrote records before the SIGTERM (eddy_sink_records_total $written)" [ "${written%.*}" -ge 2000 ]
before=$(wc -c <"$TMP/etc/eddy/out.jsonl" 2>/dev/null || echo 0)
t0=$(date +%s.%N)
kill -TERM "$pid"
code=""
deadline=$(python3 -c "print(int($stop_s * 10))")
for _ in $(seq 1 "$deadline"); do
    if ! kill -0 "$pid" 2>/dev/null; then wait "$pid"; code=$?; break; fi
    sleep 0.1
done
took=$(python3 -c "print(round($(date +%s.%N) - $t0, 2))")
check "SIGTERM: the packaged eddy exits 0 within TimeoutStopSec (exit '${code:-still running after ${stop_s}s}', ${took}s)" [ "$code" = 0 ]
check "it says it drained ($(tail -2 "$TMP/drain.log" | tr '\n' '|'))" grep -q 'stopped cleanly' "$TMP/drain.log"
python3 - "$TMP/etc/eddy/out.jsonl" "${written%.*}" >"$TMP/flushed" <<'PY'
import json, sys
try:
    data = open(sys.argv[1], "rb").read()
except OSError as e:
    print("expected the output file; %s" % e)
    sys.exit(1)
lines = data.split(b"\n")
ok = data.endswith(b"\n")
nums = []
for l in lines[:-1]:
    try:
        nums.append(json.loads(l)["i"])
    except (ValueError, KeyError):
        print("expected a JSON record {\"i\": N} per line; saw %r after %d records" % (l[:80], len(nums)))
        sys.exit(1)
ok = ok and nums == list(range(len(nums))) and len(nums) >= int(sys.argv[2])
print("expected records 0..n-1, n >= %s, the last line complete; saw %d records (%s..%s), ends with a newline: %s"
      % (sys.argv[2], len(nums), nums[0] if nums else "-", nums[-1] if nums else "-", data.endswith(b"\n")))
sys.exit(0 if ok else 1)
PY
frc=$?
check "the file sink was flushed by the drain ($(cat "$TMP/flushed"); ${before} bytes were in the file before the SIGTERM)" [ "$frc" = 0 ]
echo "drain: $(cat "$TMP/flushed" | sed 's/.*; saw //'); $before bytes in the file before SIGTERM; exited $code after ${took}s (TimeoutStopSec ${stop_s}s)"
check "no output in the working directory" [ ! -e "$TMP/cwd/out.jsonl" ]
finish
