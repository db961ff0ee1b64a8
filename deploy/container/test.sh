#!/usr/bin/env bash
# Builds the container image (Dockerfile at the root) with podman and runs it as production would:
# non-root, read-only root filesystem, explicit ulimits. Checks that a client connects through the
# published port and gets a publication, that `podman healthcheck run` passes, that `podman stop`
# gives the client close 1001 and the process exits 0 within the drain timeout, and that the image
# is at most 140 MB (80 MB of runtime and jar, and the AOT cache the build's training run writes).
#
# No registry is reachable here, so the base images are made on this machine and passed through the
# Dockerfile's build arguments: a Debian minbase with this machine's JDK for the jlink stage, and a
# Debian root filesystem of glibc alone (the role distroless plays) for the final stage; both with
# mmdebstrap and `podman import`, kept between runs.
set -euo pipefail
cd "$(dirname "$0")/../.."

MAX_IMAGE_MB=140 # 79 MB without the AOT cache (2026-12); the cache adds ~55 MB (BENCHMARKS.md "Cold start")
DRAIN=5s
PODMAN=(podman --runtime runc)
IMAGE=localhost/portcullis:test
NAME=portcullis-image-test-$$

JAVA_HOME="$(./portcullis java-home)"
export JAVA_HOME
source deploy/lib.sh
[[ -f gateway/target/portcullis.jar ]] || ./portcullis build

work="$(mktemp -d)"
client_pid=""
cleanup() {
  [[ -n "$client_pid" ]] && kill "$client_pid" 2>/dev/null || true
  "${PODMAN[@]}" rm -f "$NAME" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

base_image() { # name, a function that finishes the root filesystem in $1, then mmdebstrap arguments
  local name=$1 finish=$2
  shift 2
  if ! "${PODMAN[@]}" image exists "$name"; then
    echo "container test: making $name with mmdebstrap"
    mmdebstrap --quiet "$@" bookworm "$work/rootfs" http://deb.debian.org/debian
    "$finish" "$work/rootfs"
    tar -C "$work/rootfs" -c . | "${PODMAN[@]}" import --quiet - "$name" >/dev/null
    rm -rf "$work/rootfs"
  fi
}

as_is() { :; }

# As distroless's base: a nonroot user 65532 and /tmp; without glibc's charset converters and the
# documentation, which nothing here loads.
distroless_like() {
  mkdir -p "$1/etc" "$1/tmp" "$1/home/nonroot"
  chmod 1777 "$1/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' > "$1/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' > "$1/etc/group"
  chown 65532:65532 "$1/home/nonroot"
  rm -rf "$1"/usr/share/doc "$1"/usr/share/locale "$1"/usr/share/i18n "$1"/usr/share/lintian \
    "$1"/usr/lib/x86_64-linux-gnu/gconv "$1"/var/cache/apt "$1"/var/lib/apt "$1"/var/lib/dpkg
}

# The jlink stage: Debian minbase and the JDK this machine builds with, as $JAVA_HOME=/opt/jdk.
jdk_tag="localhost/portcullis-test/jdk:$(basename "$JAVA_HOME")"
if ! "${PODMAN[@]}" image exists "$jdk_tag"; then
  base_image localhost/portcullis-test/minbase:bookworm as_is --variant=minbase
  cat > "$work/Containerfile.jdk" <<EOF
FROM localhost/portcullis-test/minbase:bookworm
COPY jdk /opt/jdk
ENV JAVA_HOME=/opt/jdk
EOF
  cp -rL "$JAVA_HOME" "$work/jdk"   # -L: the Debian package links cacerts to /etc/ssl
  "${PODMAN[@]}" build --quiet --format docker -t "$jdk_tag" -f "$work/Containerfile.jdk" "$work" >/dev/null
  rm -rf "$work/jdk"
fi
# The final stage's base: glibc and what it needs, finished as distroless's (above); no shell.
base_image localhost/portcullis-test/base:bookworm-glibc distroless_like --variant=extract --include=libc6,libgcc-s1,zlib1g

echo "container test: building $IMAGE"
"${PODMAN[@]}" build --quiet --format docker \
  --build-arg JDK_IMAGE="$jdk_tag" --build-arg BASE_IMAGE=localhost/portcullis-test/base:bookworm-glibc \
  -t "$IMAGE" . >/dev/null
bytes=$("${PODMAN[@]}" image inspect --format '{{.Size}}' "$IMAGE")
size="$(awk -v b="$bytes" 'BEGIN { printf "%.1f MB (%.1f MiB)", b / 1e6, b / 1048576 }')"
echo "container test: image size $size, at most $MAX_IMAGE_MB MB"
(( bytes <= MAX_IMAGE_MB * 1000000 )) || { echo "container test: the image is $size, over $MAX_IMAGE_MB MB" >&2; exit 1; }
[[ "$("${PODMAN[@]}" image inspect --format '{{.Config.User}}' "$IMAGE")" == "65532:65532" ]] \
  || { echo "container test: the image does not run as 65532" >&2; exit 1; }
"${PODMAN[@]}" image inspect --format '{{json .Config.ExposedPorts}}' "$IMAGE" | grep -q '8080/tcp' \
  || { echo "container test: 8080 not exposed" >&2; exit 1; }

port=$(free_port)
admin=$(free_port)
secret="container-test-secret-0123456789-abcdef"
key="container-test-api-key"
# A configuration file as Kubernetes mounts it (deploy/k8s): YAML and JSON logs work in the trimmed runtime.
printf 'shutdown:\n  drain-timeout: %s\nlog:\n  format: json\n' "$DRAIN" > "$work/portcullis.yaml"
chmod 644 "$work/portcullis.yaml"
chmod 755 "$work"
# --health-interval=disable: no timer (it needs systemd, absent here); `podman healthcheck run` still runs the image's check.
"${PODMAN[@]}" run -d --name "$NAME" --read-only --health-interval=disable \
  --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 \
  -p "127.0.0.1:$port:8080" -p "127.0.0.1:$admin:9090" \
  -e PORTCULLIS_AUTH_HMAC_SECRET="$secret" -e PORTCULLIS_ADMIN_API_KEYS="$key" \
  -v "$work/portcullis.yaml:/etc/portcullis/portcullis.yaml:ro" \
  "$IMAGE" serve --config /etc/portcullis/portcullis.yaml >/dev/null

await_ready "http://127.0.0.1:$admin/readyz" || { "${PODMAN[@]}" logs "$NAME" >&2; echo "container test: not ready" >&2; exit 1; }

[[ "$("${PODMAN[@]}" inspect --format '{{.HostConfig.ReadonlyRootfs}}' "$NAME")" == "true" ]] || { echo "not read-only" >&2; exit 1; }
user=$("${PODMAN[@]}" top "$NAME" huser user | awk 'NR==2 {print $1}')
[[ "$user" == "65532" ]] || { echo "container test: the process runs as '$user', not 65532" >&2; exit 1; }
echo "container test: running as uid $user, read-only root filesystem"

token=$("$JAVA_HOME/bin/java" -jar gateway/target/portcullis.jar token --secret "$secret" --sub container)
node deploy/container/client.mjs "ws://127.0.0.1:$port/ws" "$token" > "$work/client.out" 2>&1 &
client_pid=$!
await_line "$work/client.out" '^connected' || true
curl -fs -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"channel":"user:container","data":{"text":"hello from the image"}}' "http://127.0.0.1:$admin/api/publish" >/dev/null
await_line "$work/client.out" '^message {"text":"hello from the image"}' || { cat "$work/client.out" >&2; exit 1; }
echo "container test: a client through the published port received a publication"

