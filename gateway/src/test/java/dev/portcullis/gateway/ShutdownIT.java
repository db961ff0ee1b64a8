package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Acceptance 10: graceful shutdown, in process and as a real process on SIGTERM. */
class ShutdownIT {
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
        try (GatewayProcess gateway = GatewayProcess.start(dir, """
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
                """.formatted(Tokens.SECRET), "")) {
            int port = gateway.port();
            Process process = gateway.process();
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
            gateway.awaitOutputEnd();
            List<String> output = gateway.output();
            // log.format json: every line is one JSON object; connection lines carry the id; no token anywhere.
            assertThat(output).isNotEmpty().allSatisfy(line -> {
                assertThat(WsClient.json(line).path("level").asText()).isNotEmpty();
                tokens.forEach(token -> assertThat(line).doesNotContain(token.substring(token.lastIndexOf('.') + 1)));
            });
            assertThat(output).anySatisfy(line -> assertThat(WsClient.json(line).path("conn").asText()).isEqualTo(connectionIds.get(0)));
        }
    }
}
