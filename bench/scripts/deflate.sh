#!/usr/bin/env bash
# Compressed vs plain fan-out in one sitting (issue 14, goal 5): one gateway (server.compression on,
# on free ports), then RUNS alternating pairs of fanout runs publishing a ~300-byte JSON alert: one
# whose subscribers do not offer permessage-deflate, one whose subscribers do (--deflate). Each run
# writes OUT/{plain,deflate}-N.json; frame bytes per delivery and server CPU (user and system) per
# million deliveries are in them.
#
#   bench/scripts/deflate.sh OUT [SUBSCRIBERS] [DELIVERIES_PER_SECOND] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/../.."
source bench/scripts/lib.sh
out=${1:?usage: deflate.sh OUT [SUBSCRIBERS] [DELIVERIES_PER_SECOND] [RUNS]}
subscribers=${2:-2000}
rate=${3:-20000}
runs=${4:-3}
mkdir -p "$out"
port=$(free_port)
admin=$(free_port)
PORTCULLIS_SERVER_PORT=$port PORTCULLIS_ADMIN_PORT=$admin PORTCULLIS_SERVER_COMPRESSION=${COMPRESSION:-on} \
  GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:--Xms256m -Xmx256m -XX:+AlwaysPreTouch} \
  launch_gateway gateway/target/portcullis.jar "$out/gateway.log"
pid=$!
trap 'kill $pid 2>/dev/null || true; wait $pid 2>/dev/null || true' EXIT
await_ready "$admin" "$out/gateway.log"
for n in $(seq "$runs"); do
  for mode in ${MODES:-plain deflate}; do
    flag=()
    [[ $mode == deflate ]] && flag=(--deflate)
    bench_load fanout --url "ws://127.0.0.1:$port/ws" --admin-url "http://127.0.0.1:$admin" --server-pid "$pid" \
      -n "$subscribers" --delivery-rate "$rate" --alert-payload --warmup 5s -d 15s --no-progress \
      "${flag[@]}" --out "$out/$mode-$n.json" | tail -n 3
  done
done
curl -s "http://127.0.0.1:$admin/metrics" | grep '^portcullis_compression' >"$out/compression-metrics.txt" || true
