#!/usr/bin/env bash
# Cold start: a fresh server per run, then the first 10,000 HS256 handshakes after it first says it
# is ready. Records the server's CPU (user and system apart, from /proc) for those handshakes and
# the time from process start to ready; variants interleaved (A B C A B C ...), RUNS runs each.
#
#   bench/scripts/coldstart.sh [OUT_DIR] [VARIANT...]
#
# VARIANT (default: jit aot warm aot+warm, and node-ws when NODE_WS_DIR is set):
#   jit        the gateway jar alone: no AOT cache, server.warmup off
#   aot        with the jar's AOT cache (gateway/target/portcullis.aot; ./portcullis build makes it), warm-up off
#   warm       no cache, server.warmup $WARMUP (default: on, the default budget)
#   aot+warm   both: what ./portcullis serve and the container image run
#   steady     aot+warm (warm alone without a cache) after three rounds of HANDSHAKES already served
#              before the one measured: what the same handshakes cost a fully warm gateway, the floor
#              of the others
#   node-ws    the node-ws peer (NODE_WS_DIR: a copy of shared/peers/node-ws with node_modules installed)
#
# GATEWAY_JAR and AOT_CACHE (a jar and the cache trained on it) compare another build, e.g. a
# worktree's, against this one's (gateway/target/portcullis.jar and .aot).
#
# Every server listens on free loopback ports found at run time, so the script can run beside
# other benchmarks. Results: OUT_DIR/<variant>-<run>.json (the generator's) and OUT_DIR/<variant>-<run>.ready
# (milliseconds from launch to ready); bench/scripts/summarize.py OUT_DIR prints the table.
# Needs ./portcullis build first.
set -euo pipefail
cd "$(dirname "$0")/../.."

OUT_DIR=${1:-$(mktemp -d /tmp/portcullis-coldstart.XXXXXX)}
shift || true
VARIANTS=("$@")
if [[ ${#VARIANTS[@]} -eq 0 ]]; then
  VARIANTS=(jit aot warm aot+warm)
  [[ -n ${NODE_WS_DIR:-} ]] && VARIANTS+=(node-ws)
fi
RUNS=${RUNS:-3}
HANDSHAKES=${HANDSHAKES:-10000}
SOURCES=127.0.0.2-127.0.0.9
JAR=${GATEWAY_JAR:-gateway/target/portcullis.jar}
CACHE=${AOT_CACHE:-gateway/target/portcullis.aot}
BASE_OPTS=${GATEWAY_JAVA_OPTS:--Xms128m -Xmx128m}
mkdir -p "$OUT_DIR"
[[ -f $JAR && -f bench/target/portcullis-bench.jar ]] || { echo "coldstart.sh: run ./portcullis build first" >&2; exit 1; }
source bench/scripts/lib.sh

trap stop_server EXIT

run() { # run VARIANT N
  local variant=$1 n=$2 port admin ready url opts warmup="off" log="$OUT_DIR/$1-$2.log"
  port=$(free_port)
  admin=$(free_port)
  case $variant in
    jit|aot|warm|aot+warm|steady)
      opts=$BASE_OPTS
      if [[ $variant == aot* || ( $variant == steady && -f $CACHE ) ]]; then
        [[ -f $CACHE ]] || { echo "coldstart.sh: no $CACHE (./portcullis build makes it on JDK 25+)" >&2; exit 1; }
        opts="$opts -XX:AOTCache=$CACHE"
      fi
      [[ $variant == *warm || $variant == steady ]] && warmup=${WARMUP:-on}
      launched=$(date +%s%N)
      GATEWAY_JAVA_OPTS=$opts PORTCULLIS_SERVER_PORT=$port PORTCULLIS_ADMIN_PORT=$admin PORTCULLIS_SERVER_WARMUP=$warmup \
        launch_gateway "$JAR" "$log"
      SERVER_PID=$!
      ready=$(await_url "http://127.0.0.1:$admin/readyz" "$log" "$launched") ;;
    node-ws)
      # The generator sends its token as Authorization: Bearer, node-ws reads ?token= only: a copy of
      # its server.js that reads the header when the query has none (the same jwt.verify call).
      sed "s#url.searchParams.get('token') || ''#url.searchParams.get('token') || (req.headers.authorization || '').replace(/^Bearer /i, '')#" \
        "$NODE_WS_DIR/server.js" >"$NODE_WS_DIR/server-bearer.js"
      grep -q "req.headers.authorization" "$NODE_WS_DIR/server-bearer.js" \
        || { echo "coldstart.sh: $NODE_WS_DIR/server.js changed; the bearer-header line no longer applies" >&2; exit 1; }
      launched=$(date +%s%N)
      (cd "$NODE_WS_DIR" && PORT=$port JWT_SECRET=$PORTCULLIS_BENCH_SECRET PER_IP_LIMIT=0 RATE_LIMIT_PER_SEC=0 \
        exec node server-bearer.js) >"$log" 2>&1 &
      SERVER_PID=$!
      ready=$(await_url "http://127.0.0.1:$port/healthz" "$log" "$launched") ;;
    *) echo "coldstart.sh: unknown variant $variant" >&2; exit 2 ;;
  esac
  echo "$ready" >"$OUT_DIR/$variant-$n.ready"
  echo "== $variant run $n: ready after $ready ms" >&2
  if [[ $variant == steady ]]; then
    for round in 1 2 3; do
      bench_load connect -n "$HANDSHAKES" --hold 1s --source-addresses "$SOURCES" --url "ws://127.0.0.1:$port/ws" \
        --no-progress --out "$OUT_DIR/$variant-$n-before-$round.json" >/dev/null 2>&1 || true
    done
  fi
  bench_load connect -n "$HANDSHAKES" --hold 1s --source-addresses "$SOURCES" --url "ws://127.0.0.1:$port/ws" \
    --server-pid "$SERVER_PID" --no-progress --out "$OUT_DIR/$variant-$n.json" | tail -2 >&2 || true
  stop_server
}

for n in $(seq "$RUNS"); do
  for variant in "${VARIANTS[@]}"; do
    run "$variant" "$n"
  done
done
python3 bench/scripts/summarize.py "$OUT_DIR"
