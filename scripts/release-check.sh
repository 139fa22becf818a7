#!/usr/bin/env bash
# release-check.sh [BUILD_DIR]: installs this build's Debian package in a
# fresh Debian 12 and runs it there, the way deploy/docker/Dockerfile does.
# Not in the test suite (a few minutes, needs the Debian mirror); run it
# before a release, as root. Ends with "release check: ok" or exits 1.
#
#   1. A minimal Debian 12 root (debootstrap --variant=minbase bookworm from
#      the mirror apt uses here), cached as a tarball in ~/.cache/eddy/, so
#      only the first run downloads it (delete the tarball to refresh it).
#   2. The Dockerfile, step by step, in that root (no container runtime is
#      needed): COPY from a build context holding the package
#      (scripts/package.sh), RUN (which is where `apt-get install ./eddy_*.deb`
#      resolves Depends from the mirror: a wrong Depends fails here), USER,
#      WORKDIR, ENV. Any other instruction but FROM/EXPOSE/STOPSIGNAL is refused.
#   3. In the resulting image, as its user: `eddy version` says meson.build's
#      version; `eddy validate` passes every installed example config that
#      stands alone; a bounded generator pipeline writes all its records.
#   4. The ENTRYPOINT runs in a network namespace of its own (a container's
#      loopback), the HEALTHCHECK command passes against it and fails once
#      it has stopped, and SIGTERM drains it to exit 0 within the systemd
#      unit's TimeoutStopSec.
# Mounts (/proc of the root) are undone and the root deleted on any exit.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
[ "$(id -u)" = 0 ] || { echo "release-check: needs root (debootstrap, chroot, mounts)" >&2; exit 1; }
for t in debootstrap chroot unshare nsenter ip curl python3 dpkg-deb; do
    command -v "$t" >/dev/null || { echo "release-check: $t is missing (scripts/setup.sh test installs it)" >&2; exit 1; }
