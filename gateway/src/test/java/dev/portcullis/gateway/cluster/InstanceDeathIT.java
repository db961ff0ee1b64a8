package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 4 acceptance 7: an instance killed hard (SIGKILL) drops out of the cluster's listing within the presence TTL. */
class InstanceDeathIT {
    private static final Pattern LISTENING = Pattern.compile("listening: ws://[^ ]*:(\\d+)/ws ");

    @Test
    void aKilledInstancesConnectionsDisappearFromTheOthersListing(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestGateway b = TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                        "broker.instance-id", "b", "broker.presence-ttl", "3s"))) {
            Path config = dir.resolve("a.yaml");
            Files.writeString(config, """
                    server: {host: 127.0.0.1, port: 0}
                    admin: {port: 0}
                    auth: {hmac-secret: %s}
                    broker: {type: redis, redis-url: "%s", instance-id: doomed, presence-ttl: 3s}
                    """.formatted(Tokens.SECRET, redis.url()));
            String java = ProcessHandle.current().info().command().orElse("java");
            ProcessBuilder doomed = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-jar", Path.of("target", "portcullis.jar").toString(),
                    "serve", "--config", config.toString()).redirectErrorStream(true);
            doomed.environment().put("PORTCULLIS_SERVER_WARMUP", "off"); // no JIT warm-up competing with the test
            Process a = doomed.start();
            try {
                int port = port(a);
                WsClient onA = WsClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + Tokens.hs256("ghost")));
                onA.awaitMessage("connected");
                await().atMost(Duration.ofSeconds(10)).until(() -> listed(b, "ghost").size() == 1);
                assertThat(listed(b, "ghost").get(0).path("remote").asText()).startsWith("127.0.0.1:");

                a.destroyForcibly(); // SIGKILL: no goodbye, no cleanup
                assertThat(a.waitFor(10, TimeUnit.SECONDS)).isTrue();
                await().atMost(Duration.ofSeconds(15)).until(() -> listed(b, "ghost").isEmpty());
                onA.abort();
            } finally {
                a.destroyForcibly();
            }
        }
    }

    private static JsonNode listed(TestGateway gateway, String user) {
        return WsClient.json(gateway.api("GET", "/api/connections?user=" + user, null).body()).path("connections");
    }

    private static int port(Process process) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        String line;
        while (System.nanoTime() < deadline && (line = out.readLine()) != null) {
            seen.append(line).append('\n');
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        out.transferTo(java.io.Writer.nullWriter());
                    } catch (java.io.IOException ignored) {
                        // process ended
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(m.group(1));
            }
        }
        throw new AssertionError("instance A did not start:\n" + seen);
    }
}
