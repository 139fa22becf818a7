#!/usr/bin/env bash
# Peer benchmark (issue 13): the same jobs on eddy, Kafka Streams and Quix
# Streams (and a river consumer for the drift job) against the same topic on
# a real broker (scripts/kafka.sh, Kafka 4.1.1), every output verified.
#
#   benchmarks/peers/run.sh [RECORDS]          default 2000000
#
# Prints one table (job, system, wall s, CPU-s, records/s, records per
# CPU-second, peak RSS, ratios vs eddy) and writes it to
# benchmarks/peers/results.tsv; chart.py draws benchmarks/peers/peers.png
# from it. See benchmarks/peers/README.md for what each job and peer does.
#
# Cached outside the repository, in ${EDDY_CACHE:-~/.cache/eddy}/peers:
#   venv/     quixstreams 3.28.1, river 0.26.1, confluent-kafka, matplotlib
#   kstreams/ the Kafka Streams app's shaded jar (Maven; rebuilt when its
#             sources change)
# PEERS_ONLY=eddy,ks,quix,river runs a subset of the rows (checks).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${1:-2000000}
HERE=benchmarks/peers
CACHE=${EDDY_CACHE:-$HOME/.cache/eddy}/peers
VENV=$CACHE/venv
PIP_PKGS=(quixstreams==3.28.1 river==0.26.1 confluent-kafka==2.12.2 matplotlib==3.11.2)

scripts/build.sh build >&2

# Python peers
if ! "$VENV/bin/python" -c "import quixstreams, river, confluent_kafka, matplotlib" 2>/dev/null ||
   [ "$(cat "$VENV/.pkgs" 2>/dev/null)" != "${PIP_PKGS[*]}" ]; then
    echo "peers: creating $VENV" >&2
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "${PIP_PKGS[@]}" >&2
    echo "${PIP_PKGS[*]}" >"$VENV/.pkgs"
fi

# Kafka Streams app
SUM=$(cat $HERE/kstreams/pom.xml $(find $HERE/kstreams/src -type f | sort) | sha256sum | cut -c1-16)
JAR=$CACHE/kstreams/$SUM/kstreams-peer-1.0.jar
if [ ! -f "$JAR" ]; then
    echo "peers: building the Kafka Streams app (Maven)" >&2
    (cd $HERE/kstreams && mvn -q -B -DbuildDir="$CACHE/kstreams/$SUM" package >&2)
fi

export PEERS_JAR=$JAR EDDY_KAFKA_PORTS=auto
# Kafka Streams at-least-once commit interval (its default is 30000; see README)
export PEERS_KS_COMMIT_MS=${PEERS_KS_COMMIT_MS:-1000}
export KAFKA_VERSION=${EDDY_KAFKA_VERSION:-4.1.1}
# The broker is started here and stopped by scripts/kafka.sh's own trap,
# whatever happens; bench.py stops every process it started.
PYTHONWARNINGS=ignore scripts/kafka.sh run -- "$VENV/bin/python" $HERE/bench.py "$N" $HERE/results.tsv
"$VENV/bin/python" $HERE/chart.py $HERE/results.tsv $HERE/peers.png \
    "$(python3 -c "print(f'{$N:,}')") records, 10,000 users, 4 partitions, Kafka $KAFKA_VERSION, $(nproc) cores, $(date -u +%F)"