done
dockerfile=$src/deploy/docker/Dockerfile
cache=${EDDY_CACHE:-$HOME/.cache/eddy}
mkdir -p "$cache"
t_start=$SECONDS
say() { echo "release-check: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-release.XXXXXX")
root=$work/root
epid=""
cleanup() {
    if [ -n "$epid" ] && kill -0 "$epid" 2>/dev/null; then kill -KILL "$epid"; wait "$epid" 2>/dev/null; fi
    # Unmount everything under the root, deepest first, before deleting it:
    # rm -rf through a mount would delete what the mount shows.
    local m
    for m in $(awk -v r="$root" 'index($2, r) == 1 { print $2 }' /proc/self/mounts | sort -r); do
        umount "$m" 2>/dev/null || umount -l "$m"
    done
    if awk -v r="$root" 'index($2, r) == 1 { found = 1 } END { exit !found }' /proc/self/mounts; then
        say "something is still mounted under $root: left in place"
    elif [ -n "${EDDY_KEEP_TMP:-}" ]; then
        say "kept $work"
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

# The Debian mirror apt uses on this machine (deb822 .sources or a
# one-line sources.list), else deb.debian.org; and its security archive.
read -r mirror security < <(python3 - <<'PY'
import glob, re
main = sec = None
for f in glob.glob("/etc/apt/sources.list.d/*.sources"):
    for stanza in re.split(r"\n\s*\n", open(f).read()):
        d = dict(re.findall(r"^(\w[\w-]*):\s*(.*)$", stanza, re.M))
        if d.get("Enabled", "yes") == "no" or "deb" not in d.get("Types", "").split():
            continue
        suites = d.get("Suites", "").split()
        for uri in d.get("URIs", "").split():
            if "bookworm" in suites and not main: main = uri
            if "bookworm-security" in suites and not sec: sec = uri
for f in ["/etc/apt/sources.list"] + glob.glob("/etc/apt/sources.list.d/*.list"):
    try: lines = open(f).read().splitlines()
    except OSError: continue
    for l in lines:
        m = re.match(r"^deb\s+(?:\[[^]]*\]\s+)?(\S+)\s+(\S+)", l)
        if m and m.group(2) == "bookworm" and not main: main = m.group(1)
        if m and m.group(2) == "bookworm-security" and not sec: sec = m.group(1)
print((main or "http://deb.debian.org/debian").rstrip("/"),
      (sec or "http://deb.debian.org/debian-security").rstrip("/"))
PY
)
say "mirror $mirror (security: $security)"

# 1. The Debian 12 root, from the cache when it is there.
rootfs=$cache/bookworm-minbase-root.tar.gz
debs=$cache/bookworm-minbase-debs.tgz
mkdir -p "$root"
if [ ! -f "$rootfs" ]; then
    t0=$SECONDS
    if [ ! -f "$debs" ]; then
        say "downloading Debian 12 (minbase) packages into $debs"
        debootstrap --variant=minbase --make-tarball="$debs.part" bookworm "$work/dl" "$mirror" >"$work/debootstrap.log" 2>&1 ||
            { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap --make-tarball"; }
        mv "$debs.part" "$debs"
    fi
    say "debootstrap --variant=minbase bookworm"
    debootstrap --variant=minbase --unpack-tarball="$debs" bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -20 "$work/debootstrap.log" >&2; fail "debootstrap"; }
    tar -C "$root" -czf "$rootfs.part" . && mv "$rootfs.part" "$rootfs"
    say "cached the root as $rootfs ($((SECONDS - t0)) s)"
else
    tar -C "$root" -xzf "$rootfs"
fi
# As in the debian:12-slim image: the release and its updates and security
# archives; no service may start from a package's scripts in here.
cat >"$root/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
deb $security bookworm-security main
EOF
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
cp -L /etc/resolv.conf "$root/etc/resolv.conf"
mount -t proc proc "$root/proc"
t_root=$((SECONDS - t_start))

# 2. The package, in a build context of its own, and the Dockerfile's steps.
ctx=$work/context
deb=$("$src/scripts/package.sh" "$build" "$ctx")
version=$(meson introspect --projectinfo "$build" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
say "package $(basename "$deb") ($(stat -c %s "$deb") bytes)"

img_user=root img_workdir=/ img_env=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin)
hc="" entry=() from=""
# in_image [WRAPPER...] -- CMD...: runs CMD in the image as its USER, in
# its WORKDIR, with its ENV and the user's HOME (as `docker run` would);
# WRAPPER (e.g. nsenter into a network namespace) runs around chroot.
in_image() {
    local wrap=()
    while [ "$1" != -- ]; do wrap+=("$1"); shift; done
    shift
    local spec=() home=/root
    if [ "$img_user" != root ]; then
        local uid gid
        uid=$(chroot "$root" id -u "$img_user") gid=$(chroot "$root" id -g "$img_user")
        spec=(--userspec="$uid:$gid" --groups="$gid")
        home=$(chroot "$root" getent passwd "$img_user" | cut -d: -f6)
    fi
    "${wrap[@]}" chroot "${spec[@]}" "$root" /usr/bin/env -i "${img_env[@]}" HOME="$home" \
        /bin/sh -c 'cd "$0" && exec "$@"' "$img_workdir" "$@"
}
df_from() { from=$1; case $1 in debian:12-slim | debian:12 | debian:bookworm*) ;; *) fail "FROM $1: this check builds Debian 12 only" ;; esac; }
df_copy() { # SRC... DEST: globs relative to the build context
    local dest=${*: -1} n=$(($# - 1)) f
    mkdir -p "$root/$dest"
    for f in "${@:1:$n}"; do
        # shellcheck disable=SC2086 # the Dockerfile's glob
        (cd "$ctx" && cp -- $f "$root/$dest") || fail "COPY $f: nothing in the build context matches"
    done
}
df_run() {
    say "RUN $1"
    in_image -- /bin/sh -c "$1" >>"$work/run.log" 2>&1 || { tail -30 "$work/run.log" >&2; fail "RUN $1"; }
}
df_user() { img_user=$1; chroot "$root" id "$1" >/dev/null || fail "USER $1: no such user in the image"; }
df_workdir() { img_workdir=$1; mkdir -p "$root/$1"; }
df_env() { img_env+=("$1"); }
df_healthcheck() { hc=$1; }
df_entrypoint() { entry=("$@"); }
df_ignore() { :; }
# The Dockerfile as calls of the df_* functions above (shell-quoted).
python3 - "$dockerfile" >"$work/steps.sh" <<'PY'
import json, re, shlex, sys
text = re.sub(r"\\\n", " ", open(sys.argv[1]).read())  # continuation lines
for line in text.splitlines():
    line = line.strip()
    if not line or line.startswith("#"):
        continue
    instr, _, rest = line.partition(" ")
    instr, rest = instr.upper(), rest.strip()
    q = shlex.quote
    if instr == "FROM":
        print("df_from", q(rest.split()[0]))
    elif instr == "COPY":
        if rest.startswith("--"):
            sys.exit("COPY %s: options are not supported by this check" % rest)
        print("df_copy", " ".join(q(a) for a in rest.split()))
    elif instr == "RUN":
        if rest.startswith("["):
            rest = " ".join(q(a) for a in json.loads(rest))
        print("df_run", q(rest))
    elif instr in ("USER", "WORKDIR"):
        print("df_" + instr.lower(), q(rest))
    elif instr == "ENV":
        pairs = shlex.split(rest)
        if len(pairs) == 2 and "=" not in pairs[0]:
            pairs = ["%s=%s" % tuple(pairs)]
        for p in pairs:
            print("df_env", q(p))
    elif instr == "HEALTHCHECK":
        opts, _, cmd = rest.partition("CMD ")
        if not cmd:
            sys.exit("HEALTHCHECK without CMD")
        cmd = cmd.strip()
        if cmd.startswith("["):
            cmd = " ".join(q(a) for a in json.loads(cmd))
        print("df_healthcheck", q(cmd))
    elif instr == "ENTRYPOINT":
        if not rest.startswith("["):
            sys.exit("ENTRYPOINT must be the exec form [\"eddy\", ...]")
        print("df_entrypoint", " ".join(q(a) for a in json.loads(rest)))
    elif instr in ("EXPOSE", "STOPSIGNAL", "LABEL"):
        print("df_ignore")
    else:
        sys.exit("%s: not an instruction this check can carry out" % instr)
PY
t0=$SECONDS
# shellcheck disable=SC1091
. "$work/steps.sh"
t_docker=$((SECONDS - t0))
[ -n "$hc" ] || fail "the Dockerfile has no HEALTHCHECK"
[ ${#entry[@]} -gt 0 ] || fail "the Dockerfile has no ENTRYPOINT"
new=$(sed -n '/NEW packages will be installed/,/upgraded/p' "$work/run.log" | grep '^ ' | wc -w)
say "Dockerfile steps done in $t_docker s ($from as $img_user in $img_workdir; apt installed $new new packages)"

# 3. The installed eddy, as the image's user.
seen=$(in_image -- eddy version 2>&1 | head -1) || true
[ "$seen" = "eddy $version" ] || fail "eddy version: expected 'eddy $version', saw '$seen'"
say "eddy version: $seen"
in_image -- dpkg-query -W -f '${Status} ${Version}\n' eddy | grep -q "install ok installed $version" ||
    fail "dpkg does not list eddy $version as installed"
# Every example config stands alone (the quick start's broker is embedded,
# the others read a generator or name their Kafka brokers without
# connecting) and the service's own config.
for cfg in /etc/eddy/eddy.yaml $(cd "$root" && ls usr/share/eddy/examples/*.yaml | sed 's|^|/|'); do
    in_image -- eddy validate -c "$cfg" >"$work/validate.out" 2>&1 || { cat "$work/validate.out" >&2; fail "eddy validate -c $cfg"; }
    say "$(cat "$work/validate.out")"
done
# A bounded pipeline: every record reaches the file.
cat >"$root/tmp/short.yaml" <<'Y'
worker: { name: short, admin: { enabled: false } }
sources:
  - { name: g, type: generator, rate: 0, count: 5000, fields: { i: "seq()", amount: "lognormal(3, 0.6)" } }
pipelines:
  - name: p
    from: g
    steps: [ { filter: { where: "amount > 0" } } ]
    to: [ { type: file, path: short.jsonl } ]
Y
chmod 644 "$root/tmp/short.yaml"
in_image -- eddy run -c /tmp/short.yaml >"$work/short.log" 2>&1 || { cat "$work/short.log" >&2; fail "the short pipeline"; }
lines=$(wc -l <"$root/tmp/short.jsonl")
[ "$lines" = 5000 ] || fail "the short pipeline wrote $lines records, expected 5000"
say "generator -> filter -> file: 5000 of 5000 records, exit 0"

# 4. The entry point, in a network namespace with only its loopback, as
#    in a container; the health check runs in the same namespace.
unshare --net -- /bin/sh -c 'ip link set lo up && exec "$@"' sh \
    chroot --userspec="$(chroot "$root" id -u "$img_user"):$(chroot "$root" id -g "$img_user")" "$root" \
    /usr/bin/env -i "${img_env[@]}" /bin/sh -c 'cd "$0" && exec "$@"' "$img_workdir" "${entry[@]}" \
    >"$work/entry.log" 2>&1 &
epid=$!
healthy=""
t0=$SECONDS
for _ in $(seq 1 60); do
    if in_image nsenter --net="/proc/$epid/ns/net" -- /bin/sh -c "$hc" >/dev/null 2>&1; then healthy=$((SECONDS - t0)); break; fi
    kill -0 "$epid" 2>/dev/null || break
    sleep 0.5
done
[ -n "$healthy" ] || { cat "$work/entry.log" >&2; fail "HEALTHCHECK ($hc) never passed"; }
ready=$(nsenter --net="/proc/$epid/ns/net" curl -s -w " (HTTP %{http_code})" http://127.0.0.1:9464/readyz | tr -d "\n" || true)
build_info=$(nsenter --net="/proc/$epid/ns/net" curl -s http://127.0.0.1:9464/metrics | grep '^eddy_build_info' || true)
say "ENTRYPOINT ${entry[*]}: HEALTHCHECK passed after ${healthy}s; /readyz: $ready; $build_info"
case $build_info in *"version=\"$version\""*) ;; *) fail "/metrics eddy_build_info does not say $version" ;; esac
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\?$/\1/p' "$src/deploy/systemd/eddy.service")
t0=$SECONDS
kill -TERM "$epid"
code=""
for _ in $(seq 1 $((${stop:-45} * 10))); do
    if ! kill -0 "$epid" 2>/dev/null; then wait "$epid" && code=0 || code=$?; break; fi
    sleep 0.1
done
[ "$code" = 0 ] || { tail -5 "$work/entry.log" >&2; fail "SIGTERM: expected exit 0 within ${stop}s, saw '${code:-still running}'"; }
say "SIGTERM: drained, exit 0 after $((SECONDS - t0))s ($(tail -1 "$work/entry.log" | head -c 200))"
if unshare --net -- /bin/sh -c 'ip link set lo up && exec "$@"' sh \
    chroot "$root" /bin/sh -c "$hc" >/dev/null 2>&1; then
    fail "the HEALTHCHECK passes without a worker: it checks nothing"
fi
epid=""
say "HEALTHCHECK fails with no worker running, as it should"
say "took $((SECONDS - t_start)) s (Debian root ready after $t_root s)"
echo "release check: ok (eddy $version, $(basename "$deb"))"
