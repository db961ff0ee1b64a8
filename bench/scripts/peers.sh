#!/usr/bin/env bash
# Portcullis, the node-ws peer and the fan-out floor side by side in one sitting: for one scenario,
# each server in turn on a fresh process (Portcullis, node-ws, floor, then again), RUNS times, all
# driven by the same load generator command (--target), then a Markdown table of median [range].
#
#   bench/scripts/peers.sh SCENARIO [OUT_DIR]
#
#   fanout           SUBSCRIBERS subscribers (10,000), DELIVERY_RATE deliveries/s (50,000), WARMUP (10s)
#                    then DURATION (30s) measured: server user and system CPU per million deliveries,
#                    publish-to-receive p50/p99
#   handshake-cold   the first HANDSHAKES handshakes (10,000) after the server is ready: server user and
#                    system CPU per 1,000 handshakes, handshake p50/p99, time from launch to ready
#
# Environment: RUNS (3), PEERS ("portcullis node-ws floor"), SOURCES (127.0.0.2-127.0.0.9),
# GATEWAY_JAVA_OPTS and FLOOR_JAVA_OPTS (both "-Xms128m -Xmx128m -XX:+AlwaysPreTouch"), FLOOR_ARGS (extra
# floor options, e.g. "--transport io_uring" to match a gateway configured so),
# NODE_WS_SRC (/work/shared/peers/node-ws, read-only: copied to NODE_WS_DIR, default
# /tmp/portcullis-peers/node-ws, where `npm ci --prefer-offline` installs it), and the sizes above.
# Every server listens on free loopback ports chosen at start. Each run writes OUT_DIR/SCENARIO-PEER-N.json
# (the generator's result) and .log (the server's output); bench/scripts/peers.py OUT_DIR prints the
# table again. Needs ./portcullis build first, and node (20+) and npm for node-ws.
set -euo pipefail
cd "$(dirname "$0")/../.."

SCENARIO=${1:-}
case $SCENARIO in
  fanout|handshake-cold) ;;
  *) echo "usage: peers.sh fanout|handshake-cold [OUT_DIR]" >&2; exit 2 ;;
esac
OUT_DIR=${2:-$(mktemp -d /tmp/portcullis-peers.XXXXXX)}
mkdir -p "$OUT_DIR"
RUNS=${RUNS:-3}
PEERS=${PEERS:-portcullis node-ws floor}
SOURCES=${SOURCES:-127.0.0.2-127.0.0.9}
SUBSCRIBERS=${SUBSCRIBERS:-10000}
DELIVERY_RATE=${DELIVERY_RATE:-50000}
WARMUP=${WARMUP:-10s}
DURATION=${DURATION:-30s}
HANDSHAKES=${HANDSHAKES:-10000}
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:--Xms128m -Xmx128m -XX:+AlwaysPreTouch}
FLOOR_JAVA_OPTS=${FLOOR_JAVA_OPTS:--Xms128m -Xmx128m -XX:+AlwaysPreTouch}
FLOOR_ARGS=${FLOOR_ARGS:-}
NODE_WS_SRC=${NODE_WS_SRC:-/work/shared/peers/node-ws}
NODE_WS_DIR=${NODE_WS_DIR:-/tmp/portcullis-peers/node-ws}

[[ -f gateway/target/portcullis.jar && -f bench/target/portcullis-bench.jar ]] || { echo "peers.sh: run ./portcullis build first" >&2; exit 1; }
source bench/scripts/lib.sh