# The image's check allows 3 retries (HEALTHCHECK --retries=3); so does this: a check JVM started on
# a loaded machine while the gateway's compiler threads finish after the warm-up can miss its 5 s once.
for attempt in 1 2 3; do
  "${PODMAN[@]}" healthcheck run "$NAME" && break
  [[ $attempt -lt 3 ]] || { echo "container test: podman healthcheck run failed 3 times" >&2; exit 1; }
done
echo "container test: podman healthcheck run passed"

# The AOT cache the build's training run wrote fits the image's runtime, jar and entrypoint flags: the JVM uses it
# (with a stale or empty cache it would only warn and start cold, which no other check here notices).
aot=$("${PODMAN[@]}" run --rm --ulimit nofile=20000:20000 --ulimit nproc=32768:32768 --entrypoint /opt/java/bin/java "$IMAGE" --enable-native-access=ALL-UNNAMED -XX:AOTCache=/app/portcullis.aot -Xlog:aot=info \
  -jar /app/portcullis.jar --version 2>&1 || true)
grep -q "Using AOT-linked classes: true" <<<"$aot" || { echo "$aot" | tail -20 >&2; echo "container test: the image's AOT cache is not used" >&2; exit 1; }
echo "container test: the image's AOT cache is used"

start=$(date +%s%N)
"${PODMAN[@]}" stop -t 30 "$NAME" >/dev/null
elapsed_ms=$(( ($(date +%s%N) - start) / 1000000 ))
exit_code=$("${PODMAN[@]}" inspect --format '{{.State.ExitCode}}' "$NAME")
wait "$client_pid" || true
client_pid=""
grep -q '^closed 1001' "$work/client.out" || { cat "$work/client.out" >&2; echo "container test: no close 1001" >&2; exit 1; }
[[ "$exit_code" == "0" ]] || { "${PODMAN[@]}" logs "$NAME" | tail -20 >&2; echo "container test: exit code $exit_code" >&2; exit 1; }
(( elapsed_ms <= 5000 + 5000 )) || { echo "container test: stop took ${elapsed_ms} ms, more than the drain timeout + 5 s" >&2; exit 1; }
echo "container test: podman stop: the client got 1001, the process exited 0 after ${elapsed_ms} ms (drain timeout $DRAIN)"
