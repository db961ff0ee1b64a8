#!/usr/bin/env bash
# Soak: one gateway under churn, fan-out, re-auth and slow consumers for MINUTES (default 30), its
# memory printed every minute, so that a leak shows as a line that keeps climbing.
#
#   bench/scripts/soak.sh [MINUTES] [OUT_DIR]
#
# The load, all at once, loopback only (ports 8080 and 9090):
#   - fan-out: 2,000 subscribers of `bench`, 10 publications/s through the admin API (20,000
#     deliveries/s), the channel keeping history (bench=1000/10m);
#   - churn: 40 connections a second open, stay 2 s and close;
#   - re-auth: auth.reauth-interval 30s, so every connection is asked for a fresh token twice a minute
#     (the generator answers);
#   - slow consumers: every 10 s, 20 clients subscribe and stop reading (bench/scripts/slow_consumers.py),
#     so the slow-consumer cut-off (4009) runs all the time.
# Every minute, after a full GC (jcmd GC.run): live heap, RSS, Netty's direct buffer memory, open files,
# threads, active connections, and the counters that say the load is really running. At the end the
# least-squares slope of live heap and RSS over the second half. Not part of the test command.
# Needs ./portcullis build first and python3.
set -euo pipefail
cd "$(dirname "$0")/../.."

MINUTES=${1:-30}
OUT_DIR=${2:-$(mktemp -d /tmp/portcullis-soak.XXXXXX)}
mkdir -p "$OUT_DIR"
GATEWAY_JAVA_OPTS=${GATEWAY_JAVA_OPTS:--Xms256m -Xmx256m -XX:+AlwaysPreTouch}
[[ -f gateway/target/portcullis.jar && -f bench/target/portcullis-bench.jar ]] || { echo "soak.sh: run ./portcullis build first" >&2; exit 1; }
source bench/scripts/lib.sh

export PORTCULLIS_AUTH_REAUTH_INTERVAL=30s
export PORTCULLIS_HISTORY_CHANNELS='bench=1000/10m,alerts=1000/24h,user:*=100/24h'
PIDS=()
cleanup() {
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  stop_gateway
}
trap cleanup EXIT
# Run copies: a build during the half hour rewrites target/*.jar under the running JVMs, which then
# fail to load their next class (NoClassDefFoundError on an event loop), and that is not the gateway's fault.
cp gateway/target/portcullis.jar "$OUT_DIR/portcullis.jar"
cp bench/target/portcullis-bench.jar "$OUT_DIR/portcullis-bench.jar"
bench_load() { "$JAVA" --enable-native-access=ALL-UNNAMED -jar "$OUT_DIR/portcullis-bench.jar" load "$@"; }
start_gateway "$OUT_DIR/portcullis.jar" "$OUT_DIR/gateway.log"
JCMD=$(dirname "$(readlink -f "/proc/$GATEWAY_PID/exe")")/jcmd
echo "soak: gateway pid $GATEWAY_PID, $MINUTES minutes, results in $OUT_DIR" >&2

bench_load churn -n 2000 --rate 10 --churn-rate 40 --churn-hold 2s -d "$((MINUTES * 60 + 30))s" \
  --server-pid "$GATEWAY_PID" --no-progress --out "$OUT_DIR/churn.json" >"$OUT_DIR/churn.txt" 2>&1 &
PIDS+=($!)
python3 bench/scripts/slow_consumers.py 127.0.0.1 8080 bench 20 10 60 "$((MINUTES * 60))" >"$OUT_DIR/slow.txt" 2>&1 &
PIDS+=($!)

mb() { awk -v v="$1" -v d="$2" 'BEGIN { printf "%.1f", v / d }'; }
metric() { # metric NAME_PREFIX: the sum of the series starting with it
  awk -v m="$1" 'index($0, m) == 1 { sum += $NF } END { printf "%d", sum }' "$OUT_DIR/metrics.txt"
}
printf 'minute\theap_after_gc_mb\trss_mb\tdirect_mb\tfds\tthreads\tactive\topened\tslow_cut\tauth_msgs\tdelivered_msgs\n' | tee "$OUT_DIR/soak.tsv"
for minute in $(seq "$MINUTES"); do
  sleep 60
  kill -0 "$GATEWAY_PID" 2>/dev/null || { echo "soak.sh: the gateway died; see $OUT_DIR/gateway.log" >&2; exit 1; }
  "$JCMD" "$GATEWAY_PID" GC.run >/dev/null
  heap_kb=$("$JCMD" "$GATEWAY_PID" GC.heap_info | grep -oP 'used \K[0-9]+(?=K)' | head -1)
  rss_kb=$(awk '/^VmRSS/ { print $2 }' "/proc/$GATEWAY_PID/status")
  threads=$(awk '/^Threads/ { print $2 }' "/proc/$GATEWAY_PID/status")
  fds=$(find "/proc/$GATEWAY_PID/fd" -mindepth 1 -maxdepth 1 | wc -l)
  curl -sf http://127.0.0.1:9090/metrics >"$OUT_DIR/metrics.txt"
  printf '%d\t%.1f\t%.1f\t%.1f\t%d\t%d\t%d\t%d\t%d\t%d\t%d\n' "$minute" "$(mb "$heap_kb" 1024)" "$(mb "$rss_kb" 1024)" \
    "$(mb "$(metric 'portcullis_buffers_used_bytes{memory="direct"')" 1048576)" "$fds" "$threads" \
    "$(metric 'portcullis_connections_active ')" "$(metric 'portcullis_connections_opened_total')" \
    "$(metric 'portcullis_slow_consumers_total')" "$(metric 'portcullis_messages_received_total{type="auth"')" \
    "$(metric 'portcullis_messages_sent_total{type="message"')" | tee -a "$OUT_DIR/soak.tsv"
done

# Least-squares slope (per minute) of column $2 over the second half of the minutes.
slope() {
  awk -F'\t' -v col="$1" -v from="$((MINUTES / 2 + 1))" 'NR > 1 && $1 >= from { n++; x += $1; y += $col; xx += $1 * $1; xy += $1 * $col }
    END { if (n < 2) { print "n/a"; exit } printf "%.3f", (n * xy - x * y) / (n * xx - x * x) }' "$OUT_DIR/soak.tsv"
}
echo "soak: over minutes $((MINUTES / 2 + 1))-$MINUTES: live heap $(slope 2) MB/min, RSS $(slope 3) MB/min, direct $(slope 4) MB/min, open files $(slope 5)/min" | tee "$OUT_DIR/summary.txt"
# A sample can catch slow consumers' unsent replies (up to twice limits.max-outbound-bytes each) still
# alive; the lowest sample of each 5 minutes is the floor a leak would raise.
awk -F'\t' 'NR > 1 { w = int(($1 - 1) / 5); if (!(w in h) || $2 < h[w]) h[w] = $2; if (!(w in r) || $3 < r[w]) r[w] = $3; if (w > last) last = w }
  END { printf "soak: lowest live heap / RSS (MB) per 5 minutes:"; for (i = 0; i <= last; i++) printf " %s/%s", h[i], r[i]; print "" }' \
  "$OUT_DIR/soak.tsv" | tee -a "$OUT_DIR/summary.txt"
wait "${PIDS[0]}" || true
tail -5 "$OUT_DIR/churn.txt" | tee -a "$OUT_DIR/summary.txt"
tail -1 "$OUT_DIR/slow.txt" | tee -a "$OUT_DIR/summary.txt"
