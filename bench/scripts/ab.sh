#!/usr/bin/env bash
# Compares two gateway builds on one load scenario in the same sitting: runs alternate A, B, A, B...
# on a fresh gateway each (same flags, same config), so machine noise hits both alike.
#
#   bench/scripts/ab.sh JAR_A JAR_B RUNS -- <portcullis-bench load arguments>
#
# e.g. bench/scripts/ab.sh /tmp/before.jar gateway/target/portcullis.jar 3 -- fanout -n 1000 --rate 0 --warmup 5s -d 15s
# Results: $OUT_DIR/a-N.json and b-N.json (default OUT_DIR: a new directory under /tmp), and one
# summary line per run. Gateway JVM flags: $GATEWAY_JAVA_OPTS (default "-Xms128m -Xmx128m -XX:+AlwaysPreTouch").
set -euo pipefail
cd "$(dirname "$0")/../.."

JAR_A=${1:?usage: ab.sh JAR_A JAR_B RUNS -- <load arguments>}
JAR_B=${2:?usage: ab.sh JAR_A JAR_B RUNS -- <load arguments>}
RUNS=${3:?usage: ab.sh JAR_A JAR_B RUNS -- <load arguments>}
shift 3
[[ ${1:-} == -- ]] && shift
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/portcullis-ab.XXXXXX)}
mkdir -p "$OUT_DIR"
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:--Xms128m -Xmx128m -XX:+AlwaysPreTouch}

source bench/scripts/lib.sh
trap stop_gateway EXIT

for run in $(seq "$RUNS"); do
  for side in a b; do
    jar=$JAR_A; [[ $side == b ]] && jar=$JAR_B
    start_gateway "$jar" "$OUT_DIR/gateway-$side-$run.log"
    echo "== $side-$run ($jar)" >&2
    bench_load "$@" --server-pid "$GATEWAY_PID" --no-progress --out "$OUT_DIR/$side-$run.json" | head -1 || true
    stop_gateway
  done
done
echo "results in $OUT_DIR" >&2
