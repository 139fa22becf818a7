#!/usr/bin/env bash
# Installs what eddy needs to build and test, only when it is missing.
# Debian 12 packages; run as root (or with sudo available).
set -euo pipefail
# `scripts/setup.sh` installs what building and running eddy need (the
# quick start: no Kafka, no Java); `scripts/setup.sh test` adds what the
# test suite needs (scripts/test.sh).
pkgs=(
  gcc make pkg-config meson ninja-build
  librdkafka-dev libevent-dev libmsgpack-dev libzstd-dev zlib1g-dev libavro-dev libfyaml-dev
  libjansson-dev curl python3 binutils openssl libssl-dev
  libcurl4-openssl-dev libhiredis-dev liblmdb-dev libsqlite3-dev sqlite3
)
if [ "${1:-}" = test ]; then
  pkgs+=(
    kcat redis-server lmdb-utils python3-venv python3-yaml
    prometheus  # tests/deploy: promtool and a real Prometheus server
    clang libclang-rt-14-dev  # the fuzzing smoke run (tests/fuzz): libFuzzer
    # The Debian package (scripts/package.sh, tests/deploy): dpkg-shlibdeps,
    # lintian, systemd-analyze verify (its man: check needs man-db); the
    # release check (scripts/release-check.sh): debootstrap, ip.
    dpkg-dev lintian systemd man-db debootstrap iproute2
  )
  # The real Kafka broker for integration tests comes from Maven (scripts/kafka.sh):
  # it needs a JRE 17 and Maven, which the machine may already have outside apt.
  command -v java >/dev/null 2>&1 || pkgs+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null 2>&1 || pkgs+=(maven)
fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
