package dev.portcullis.gateway.history;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15: with {@code broker.type: local} and {@code history.snapshot-file}, a graceful restart of
 * the real process (SIGTERM, start again) keeps every channel's epoch, offsets and history, so a
 * client that comes back with its last position recovers what it missed; a crash (SIGKILL) writes
 * nothing, and the next start begins new epochs rather than reusing the snapshot an earlier clean
 * shutdown wrote.
 */
class SnapshotRestartIT {
    private static final String API_KEY = "snapshot-it-api-key-0123456789";

    private static String yaml(Path snapshot) {
        return """
                server:
                  host: 127.0.0.1
                  port: 0
                admin:
                  port: 0
                  api-keys: [%s]
                auth:
                  hmac-secret: %s
                channels:
                  public: [alerts]
                history:
                  snapshot-file: %s
                shutdown:
                  drain-timeout: 2s
                """.formatted(API_KEY, Tokens.SECRET, snapshot);
    }

    private static WsClient connect(GatewayProcess gateway) {
        WsClient client = WsClient.connect(URI.create("ws://127.0.0.1:" + gateway.port() + "/ws?token=" + Tokens.hs256("phone")));
        client.awaitMessage("connected");
        return client;
    }

    private static JsonNode subscribe(WsClient client, long offset, String epoch) {
        client.send("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"alerts\",\"since\":{\"offset\":" + offset + ",\"epoch\":\"" + epoch + "\"}}");
        return client.awaitMessage("ack");
    }

    private static JsonNode publish(GatewayProcess gateway, int n) {
        return WsClient.json(gateway.admin().publish(API_KEY, "alerts", "{\"n\":" + n + "}"));
    }

    @Test
    void aGracefulRestartKeepsTheHistoryAndACrashStartsNewEpochs(@TempDir Path dir) throws Exception {
        Path snapshot = dir.resolve("history.snapshot");
        String epoch;
        long seen;
        try (GatewayProcess first = GatewayProcess.start(dir, yaml(snapshot), "")) {
            assertThat(first.admin().metric("portcullis_history_snapshot_loads_total{outcome=\"none\"}")).isEqualTo(1);
            WsClient client = connect(first);
            client.send("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"alerts\"}");
            epoch = client.awaitMessage("ack").path("epoch").asText();
            for (int n = 1; n <= 3; n++) {
                assertThat(publish(first, n).path("offset").asLong()).isEqualTo(n);
            }
            for (int n = 1; n <= 3; n++) {
                JsonNode message = client.awaitMessage("message");
                assertThat(message.path("offset").asLong()).isEqualTo(n);
                assertThat(message.path("epoch").asText()).isEqualTo(epoch);
            }
            seen = 3;
            client.abort(); // the phone lost signal; two more alerts come meanwhile
            publish(first, 4);
            publish(first, 5);
            assertThat(snapshot).doesNotExist();
            assertThat(first.terminate(Duration.ofSeconds(20))).as("exit status after SIGTERM").isZero();
            assertThat(first.output()).anySatisfy(line -> assertThat(line).contains("wrote the history of 1 channels"));
        }
        assertThat(snapshot).as("written on the graceful shutdown").exists();

        try (GatewayProcess second = GatewayProcess.start(dir, yaml(snapshot), "")) {
            assertThat(snapshot).as("consumed by the start").doesNotExist();
            assertThat(second.admin().metric("portcullis_history_snapshot_loads_total{outcome=\"restored\"}")).isEqualTo(1);
            WsClient client = connect(second);
            JsonNode ack = subscribe(client, seen, epoch);
            assertThat(ack.path("recovered").asBoolean()).as("recovered across the restart").isTrue();
            assertThat(ack.path("epoch").asText()).isEqualTo(epoch);
            assertThat(ack.path("offset").asLong()).isEqualTo(5);
            for (int n = 4; n <= 5; n++) {
                JsonNode missed = client.awaitMessage("message");
                assertThat(missed.path("offset").asLong()).isEqualTo(n);
                assertThat(missed.path("data").path("n").asInt()).isEqualTo(n);
            }
            JsonNode live = publish(second, 6);
            assertThat(live.path("offset").asLong()).as("offsets continue").isEqualTo(6);
            assertThat(live.path("epoch").asText()).isEqualTo(epoch);
            assertThat(client.awaitMessage("message").path("offset").asLong()).isEqualTo(6);
            assertThat(client.staysQuiet(Duration.ofMillis(200))).as("nothing twice").isTrue();
            seen = 6;
            assertThat(second.kill()).as("SIGKILL").isNotZero();
        }
        assertThat(snapshot).as("a crash writes nothing").doesNotExist();

        try (GatewayProcess third = GatewayProcess.start(dir, yaml(snapshot), "")) {
            assertThat(third.admin().metric("portcullis_history_snapshot_loads_total{outcome=\"none\"}")).isEqualTo(1);
            WsClient client = connect(third);
            JsonNode ack = subscribe(client, seen, epoch);
            assertThat(ack.path("recovered").asBoolean()).as("the history was lost: the client must reload").isFalse();
            assertThat(ack.path("epoch").asText()).as("a new epoch, not the one of the consumed snapshot").isNotEqualTo(epoch);
            assertThat(ack.path("offset").asLong()).isZero();
            assertThat(publish(third, 7).path("offset").asLong()).isEqualTo(1);
            client.close();
        }
    }

    @Test
    void aCorruptSnapshotIsCountedAndTheGatewayStartsEmpty(@TempDir Path dir) throws Exception {
        Path snapshot = dir.resolve("history.snapshot");
        Files.writeString(snapshot, "not a snapshot");
        try (GatewayProcess gateway = GatewayProcess.start(dir, yaml(snapshot), "")) {
            assertThat(gateway.admin().metric("portcullis_history_snapshot_loads_total{outcome=\"corrupt\"}")).isEqualTo(1);
            assertThat(gateway.output()).anySatisfy(line -> assertThat(line).contains("is corrupt"));
            assertThat(dir.resolve("history.snapshot.corrupt")).hasContent("not a snapshot");
            WsClient client = connect(gateway);
            JsonNode ack = subscribe(client, 3, "0badf00d");
            assertThat(ack.path("recovered").asBoolean()).isFalse();
            assertThat(ack.path("offset").asLong()).isZero();
            client.close();
        }
    }
}
