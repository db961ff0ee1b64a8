package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Acceptance 10: graceful shutdown, in process and as a real process on SIGTERM. */
class ShutdownIT {
    private static final Pattern LISTENING = Pattern.compile("listening: ws://[^ ]*:(\\d+)/ws .*admin http://[^ ]*:(\\d+)");

    @Test
    void closeSends1001ToEveryClientAndTheGatewayStopsAccepting() {
        TestGateway gateway = TestGateway.start();
        List<WsClient> clients = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("leaver-" + i)));
            client.awaitMessage("connected");
            clients.add(client);
        }
        URI uri = gateway.uri(Tokens.hs256("late"));
        gateway.close();
        for (WsClient client : clients) {
            WsClient.Closed closed = client.awaitClose();
            assertThat(closed.code()).isEqualTo(1001);
            assertThat(closed.reason()).isNotBlank();
        }
        assertThat(gateway.gateway().connections().sockets()).isZero();
        assertThat(gateway.gateway().ready()).isFalse();
        try {
            WsClient.Attempt attempt = WsClient.attempt(uri);
            assertThat(attempt.upgraded()).isFalse();
        } catch (AssertionError refused) {
            assertThat(refused).hasMessageContaining("connection failed");
        }
    }

    @Test
    void sigtermClosesEveryConnectionWith1001AndTheProcessExits0(@TempDir Path dir) throws Exception {
        Path jar = Path.of("target", "portcullis.jar");
        assertThat(jar).as("the shaded jar is built in the package phase, before integration tests").exists();
        Path config = dir.resolve("portcullis.yaml");
        Files.writeString(config, """
                server:
                  host: 127.0.0.1
                  port: 0
                admin:
                  port: 0
                auth:
                  hmac-secret: %s
                shutdown:
                  drain-timeout: 5s
                log:
                  format: json
                  level: debug
                """.formatted(Tokens.SECRET));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process process = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-jar", jar.toString(), "serve", "--config", config.toString())
                .redirectErrorStream(true)
                .start();
        try {
            BlockingQueue<String> lines = new LinkedBlockingQueue<>();
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    in.lines().forEach(lines::add);
                } catch (IOException ignored) {
                    // process ended
                }
            });
            reader.setDaemon(true);
            reader.start();
            Matcher listening = awaitLine(lines, process);
            int port = Integer.parseInt(listening.group(1));
            List<WsClient> clients = new ArrayList<>();
            List<String> tokens = new ArrayList<>();
            List<String> connectionIds = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                String token = Tokens.hs256("proc-" + i);
                tokens.add(token);
                WsClient client = WsClient.connect(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + token));
                connectionIds.add(client.awaitMessage("connected").path("connection").asText());
                clients.add(client);
            }
            WsClient.attempt(URI.create("ws://127.0.0.1:" + port + "/ws?token=" + tokens.get(0) + "tampered"));
            process.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
            for (WsClient client : clients) {
                assertThat(client.awaitClose().code()).isEqualTo(1001);
            }
            assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("process exited").isTrue();
            assertThat(process.exitValue()).isZero();
            reader.join(5_000);
            List<String> output = new ArrayList<>(lines);
            // log.format json: every line is one JSON object; connection lines carry the id; no token anywhere.
            assertThat(output).isNotEmpty().allSatisfy(line -> {
                assertThat(WsClient.json(line).path("level").asText()).isNotEmpty();
                tokens.forEach(token -> assertThat(line).doesNotContain(token.substring(token.lastIndexOf('.') + 1)));
            });
            assertThat(output).anySatisfy(line -> assertThat(WsClient.json(line).path("conn").asText()).isEqualTo(connectionIds.get(0)));
        } finally {
            process.destroyForcibly();
        }
    }

    private static Matcher awaitLine(BlockingQueue<String> lines, Process process) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        StringBuilder seen = new StringBuilder();
        while (System.nanoTime() < deadline) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.append(line).append('\n');
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    return m;
                }
            } else if (!process.isAlive()) {
                break;
            }
        }
        throw new AssertionError("gateway did not report its ports; output:\n" + seen);
    }
}
