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
export PORTCULLIS_BENCH_SECRET=${PORTCULLIS_BENCH_SECRET:-bench-secret-0123456789-0123456789-0123456789}
export PORTCULLIS_BENCH_API_KEY=${PORTCULLIS_BENCH_API_KEY:-bench-api-key-0123456789}
JAVA=$(./portcullis java-home)/bin/java

GATEWAY_PID=
stop_gateway() {
  if [[ -n $GATEWAY_PID ]]; then
    kill "$GATEWAY_PID" 2>/dev/null || true
    wait "$GATEWAY_PID" 2>/dev/null || true
    GATEWAY_PID=
  fi
}
trap stop_gateway EXIT

for run in $(seq "$RUNS"); do
  for side in a b; do
    jar=$JAR_A; [[ $side == b ]] && jar=$JAR_B
    # shellcheck disable=SC2086 # the flags are words
    # Without the generator's variables: builds before 2026-11-22 refused unknown PORTCULLIS_* ones.
    env -u PORTCULLIS_BENCH_SECRET -u PORTCULLIS_BENCH_API_KEY "$JAVA" --enable-native-access=ALL-UNNAMED $GATEWAY_JAVA_OPTS -jar "$jar" serve --config bench/config/gateway-load.yaml \
      >"$OUT_DIR/gateway-$side-$run.log" 2>&1 &
    GATEWAY_PID=$!
    for _ in $(seq 300); do curl -sf http://127.0.0.1:9090/readyz >/dev/null 2>&1 && break; sleep 0.1; done
    curl -sf http://127.0.0.1:9090/readyz >/dev/null || { echo "ab.sh: gateway $side did not start; see $OUT_DIR/gateway-$side-$run.log" >&2; exit 1; }
    echo "== $side-$run ($jar)" >&2
    "$JAVA" --enable-native-access=ALL-UNNAMED -jar bench/target/portcullis-bench.jar load "$@" --server-pid "$GATEWAY_PID" --no-progress --out "$OUT_DIR/$side-$run.json" | head -1 || true
    stop_gateway
  done
done
echo "results in $OUT_DIR" >&2
