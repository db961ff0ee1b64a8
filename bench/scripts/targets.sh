#!/usr/bin/env bash
# Runs the load-test targets of BENCHMARKS.md with the three-run protocol, on this machine, against
# gateways it starts itself (loopback only), and prints a Markdown table of median [range].
#
#   bench/scripts/targets.sh [OUT_DIR] [TARGET...]     TARGET: memory handshake fanout fanout1k saturate inbound cluster coldstart
#
# Takes about 35 minutes for all targets. Every run writes its JSON result into OUT_DIR (default: a
# new directory under /tmp); bench/scripts/summarize.py OUT_DIR prints the table again. Needs
# ./portcullis build first, and redis-server for the cluster target. coldstart (not in the default
# set) is bench/scripts/coldstart.sh: its own fresh servers, node-ws too when NODE_WS_DIR is set.
set -euo pipefail
cd "$(dirname "$0")/../.."

KNOWN="memory handshake fanout fanout1k saturate inbound cluster coldstart"
if [[ " $KNOWN " == *" ${1:-} "* ]]; then
  echo "targets.sh: the first argument is the output directory, e.g. targets.sh /tmp/targets ${1}" >&2
  exit 2
fi
OUT_DIR=${1:-$(mktemp -d /tmp/portcullis-targets.XXXXXX)}
shift || true
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(memory handshake fanout fanout1k saturate inbound cluster)
mkdir -p "$OUT_DIR"
RUNS=${RUNS:-3}
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:--Xms128m -Xmx128m -XX:+AlwaysPreTouch}
SOURCES=127.0.0.2-127.0.0.9

[[ -f gateway/target/portcullis.jar && -f bench/target/portcullis-bench.jar ]] || { echo "targets.sh: run ./portcullis build first" >&2; exit 1; }
source bench/scripts/lib.sh
trap stop_gateway EXIT

load() { # load NAME ARGS...: one run, its result in OUT_DIR/NAME.json
  local name=$1; shift
  echo "== $name: portcullis-bench load $*" >&2
  bench_load "$@" --server-pid "$GATEWAY_PID" --no-progress --out "$OUT_DIR/$name.json" | tail -3 >&2 || true
}

for target in "${TARGETS[@]}"; do
  case $target in
    memory) # 19,000 idle connections held 5 minutes, a fresh gateway per run
      # Live heap too: a class histogram (after a full GC) before the load and 60 s into the hold.
      for run in $(seq "$RUNS"); do
        start_gateway gateway/target/portcullis.jar "$OUT_DIR/gateway.log"
        JCMD=$(dirname "$(readlink -f "/proc/$GATEWAY_PID/exe")")/jcmd # the gateway's own JDK
        sleep 2
        "$JCMD" "$GATEWAY_PID" GC.class_histogram | tail -1 >"$OUT_DIR/memory-$run.heap-before.txt" || true
        (sleep 60; "$JCMD" "$GATEWAY_PID" GC.class_histogram | tail -1 >"$OUT_DIR/memory-$run.heap-held.txt") &
        histogram=$!
        load "memory-$run" connect -n 19000 --hold 5m --source-addresses "$SOURCES"
        wait "$histogram" || true
      done ;;
    handshake) # 5,000 handshakes on a warm gateway: unmeasured runs first, until the JIT is done with the path
      start_gateway gateway/target/portcullis.jar "$OUT_DIR/gateway.log"
      for run in $(seq "${HANDSHAKE_WARMUP_RUNS:-10}"); do load "handshake-warmup-$run" connect -n 5000 --hold 2s --source-addresses "$SOURCES"; done
      for run in $(seq "$RUNS"); do load "handshake-$run" connect -n 5000 --hold 2s --source-addresses "$SOURCES"; done ;;
    fanout) # 10,000 subscribers, 10 publications/s = 100,000 deliveries/s
      start_gateway gateway/target/portcullis.jar "$OUT_DIR/gateway.log"
      for run in $(seq "$RUNS"); do load "fanout-$run" fanout -n 10000 --rate 10 --warmup 5s -d 20s --source-addresses "$SOURCES"; done ;;
    fanout1k) # the same 100,000 deliveries/s to 1,000 subscribers (100 publications/s): latency vs fan-out width
      start_gateway gateway/target/portcullis.jar "$OUT_DIR/gateway.log"
      for run in $(seq "$RUNS"); do load "fanout1k-$run" fanout -n 1000 --rate 100 --warmup 5s -d 20s; done ;;
    saturate) # 1,000 subscribers, publishing as fast as the slowest keeps up
      start_gateway gateway/target/portcullis.jar "$OUT_DIR/gateway.log"
      for run in $(seq "$RUNS"); do load "saturate-$run" fanout -n 1000 --rate 0 --warmup 5s -d 15s; done ;;
    inbound) # 200 clients publishing into 100 rooms as fast as they can
      start_gateway gateway/target/portcullis.jar "$OUT_DIR/gateway.log"
      for run in $(seq "$RUNS"); do load "inbound-$run" inbound -n 200 -d 10s; done ;;
    cluster) # 100,000 connections over 6 gateways on one redis-server; a broadcast every 2 s
      stop_gateway
      for run in $(seq "$RUNS"); do
        echo "== cluster-$run" >&2
        OUT_DIR="$OUT_DIR/cluster-$run.logs" bash -c 'mkdir -p "$OUT_DIR"; exec bench/scripts/cluster.sh 6 -- "$@"' cluster \
          fanout -n 100000 --delivery-rate 50000 --warmup 10s -d 30s --source-addresses "$SOURCES" \
          --no-progress --out "$OUT_DIR/cluster-$run.json" | tail -3 >&2 || true
      done ;;
    coldstart) # the first 10,000 handshakes after /readyz of a fresh gateway, per variant (coldstart.sh)
      stop_gateway
      RUNS=$RUNS bench/scripts/coldstart.sh "$OUT_DIR/coldstart" >/dev/null ;;
    *) echo "targets.sh: unknown target $target" >&2; exit 2 ;;
  esac
done
stop_gateway
python3 bench/scripts/summarize.py "$OUT_DIR"
if [[ -d $OUT_DIR/coldstart ]]; then
  python3 bench/scripts/summarize.py "$OUT_DIR/coldstart" | tail -n +3
fi
