#!/usr/bin/env bash
# package.sh [BUILD_DIR] [OUT_DIR]: builds the Debian package
# eddy_<version>_<arch>.deb of a build dir (default build; written to
# OUT_DIR, default BUILD_DIR) and prints its path.
#
# What is in it is what `meson install` installs (the binary, the plugin
# kit: header, pkg-config file and template; the alert schema, example
# configs, eddy(1)), plus deploy/: the systemd units, /etc/eddy/eddy.yaml
# (a conffile) and the copyright file. The version is meson.build's
# project version, the number `eddy version` prints; Depends comes from the
# binary's shared libraries (dpkg-shlibdeps), so it names exactly what the
# build linked. No debhelper: dpkg-deb --root-owner-group makes every file
# root's without fakeroot.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$src/build}" && pwd)
out=${2:-$build}
mkdir -p "$out"
out=$(cd "$out" && pwd)
die() { echo "package.sh: $*" >&2; exit 1; }
for t in dpkg-deb dpkg-shlibdeps meson python3 objcopy; do
    command -v "$t" >/dev/null || die "$t is missing (scripts/setup.sh test installs it)"
done

# One build option read from meson (prefix, b_sanitize, ...).
opt() {
    meson introspect --buildoptions "$build" | python3 -c '
import json, sys
print(next(o["value"] for o in json.load(sys.stdin) if o["name"] == sys.argv[1]))' "$1"
}
version=$(meson introspect --projectinfo "$build" | python3 -c 'import json,sys; print(json.load(sys.stdin)["version"])')
arch=$(dpkg --print-architecture)
# The binary compiles in its data and plugin directories from the prefix:
# a /usr/local build would look for its alert schema where the package has none.
prefix=$(opt prefix)
[ "$prefix" = /usr ] || die "$build has prefix $prefix; a package needs /usr: meson configure $build -Dprefix=/usr (meson.build's default since 0.1.0)"
san=$(opt b_sanitize)
[ "$san" = none ] || die "$build is built with -Db_sanitize=$san; package a release build"

# File times and the changelog date: the last commit's, so that packaging
# the same build twice gives the same bytes (dpkg-deb clamps to it).
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || date +%s)}
work=$(mktemp -d "${TMPDIR:-/tmp}/eddy-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
root=$work/root
# meson install rebuilds what is stale first; --strip as Debian ships binaries.
meson install -C "$build" --destdir "$root" --strip --quiet >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; die "meson install failed"; }
seen=$("$root/usr/bin/eddy" version | sed -n '1s/^eddy //p')
[ "$seen" = "$version" ] || die "the built eddy says version '$seen', meson.build says '$version' (stale build?)"
# What dh_strip also drops: the compilers' version notes (lintian asks for it).
objcopy --remove-section=.comment --remove-section=.note "$root/usr/bin/eddy"

# What meson does not install: deploy/ files at Debian's places.
install -D -m 0644 "$src/deploy/eddy.yaml" "$root/etc/eddy/eddy.yaml"
# Bookworm's packages put units in /lib/systemd/system (merged /usr or not).
install -D -m 0644 -t "$root/lib/systemd/system" \
    "$src/deploy/systemd/eddy.service" "$src/deploy/systemd/eddy@.service"
doc=$root/usr/share/doc/eddy
install -D -m 0644 "$src/deploy/debian/copyright" "$doc/copyright"
gzip -9n -c "$src/CHANGELOG.md" >"$doc/changelog.gz"
# Debian wants its own changelog entry even for a package built upstream.
{
    printf 'eddy (%s) unstable; urgency=medium\n\n' "$version"
    printf '  * Built from the eddy source tree by scripts/package.sh; the changes\n'
    printf '    are in /usr/share/doc/eddy/changelog.gz.\n\n'
    printf ' -- %s  %s\n' "${EDDY_MAINTAINER:-eddy maintainers <eng@eddy.dev>}" \
        "$(date -R -u -d "@$SOURCE_DATE_EPOCH")"
} | gzip -9n >"$doc/changelog.Debian.gz"
# Man pages are stored compressed.
find "$root/usr/share/man" -type f -name '*.[0-9]' -exec gzip -9n {} +
chmod -R u=rwX,go=rX "$root"

# Depends: the packages whose shared libraries the binary needs, with the
# versions their symbols require (dpkg-shlibdeps wants a debian/control).
mkdir -p "$work/debian"
printf 'Source: eddy\n\nPackage: eddy\nArchitecture: any\n' >"$work/debian/control"
depends=$(cd "$work" && dpkg-shlibdeps -O -e root/usr/bin/eddy 2>"$work/shlibdeps.err" |
    sed -n 's/^shlibs:Depends=//p') || true
[ -n "$depends" ] || { cat "$work/shlibdeps.err" >&2; die "dpkg-shlibdeps found no dependencies"; }

mkdir -p "$root/DEBIAN"
echo /etc/eddy/eddy.yaml >"$root/DEBIAN/conffiles"
(cd "$root" && find . -path ./DEBIAN -prune -o -path ./etc -prune -o -type f -printf '%P\0' |
    sort -z | xargs -0 md5sum) >"$root/DEBIAN/md5sums"
size=$(du -sk --exclude=DEBIAN "$root" | cut -f1)
cat >"$root/DEBIAN/control" <<EOF
Package: eddy
Version: $version
Architecture: $arch
Maintainer: ${EDDY_MAINTAINER:-eddy maintainers <eng@eddy.dev>}
Installed-Size: $size
Depends: $depends
Section: net
Priority: optional
Description: stream processing: windowed features, drift and anomaly detection
 eddy reads records from Kafka topics, files or a generator, runs them
 through pipelines of windowed, pluggable operators (filters, projections,
 windows, drift and anomaly detectors) and writes the results to Kafka
 topics, a feature store (Redis or an embedded SQLite file), files, the
 console or webhooks.
 .
 This package holds the eddy command, a hardened systemd unit (eddy.service
 runs /etc/eddy/eddy.yaml; eddy@NAME.service runs /etc/eddy/NAME.yaml), the
 alert schema, example configs and the operator plugin kit (header,
 pkg-config file, template).
EOF
deb=$out/eddy_${version}_${arch}.deb
dpkg-deb --build --root-owner-group -Zxz "$root" "$deb" >/dev/null
echo "$deb"
