#!/usr/bin/env bash
# Memory per idle authenticated connection, per class: starts a fresh gateway (fixed pre-touched
# heap), optionally opens and closes N connections once unmeasured (JIT, code cache and allocator
# arenas are then paid), takes a class histogram (after a full GC) and RSS, holds N connections,
# takes both again HOLD-20 s into the hold, and prints the growth per connection by class.
#
#   bench/scripts/memory_classes.sh JAR N HOLD_SECONDS OUT_DIR [warm]
#
# e.g. bench/scripts/memory_classes.sh gateway/target/portcullis.jar 5000 90 /tmp/mem-b warm
# Gateway JVM flags: $GATEWAY_JAVA_OPTS (default "-Xms128m -Xmx128m -XX:+AlwaysPreTouch", as targets.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."

JAR=${1:?usage: memory_classes.sh JAR N HOLD_SECONDS OUT_DIR [warm]}
N=${2:?usage}; HOLD=${3:?usage}; OUT_DIR=${4:?usage}; WARM=${5:-}
(( HOLD > 40 )) || { echo "memory_classes.sh: HOLD_SECONDS must be over 40 (the histogram is taken 20 s before the end)" >&2; exit 2; }
mkdir -p "$OUT_DIR"
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:--Xms128m -Xmx128m -XX:+AlwaysPreTouch}
SOURCES=127.0.0.2-127.0.0.9

source bench/scripts/lib.sh
trap stop_gateway EXIT
start_gateway "$JAR" "$OUT_DIR/gateway.log"
JCMD=$(dirname "$(readlink -f "/proc/$GATEWAY_PID/exe")")/jcmd # the gateway's own JDK
sleep 2
if [[ $WARM == warm ]]; then
  bench_load connect -n "$N" --hold 5s --source-addresses "$SOURCES" --no-progress >"$OUT_DIR/warm.txt" 2>&1 || true
  sleep 5
fi
"$JCMD" "$GATEWAY_PID" GC.class_histogram >"$OUT_DIR/heap-before.txt"
grep VmRSS "/proc/$GATEWAY_PID/status" >"$OUT_DIR/rss-before.txt"
(sleep $((HOLD - 20)); "$JCMD" "$GATEWAY_PID" GC.class_histogram >"$OUT_DIR/heap-held.txt"
  grep VmRSS "/proc/$GATEWAY_PID/status" >"$OUT_DIR/rss-held.txt") &
histogram=$!
bench_load connect -n "$N" --hold "${HOLD}s" --server-pid "$GATEWAY_PID" --source-addresses "$SOURCES" --no-progress \
  --out "$OUT_DIR/load.json" | head -1 >&2 || true
wait "$histogram"
python3 bench/scripts/memory_classes.py "$OUT_DIR" "$N"
