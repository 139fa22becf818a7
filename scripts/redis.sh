#!/usr/bin/env bash
# A real redis-server for eddy's feature store tests and benchmarks, bound
# to 127.0.0.1 on a free port, with all its files in one directory.
#
#   scripts/redis.sh start DIR [PORT]   start (installs redis-server with apt
#                                       if missing); prints REDIS_PORT=N
#   scripts/redis.sh stop DIR           stop it (SIGTERM, then SIGKILL)
#   scripts/redis.sh kill DIR           SIGKILL it, as a crash would
#   scripts/redis.sh status DIR         exit 0 when it answers PING
#   scripts/redis.sh run -- CMD ARGS... start in a temp dir, export
#                                       REDIS_PORT, run CMD, always stop
#
# The server keeps an append-only file fsynced on every write, so a
# restart with the same DIR and PORT (after stop or kill) has every write
# it acknowledged: tests that kill Redis mid-run can then check that no
# update was lost. EDDY_REDIS_AOF=no starts it without the append-only file
# (benchmarks: an fsync per write measures the disk, not the store).
# stdout carries only KEY=VALUE lines; progress on stderr.
set -euo pipefail

need_redis() {
    command -v redis-server >/dev/null && command -v redis-cli >/dev/null && return 0
    echo "redis.sh: installing redis-server (apt)" >&2
    if [ "$(id -u)" = 0 ]; then
        apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    else
        sudo apt-get update -qq >&2 && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >&2
    fi
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

ping() { redis-cli -h 127.0.0.1 -p "$1" ping 2>/dev/null | grep -q PONG; }

start() {
    local dir=${1:?usage: redis.sh start DIR [PORT]} port=${2:-}
    need_redis
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -n "$port" ] || port=$(free_port)
    echo "$port" >"$dir/port"
    # No --daemonize: the pid we record is the server's own.
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" \
        --appendonly "${EDDY_REDIS_AOF:-yes}" --appendfsync always --save '' \
        --protected-mode yes --logfile "$dir/redis.log" </dev/null >/dev/null 2>&1 &
    echo $! >"$dir/redis.pid"
    local i
    for i in $(seq 1 100); do
        if ping "$port"; then
            echo "REDIS_PORT=$port"
            return 0
        fi
        if ! kill -0 "$(cat "$dir/redis.pid")" 2>/dev/null; then
            break
        fi
        sleep 0.05
    done
    echo "redis.sh: redis-server did not start on 127.0.0.1:$port; its log:" >&2
    tail -20 "$dir/redis.log" >&2 || true
    return 1
}

stop() {
    local dir=${1:?usage: redis.sh stop DIR} sig=${2:-TERM} pid i
    [ -f "$dir/redis.pid" ] || return 0
    pid=$(cat "$dir/redis.pid")
    kill -"$sig" "$pid" 2>/dev/null || true
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$dir/redis.pid"
}

case ${1:-} in
start) start "${2:-}" "${3:-}" ;;
stop) stop "${2:-}" TERM ;;
kill) stop "${2:-}" KILL ;;
status) ping "$(cat "${2:?usage: redis.sh status DIR}/port")" ;;
run)
    shift
    [ "${1:-}" = "--" ] && shift
    dir=$(mktemp -d "${TMPDIR:-/tmp}/eddy-redis.XXXXXX")
    trap 'stop "$dir" TERM; rm -rf "$dir"' EXIT
    eval "$(start "$dir")"
    export REDIS_PORT
    "$@"
    ;;
*)
    sed -n '2,16p' "$0" >&2
    exit 2
    ;;
esac