if [[ " $PEERS " == *" node-ws "* ]]; then
  command -v node >/dev/null && command -v npm >/dev/null || { echo "peers.sh: node-ws needs node and npm (or leave it out: PEERS=\"portcullis floor\")" >&2; exit 1; }
  [[ -f $NODE_WS_SRC/server.js ]] || { echo "peers.sh: no node-ws peer at NODE_WS_SRC=$NODE_WS_SRC" >&2; exit 1; }
  # The shared copy is read-only: install into a copy, again whenever the shared one changed.
  if ! cmp -s "$NODE_WS_SRC/server.js" "$NODE_WS_DIR/server.js" || ! cmp -s "$NODE_WS_SRC/package-lock.json" "$NODE_WS_DIR/package-lock.json" \
      || [[ ! -d $NODE_WS_DIR/node_modules ]]; then
    rm -rf "$NODE_WS_DIR"
    mkdir -p "$(dirname "$NODE_WS_DIR")"
    cp -r "$NODE_WS_SRC" "$NODE_WS_DIR"
    chmod -R u+w "$NODE_WS_DIR"
    (cd "$NODE_WS_DIR" && npm ci --prefer-offline --no-audit --no-fund >&2)
  fi
fi

# start_server PEER LOG: a fresh server on free ports; sets SERVER_PID, WS_PORT, ADMIN_PORT and
# READY_MS (launch to the first 200 from its readiness URL, polled every 10 ms).
start_server() {
  local peer=$1 log=$2 ready_url start
  WS_PORT=$(free_port)
  ADMIN_PORT=$(free_port)
  start=$(date +%s%N)
  case $peer in
    portcullis)
      PORTCULLIS_SERVER_PORT=$WS_PORT PORTCULLIS_ADMIN_PORT=$ADMIN_PORT launch_gateway gateway/target/portcullis.jar "$log"
      ready_url=http://127.0.0.1:$ADMIN_PORT/readyz ;;
    node-ws)
      ADMIN_PORT=$WS_PORT # its publish API is on its one port
      (cd "$NODE_WS_DIR" && HOST=127.0.0.1 PORT=$WS_PORT BACKLOG=4096 PER_IP_LIMIT=0 JWT_SECRET=$PORTCULLIS_BENCH_SECRET \
        PUBLISH_API_KEY=$PORTCULLIS_BENCH_API_KEY exec node server.js) >"$log" 2>&1 &
      ready_url=http://127.0.0.1:$WS_PORT/healthz ;;
    floor)
      # shellcheck disable=SC2086 # the flags are words
      "$JAVA" --enable-native-access=ALL-UNNAMED $FLOOR_JAVA_OPTS -jar bench/target/portcullis-bench.jar \
        floor --port "$WS_PORT" --admin-port "$ADMIN_PORT" $FLOOR_ARGS >"$log" 2>&1 &
      ready_url=http://127.0.0.1:$ADMIN_PORT/readyz ;;
  esac
  SERVER_PID=$!
  READY_MS=$(await_url "$ready_url" "$log" "$start")
}
trap stop_server EXIT

for run in $(seq "$RUNS"); do
  for peer in $PEERS; do
    name=$SCENARIO-$peer-$run
    start_server "$peer" "$OUT_DIR/$name.log"
    echo "{\"readyMs\": $READY_MS}" >"$OUT_DIR/$name.ready.json"
    target=(--target "$peer" --url "ws://127.0.0.1:$WS_PORT/ws" --server-pid "$SERVER_PID" --source-addresses "$SOURCES")
    case $SCENARIO in
      fanout) args=(fanout -n "$SUBSCRIBERS" --delivery-rate "$DELIVERY_RATE" --warmup "$WARMUP" -d "$DURATION"
                    --admin-url "http://127.0.0.1:$ADMIN_PORT") ;;
      handshake-cold) args=(connect -n "$HANDSHAKES" --hold 2s) ;;
    esac
    echo "== $name (ready after $READY_MS ms): portcullis-bench load ${args[*]} ${target[*]}" >&2
    bench_load "${args[@]}" "${target[@]}" --no-progress --out "$OUT_DIR/$name.json" | head -1 >&2 || true
    stop_server
  done
done
python3 bench/scripts/peers.py "$OUT_DIR"
echo "results in $OUT_DIR" >&2
