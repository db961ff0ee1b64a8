package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RawWebSocket;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 6 and the protocol-error rules: size cap, UTF-8, binary, bad JSON, repeated violations. */
class MessageLimitsIT {
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(Map.of("limits.connections-per-user", "0", "limits.protocol-violations", "3"));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    private static RawWebSocket upgraded(String user) throws Exception {
        RawWebSocket raw = RawWebSocket.open(gateway.gateway().port(), "/ws?token=" + Tokens.hs256(user));
        assertThat(raw.status()).isEqualTo(101);
        assertThat(WsClient.json(raw.read().text()).path("type").asText()).isEqualTo("connected");
        return raw;
    }

    @Test
    void a20KiBMessageClosesWith1009() {
        try (WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("big")))) {
            client.awaitMessage("connected");
            client.socket().sendText("{\"type\":\"ping\",\"pad\":\"" + "x".repeat(20 * 1024) + "\"}", true);
            assertThat(client.awaitClose().code()).isEqualTo(1009);
        }
    }

    @Test
    void aFragmentedMessageOverTheLimitClosesWith1009() throws Exception {
        try (RawWebSocket raw = upgraded("fragments")) {
            byte[] chunk = new byte[4096];
            Arrays.fill(chunk, (byte) 'a');
            raw.send(RawWebSocket.TEXT, chunk, false);
            for (int i = 0; i < 4; i++) {
                raw.send(RawWebSocket.CONTINUATION, chunk, false);
            }
            RawWebSocket.Frame close = raw.readUntilClose();
            assertThat(close).isNotNull();
            assertThat(close.closeCode()).isEqualTo(1009);
        }
    }

    @Test
    void invalidUtf8ClosesWith1007() throws Exception {
        try (RawWebSocket raw = upgraded("utf8")) {
            raw.send(RawWebSocket.TEXT, new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'}, true);
            RawWebSocket.Frame close = raw.readUntilClose();
            assertThat(close).isNotNull();
            assertThat(close.closeCode()).isEqualTo(1007);
        }
    }

    @Test
    void aBinaryFrameClosesWith1003() throws Exception {
        try (RawWebSocket raw = upgraded("binary")) {
            raw.send(RawWebSocket.BINARY, new byte[] {1, 2, 3}, true);
            assertThat(raw.readUntilClose().closeCode()).isEqualTo(1003);
        }
    }

    @Test
    void badJsonAndUnknownTypesGetErrorsThenRepeatedViolationsClose4503() {
        try (WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("garbage")))) {
            client.awaitMessage("connected");
            client.send("this is not json");
            assertThat(client.awaitMessage("error").path("code").asText()).isEqualTo("bad_json");
            client.send("{\"type\":\"launch-missiles\",\"id\":\"7\"}");
            JsonNode unknown = client.awaitMessage("error");
            assertThat(unknown.path("code").asText()).isEqualTo("unknown_type");
            assertThat(unknown.path("id").isTextual()).as("a string id comes back a string").isTrue();
            assertThat(unknown.path("id").asText()).isEqualTo("7");
            client.send("{\"type\":\"auth\"}");
            assertThat(client.awaitMessage("error").path("code").asText()).isEqualTo("invalid_message");
            client.send("[]");
            assertThat(client.awaitClose().code()).isEqualTo(4503);
        }
    }

    @Test
    void pingGetsPong() {
        try (WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("pinger")))) {
            client.awaitMessage("connected");
            client.send("{\"type\":\"ping\",\"id\":42}");
            JsonNode pong = client.awaitMessage("pong");
            assertThat(pong.path("id").isIntegralNumber()).as("an integer id comes back an integer: %s", pong).isTrue();
            assertThat(pong.path("id").asLong()).isEqualTo(42);
        }
    }

    @Test
    void plainGetOnThePathIs426AndOtherPathsAre404() throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        var onPath = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + gateway.gateway().port() + "/ws")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(onPath.statusCode()).isEqualTo(426);
        assertThat(WsClient.json(onPath.body()).path("error").asText()).isEqualTo("upgrade_required");
        var elsewhere = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + gateway.gateway().port() + "/other")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(elsewhere.statusCode()).isEqualTo(404);
    }
}
