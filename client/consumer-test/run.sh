#!/usr/bin/env bash
# The Java client as another project consumes it: the install command of client/README.md (no tests),
# the sources and javadoc jars beside the jar, then a separate Maven project (this directory) built
# against those coordinates and run against a real gateway, where it receives a publication.
set -euo pipefail
cd "$(dirname "$0")/../.."
JAVA_HOME="$(./portcullis java-home)"
export JAVA_HOME
source deploy/lib.sh

# The documented command (client/README.md, "Using it in your project").
./mvnw -B -q -DskipTests -pl client -am install

repo="${MAVEN_REPO_LOCAL:-$HOME/.m2/repository}/dev/portcullis/portcullis-client/0.1.0-SNAPSHOT"
for jar in portcullis-client-0.1.0-SNAPSHOT.jar portcullis-client-0.1.0-SNAPSHOT-sources.jar portcullis-client-0.1.0-SNAPSHOT-javadoc.jar; do
  [[ -s "$repo/$jar" ]] || { echo "consumer test: $jar was not installed" >&2; exit 1; }
done

work="$(mktemp -d)"
gateway_pid=""
cleanup() {
  [[ -n "$gateway_pid" ]] && kill "$gateway_pid" 2>/dev/null && wait "$gateway_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The consumer project, outside the reactor: only the published coordinates connect it to ours.
cp -r client/consumer-test/pom.xml client/consumer-test/src "$work/"
./mvnw -B -q -f "$work/pom.xml" package dependency:build-classpath -Dmdep.outputFile="$work/classpath.txt"

port=$(free_port)
admin=$(free_port)
secret="consumer-test-secret-0123456789-abcdef"
cat > "$work/gateway.yaml" <<YAML
server: { host: 127.0.0.1, port: $port, warmup: "off" }
admin: { port: $admin, api-keys: [consumer-test-key] }
auth: { hmac-secret: $secret }
YAML
"$JAVA_HOME/bin/java" --enable-native-access=ALL-UNNAMED -jar gateway/target/portcullis.jar serve --config "$work/gateway.yaml" \
  > "$work/gateway.log" 2>&1 &
gateway_pid=$!
await_ready "http://127.0.0.1:$admin/readyz" 20 || true # a gateway that did not start fails the consumer below, with its log
token=$("$JAVA_HOME/bin/java" -jar gateway/target/portcullis.jar token --secret "$secret" --sub consumer)

"$JAVA_HOME/bin/java" -cp "$work/target/classes:$(cat "$work/classpath.txt")" example.Consumer \
  "ws://127.0.0.1:$port/ws" "$token" "user:consumer" > "$work/consumer.out" 2>&1 &
consumer_pid=$!
await_line "$work/consumer.out" '^subscribed' || true
curl -fs -H 'Authorization: Bearer consumer-test-key' -H 'Content-Type: application/json' \
  -d '{"channel":"user:consumer","data":{"text":"hello consumer"}}' "http://127.0.0.1:$admin/api/publish" >/dev/null
if ! wait "$consumer_pid"; then
  echo "consumer test: the consumer failed" >&2
  cat "$work/consumer.out" "$work/gateway.log" >&2
  exit 1
fi
grep -q '^received {"text":"hello consumer"}' "$work/consumer.out" || { cat "$work/consumer.out" >&2; exit 1; }
echo "consumer test: a separate project built against dev.portcullis:portcullis-client:0.1.0-SNAPSHOT received a publication"
