#!/usr/bin/env bash
# Runs deploy/compose/compose.yaml with podman-compose and checks what it is for:
# - haproxy -c prints no warning (inside the compose network, where the gateways' names resolve);
# - a client connected through HAProxy receives a publication made on the other gateway;
# - stopping the gateway the client is on, the client reconnects through HAProxy to the other one
#   and recovers what was published meanwhile, exactly once and in order;
# - Prometheus scrapes both gateways (up == 1) and loaded the alert rules.
# The client is the JS client (clients/js/dist) in Node with the ws package.
#
# No registry is reachable here: Redis, HAProxy and Prometheus run from one Debian image made with
# mmdebstrap (packages redis-server, haproxy, prometheus), the gateway from the image of
# deploy/container/test.sh (built first when missing).
set -euo pipefail
cd "$(dirname "$0")/../.."

PODMAN=(podman --runtime runc)
TOOLS=localhost/portcullis-test/compose-tools:bookworm
export PORTCULLIS_IMAGE=localhost/portcullis:test
export REDIS_IMAGE=$TOOLS HAPROXY_IMAGE=$TOOLS PROMETHEUS_IMAGE=$TOOLS
export PORTCULLIS_AUTH_HMAC_SECRET="compose-test-secret-0123456789-abcdef"
export PORTCULLIS_ADMIN_API_KEYS="compose-test-api-key"
source deploy/lib.sh
PROJECT=portcullis-compose-test
COMPOSE=(podman-compose --podman-args=--runtime=runc -p "$PROJECT" -f deploy/compose/compose.yaml)

"${PODMAN[@]}" image exists "$PORTCULLIS_IMAGE" || bash deploy/container/test.sh
[[ -f clients/js/dist/portcullis.js ]] || (cd clients/js && npm ci --no-audit --no-fund && npm run build)
if ! "${PODMAN[@]}" image exists "$TOOLS"; then
  echo "compose test: making $TOOLS with mmdebstrap"
  work="$(mktemp -d)"
  mmdebstrap --quiet --variant=minbase --include=redis-server,haproxy,prometheus bookworm "$work/rootfs.tar" http://deb.debian.org/debian
  "${PODMAN[@]}" import --quiet "$work/rootfs.tar" "$TOOLS" >/dev/null
  rm -rf "$work"
fi

client_pid=""
out="$(mktemp)"
cleanup() {
  [[ -n "$client_pid" ]] && kill "$client_pid" 2>/dev/null || true
  "${COMPOSE[@]}" down -t 10 >/dev/null 2>&1 || true
  rm -f "$out"
}
trap cleanup EXIT

"${COMPOSE[@]}" down -t 5 >/dev/null 2>&1 || true
"${COMPOSE[@]}" up -d >/dev/null 2>&1
for admin in 9091 9092; do
  await_ready "http://127.0.0.1:$admin/readyz" || { "${COMPOSE[@]}" logs >&2; echo "compose test: gateway on $admin not ready" >&2; exit 1; }
done

check=$("${PODMAN[@]}" exec "${PROJECT}_haproxy_1" haproxy -c -f /etc/portcullis/haproxy.cfg 2>&1)
if grep -q WARNING <<<"$check" || ! grep -q 'Configuration file is valid' <<<"$check"; then
  echo "$check" >&2
  echo "compose test: haproxy -c is not clean" >&2
  exit 1
fi
echo "compose test: haproxy -c: valid, no warning"

token=$(java_home="$(./portcullis java-home)"; "$java_home/bin/java" -jar gateway/target/portcullis.jar token \
  --secret "$PORTCULLIS_AUTH_HMAC_SECRET" --sub walker --ttl 10m --claim 'channels={"alerts":"r"}')
node deploy/compose/client.mjs "ws://127.0.0.1:8080/ws" "$token" > "$out" 2>&1 &
client_pid=$!
await_line "$out" '^subscribed' 15 || { cat "$out" >&2; echo "compose test: no subscription through HAProxy" >&2; exit 1; }

# Which gateway holds the client? The other one publishes.
on=""
for _ in $(seq 50); do
  on=$(curl -fs -H "Authorization: Bearer $PORTCULLIS_ADMIN_API_KEYS" http://127.0.0.1:9091/api/stats \
    | python3 -c 'import json,sys; print(next((i["instance"] for i in json.load(sys.stdin)["instances"] if i["connections"] > 0), ""))')
  [[ -n "$on" ]] && break
  sleep 0.2
done
[[ "$on" == gateway-1 || "$on" == gateway-2 ]] || { echo "compose test: cannot tell which gateway holds the client ($on)" >&2; exit 1; }
if [[ "$on" == gateway-1 ]]; then other=gateway-2; other_admin=9092; else other=gateway-1; other_admin=9091; fi
echo "compose test: the client is on $on; publishing on $other"

publish() {
  curl -fs -H "Authorization: Bearer $PORTCULLIS_ADMIN_API_KEYS" -H 'Content-Type: application/json' \
    -d "{\"channel\":\"alerts\",\"data\":{\"seq\":$1}}" "http://127.0.0.1:$other_admin/api/publish" >/dev/null
}
publish 1
await_line "$out" '^message 1 ' || { cat "$out" >&2; echo "compose test: the publication on the other gateway did not arrive" >&2; exit 1; }
echo "compose test: a client through HAProxy received a publication made on the other gateway"

# Stop the client's gateway while publishing on the other: the client comes back through HAProxy and recovers.
"${PODMAN[@]}" stop -t 15 "${PROJECT}_${on}_1" >/dev/null &
stopper=$!
for seq in $(seq 2 21); do
  publish "$seq"
  sleep 0.1
done
wait "$stopper"
await_line "$out" '^message 21 ' 20 || true # the comparison below says what is missing
received=$(grep '^message ' "$out" | awk '{print $2}' | tr '\n' ' ')
expected=$(seq 1 21 | tr '\n' ' ')
if [[ "$received" != "$expected" ]]; then
  cat "$out" >&2
  echo "compose test: received [$received], expected [$expected]" >&2
  exit 1
fi
grep -q '^disconnected 1001' "$out" || { cat "$out" >&2; echo "compose test: the drain (1001) was not seen" >&2; exit 1; }
recovered=$(grep -c '^message .* recovered$' "$out" || true)
echo "compose test: the gateway stopped, the client reconnected through HAProxy: 21 of 21 once and in order ($recovered recovered from history)"

# Prometheus: both targets scraped (one is down now), the alert rules loaded.
for _ in $(seq 60); do
  ups=$(curl -fs 'http://127.0.0.1:9090/api/v1/query?query=up%7Bjob%3D%22portcullis%22%7D' \
    | python3 -c 'import json,sys; print(len(json.load(sys.stdin)["data"]["result"]))' 2>/dev/null || echo 0)
  [[ "$ups" == 2 ]] && break
  sleep 0.5
done
[[ "$ups" == 2 ]] || { echo "compose test: Prometheus does not scrape both gateways" >&2; exit 1; }
rules=$(curl -fs http://127.0.0.1:9090/api/v1/rules | python3 -c 'import json,sys; print(sum(len(g["rules"]) for g in json.load(sys.stdin)["data"]["groups"]))')
(( rules >= 10 )) || { echo "compose test: Prometheus loaded $rules rules" >&2; exit 1; }
echo "compose test: Prometheus scrapes both gateways and loaded $rules alert rules"

# The Grafana dashboard: every panel's query returns data from this Prometheus (no panel points at a
# metric that does not exist).
python3 deploy/compose/check_dashboard.py deploy/grafana/portcullis.json http://127.0.0.1:9090 60
