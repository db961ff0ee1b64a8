#!/usr/bin/env bash
# Starts a local cluster for load tests: one redis-server and K gateway processes using it, all on
# loopback, then runs the load generator against all of them, then stops everything.
#
#   bench/scripts/cluster.sh K -- <portcullis-bench load arguments>
#
# Gateway i (1..K) listens on ws://127.0.0.1:(8100+i)/ws with its admin API on 127.0.0.1:(9100+i);
# the generator gets --url for every gateway, --admin-url of gateway 1 and --server-pid of every
# gateway. Gateway JVM flags: $GATEWAY_JAVA_OPTS (default "-Xms192m -Xmx192m -XX:+AlwaysPreTouch").
# Logs go to $OUT_DIR (default: a new directory under /tmp). Needs redis-server (Debian package).
set -euo pipefail
cd "$(dirname "$0")/../.."

K=${1:?usage: cluster.sh K -- <load arguments>}
shift
[[ ${1:-} == -- ]] && shift
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:--Xms192m -Xmx192m -XX:+AlwaysPreTouch}
OUT_DIR=${OUT_DIR:-$(mktemp -d /tmp/portcullis-cluster.XXXXXX)}
REDIS_PORT=${REDIS_PORT:-6400}

command -v redis-server >/dev/null || { echo "cluster.sh: redis-server is not installed (apt-get install redis-server)" >&2; exit 1; }
[[ -f gateway/target/portcullis.jar && -f bench/target/portcullis-bench.jar ]] || { echo "cluster.sh: run ./portcullis build first" >&2; exit 1; }
source bench/scripts/lib.sh

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT

redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --maxclients 20000 \
  >"$OUT_DIR/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

urls=(); server_pids=()
for i in $(seq "$K"); do
  PORTCULLIS_SERVER_PORT=$((8100 + i)) PORTCULLIS_ADMIN_PORT=$((9100 + i)) \
  PORTCULLIS_BROKER_TYPE=redis PORTCULLIS_BROKER_REDIS_URL="redis://127.0.0.1:$REDIS_PORT" \
  PORTCULLIS_BROKER_INSTANCE_ID="gw$i" launch_gateway gateway/target/portcullis.jar "$OUT_DIR/gateway-$i.log"
  pids+=($!); server_pids+=(--server-pid "$!"); urls+=(--url "ws://127.0.0.1:$((8100 + i))/ws")
done
for i in $(seq "$K"); do await_ready $((9100 + i)) "$OUT_DIR/gateway-$i.log"; done
echo "cluster.sh: redis on $REDIS_PORT and $K gateways ready; logs in $OUT_DIR" >&2

bench_load "$@" "${urls[@]}" --admin-url "http://127.0.0.1:9101" "${server_pids[@]}"
