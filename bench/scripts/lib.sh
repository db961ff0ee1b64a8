# Shared by the bench scripts (sourced, from the repository root): the benchmark credentials, the
# JDK, and starting, awaiting and stopping gateway processes. The jars are run as they are:
# ./portcullis serve and ./portcullis bench would rebuild stale sources in the middle of a run.

export PORTCULLIS_BENCH_SECRET=${PORTCULLIS_BENCH_SECRET:-bench-secret-0123456789-0123456789-0123456789}
export PORTCULLIS_BENCH_API_KEY=${PORTCULLIS_BENCH_API_KEY:-bench-api-key-0123456789}
JAVA=$(./portcullis java-home)/bin/java

# launch_gateway JAR LOG: starts the gateway jar with bench/config/gateway-load.yaml and
# $GATEWAY_JAVA_OPTS in the background (PORTCULLIS_* variables set by the caller apply); its pid is
# in $!. The generator's own variables are left out: builds before 2026-11-22 refused them.
launch_gateway() {
  # shellcheck disable=SC2086 # the flags are words
  env -u PORTCULLIS_BENCH_SECRET -u PORTCULLIS_BENCH_API_KEY \
    "$JAVA" --enable-native-access=ALL-UNNAMED $GATEWAY_JAVA_OPTS -jar "$1" \
    serve --config bench/config/gateway-load.yaml >"$2" 2>&1 &
}

# await_ready ADMIN_PORT LOG: waits up to 30 s for /readyz, or exits naming the log.
await_ready() {
  for _ in $(seq 300); do
    curl -sf "http://127.0.0.1:$1/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "$(basename "$0"): the gateway on admin port $1 is not ready; see $2" >&2
  exit 1
}

# start_gateway JAR LOG / stop_gateway: one gateway at a time (admin port 9090), its pid in $GATEWAY_PID.
GATEWAY_PID=
start_gateway() {
  stop_gateway
  if curl -s -o /dev/null http://127.0.0.1:9090/readyz 2>/dev/null; then
    echo "$(basename "$0"): something already answers on port 9090 (another run?); stop it first" >&2
    exit 1
  fi
  launch_gateway "$1" "$2"
  GATEWAY_PID=$!
  await_ready 9090 "$2"
}
stop_gateway() {
  if [[ -n $GATEWAY_PID ]]; then
    kill "$GATEWAY_PID" 2>/dev/null || true
    wait "$GATEWAY_PID" 2>/dev/null || true
    GATEWAY_PID=
  fi
}

# Servers on free ports, one at a time (peers.sh, coldstart.sh, deflate.sh): free_port prints a free loopback
# port; await_url URL LOG START_NS waits (polling every 10 ms, up to 60 s) for URL to answer 200
# from the server in $SERVER_PID and prints the milliseconds since START_NS (date +%s%N), or exits
# naming the log; stop_server stops $SERVER_PID.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
SERVER_PID=
await_url() {
  for _ in $(seq 6000); do
    if curl -sf -o /dev/null "$1" 2>/dev/null; then
      echo $(( ($(date +%s%N) - $3) / 1000000 ))
      return 0
    fi
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.01
  done
  echo "$(basename "$0"): not ready at $1; see $2" >&2
  stop_server
  exit 1
}
stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=
  fi
}

# bench_load ARGS...: the load generator.
bench_load() {
  "$JAVA" --enable-native-access=ALL-UNNAMED -jar bench/target/portcullis-bench.jar load "$@"
}
