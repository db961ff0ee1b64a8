# Portcullis container image: a jlink'd Java runtime and the gateway jar, nothing else.
#
#   ./portcullis build                      # gateway/target/portcullis.jar
#   podman build --format docker -t portcullis:0.1.0 .     # or docker build
#   podman run --read-only -p 8080:8080 -p 9090:9090 -e PORTCULLIS_AUTH_HMAC_SECRET=... \
#       -e PORTCULLIS_ADMIN_API_KEYS=... portcullis:0.1.0
#
# Base images are build arguments; the defaults are the usual public ones. deploy/container/test.sh
# builds and runs it on machines without a registry by passing base images it makes itself.

# A JDK to cut the runtime from: 25+ for the AOT cache (the entrypoint loads it; see below).
ARG JDK_IMAGE=docker.io/library/eclipse-temurin:25-jdk
# The final stage: glibc (all the runtime and Netty's native libraries need), CA certificates and a
# nonroot user (65532); no shell, no package manager, no OpenSSL (TLS is BoringSSL from the jar).
ARG BASE_IMAGE=gcr.io/distroless/base-nossl-debian12:nonroot

FROM ${JDK_IMAGE} AS runtime
# The modules the gateway uses (jdeps --print-module-deps on the shaded jar, less java.desktop and
# jdk.jfr, which only optional code paths of Jackson, SnakeYAML and Lettuce name; plus java.xml for
# Logback's configuration, and jdk.crypto.ec on JDKs before 24, where the EC algorithms live apart).
RUN set -eu; \
    modules=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.management,jdk.unsupported; \
    if "$JAVA_HOME/bin/java" --list-modules | grep -q '^jdk.crypto.ec@'; then modules="$modules,jdk.crypto.ec"; fi; \
    "$JAVA_HOME/bin/jlink" --add-modules "$modules" --strip-java-debug-attributes --no-man-pages --no-header-files \
        --compress=zip-9 --output /opt/java
# The jar without the native libraries of other platforms (Windows, macOS, the other CPU).
COPY gateway/target/portcullis.jar deploy/container/SlimJar.java /build/
RUN mkdir /app && "$JAVA_HOME/bin/java" /build/SlimJar.java /build/portcullis.jar /app/portcullis.jar
# The AOT cache (JDK 25+, BENCHMARKS.md "Cold start"): a training run of the final runtime on the
# final jar path (the cache fits one jar and one runtime), driving real handshakes, messages, fan-out
# and the backend API over loopback for 20 s. If it cannot run, an empty file: the JVM then says it
# cannot use the cache and starts without it.
RUN /opt/java/bin/java --enable-native-access=ALL-UNNAMED -XX:AOTCacheOutput=/app/portcullis.aot \
        -jar /app/portcullis.jar train --duration 20s >/tmp/aot.log 2>&1 \
    || { tail -20 /tmp/aot.log; echo "no AOT cache: the image starts without one"; : >/app/portcullis.aot; }

FROM ${BASE_IMAGE}
COPY --from=runtime /opt/java /opt/java
COPY --from=runtime /app/portcullis.jar /app/portcullis.aot /app/
COPY LICENSE /app/LICENSE
# Memory as a share of the container's limit, the rest for Netty's direct buffers and the kernel;
# exit on OOM so the orchestrator restarts a clean process; no hsperfdata files (read-only root).
ENV JAVA_TOOL_OPTIONS="-XX:MaxRAMPercentage=60 -XX:+ExitOnOutOfMemoryError -XX:-UsePerfData" \
    PORTCULLIS_SERVER_HOST=0.0.0.0 \
    PORTCULLIS_ADMIN_HOST=0.0.0.0
USER 65532:65532
EXPOSE 8080 9090
# The probe is built into the jar: no curl, no shell.
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/opt/java/bin/java", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-jar", "/app/portcullis.jar", "healthcheck"]
ENTRYPOINT ["/opt/java/bin/java", "--enable-native-access=ALL-UNNAMED", "-XX:AOTCache=/app/portcullis.aot", "-jar", "/app/portcullis.jar"]
CMD ["serve"]
