package dev.portcullis.gateway.history;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 6 acceptance 1 and 6 (embedded mode): recovery from the last offset, the history request, idempotent publish. */
class RecoveryIT {

    private static WsClient connected(TestGateway gateway, URI uri) {
        WsClient client = WsClient.connect(uri);
        client.awaitMessage("connected");
        return client;
    }

    @Test
    void aClientThatMissed500AlertsGetsExactlyThoseInOrderThenLiveOnes() {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.connections-per-user", "0", "channels.public", List.of("alerts")))) {
            WsClient first = connected(gateway, gateway.uri(Tokens.hs256("phone")));
            first.send("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"alerts\"}");
            JsonNode ack = first.awaitMessage("ack");
            String epoch = ack.path("epoch").asText();
            assertThat(epoch).isNotBlank();
            assertThat(ack.has("recovered")).as("a plain subscribe has nothing to recover").isFalse();
            gateway.publish("alerts", "{\"n\":0}");
            JsonNode seen = first.awaitMessage("message");
            assertThat(seen.path("epoch").asText()).isEqualTo(epoch);
            long last = seen.path("offset").asLong();
            first.abort(); // the phone lost signal

            for (int i = 1; i <= 500; i++) {
                gateway.publish("alerts", "{\"n\":" + i + "}");
            }
            WsClient back = connected(gateway, gateway.uri(Tokens.hs256("phone")));
            back.send("{\"type\":\"subscribe\",\"id\":\"r\",\"channel\":\"alerts\",\"since\":{\"offset\":" + last + ",\"epoch\":\"" + epoch + "\"}}");
            JsonNode recoveredAck = back.awaitMessage("ack");
            assertThat(recoveredAck.path("recovered").asBoolean()).isTrue();
            assertThat(recoveredAck.path("offset").asLong()).isEqualTo(last + 500);
            for (int i = 1; i <= 500; i++) {
                JsonNode message = back.awaitMessage("message");
                assertThat(message.path("offset").asLong()).isEqualTo(last + i);
                assertThat(message.path("data").path("n").asInt()).isEqualTo(i);
            }
            gateway.publish("alerts", "{\"n\":501}");
            assertThat(back.awaitMessage("message").path("offset").asLong()).as("then live, no gap").isEqualTo(last + 501);
            assertThat(back.staysQuiet(Duration.ofMillis(200))).as("no duplicate").isTrue();
            assertThat(gateway.metric("portcullis_recovered_publications_total")).isEqualTo(500);
            back.close();
        }
    }

    @Test
    void recoveryIsRefusedWhenTheHistoryNoLongerReachesBackOrTheEpochDiffers() {
        try (TestGateway gateway = TestGateway.start(Map.of("history.channels", List.of("news=10/1h"), "channels.public", List.of("news")))) {
            for (int i = 1; i <= 30; i++) {
                gateway.publish("news", "{\"n\":" + i + "}");
            }
            WsClient client = connected(gateway, gateway.uri(Tokens.hs256("reader")));
            client.send("{\"type\":\"subscribe\",\"channel\":\"news\",\"since\":{\"offset\":5,\"epoch\":\"whatever\"}}");
            JsonNode wrongEpoch = client.awaitMessage("ack");
            assertThat(wrongEpoch.path("recovered").asBoolean()).isFalse();
            assertThat(wrongEpoch.path("offset").asLong()).isEqualTo(30);
            String epoch = wrongEpoch.path("epoch").asText();
            client.send("{\"type\":\"subscribe\",\"channel\":\"news\",\"since\":{\"offset\":5,\"epoch\":\"" + epoch + "\"}}");
            assertThat(client.awaitMessage("ack").path("recovered").asBoolean()).as("only 21..30 are kept").isFalse();
            client.send("{\"type\":\"subscribe\",\"channel\":\"news\",\"since\":{\"offset\":25,\"epoch\":\"" + epoch + "\"}}");
            assertThat(client.awaitMessage("ack").path("recovered").asBoolean()).isTrue();
            for (int offset = 26; offset <= 30; offset++) {
                assertThat(client.awaitMessage("message").path("offset").asLong()).isEqualTo(offset);
            }
            assertThat(client.staysQuiet(Duration.ofMillis(200))).isTrue();

            client.send("{\"type\":\"history\",\"id\":\"h\",\"channel\":\"news\",\"limit\":3}");
            JsonNode page = client.awaitMessage("history");
            assertThat(page.path("id").asText()).isEqualTo("h");
            assertThat(page.path("offset").asLong()).isEqualTo(30);
            assertThat(page.path("complete").asBoolean()).as("offsets 1..20 are gone").isFalse();
            assertThat(page.path("publications")).extracting(p -> p.path("offset").asLong()).containsExactly(21L, 22L, 23L);
            assertThat(page.path("publications").get(0).path("data").path("n").asInt()).isEqualTo(21);
            client.send("{\"type\":\"history\",\"channel\":\"secret\"}");
            assertThat(client.awaitMessage("error").path("code").asText()).isEqualTo("forbidden");
            client.close();
        }
    }

    @Test
    void automaticChannelsRecoverFromTheRecoverParameter() {
        try (TestGateway gateway = TestGateway.start(Map.of("channels.auto-subscribe", List.of("alerts"), "limits.connections-per-user", "0"))) {
            WsClient first = connected(gateway, gateway.uri(Tokens.hs256("auto")));
            gateway.publish("alerts", "{\"n\":1}");
            JsonNode seen = first.awaitMessage("message");
            first.abort();
            for (int i = 2; i <= 20; i++) {
                gateway.publish("alerts", "{\"n\":" + i + "}");
            }
            String recover = URLEncoder.encode("{\"alerts\":{\"offset\":" + seen.path("offset").asLong() + ",\"epoch\":\""
                    + seen.path("epoch").asText() + "\"}}", StandardCharsets.UTF_8);
            WsClient back = connected(gateway, URI.create(gateway.uri(Tokens.hs256("auto")) + "&recover=" + recover));
            JsonNode ack = back.awaitMessage("ack");
            assertThat(ack.path("channel").asText()).isEqualTo("alerts");
            assertThat(ack.path("recovered").asBoolean()).isTrue();
            for (int n = 2; n <= 20; n++) {
                assertThat(back.awaitMessage("message").path("data").path("n").asInt()).isEqualTo(n);
            }
            back.close();
            assertThat(WsClient.attempt(URI.create(gateway.uri(Tokens.hs256("auto")) + "&recover=%7Bnope")).status()).isEqualTo(400);
        }
    }

    @Test
    void aRetriedPublishWithTheSameIdempotencyKeyAlertsOnce() {
        try (TestGateway gateway = TestGateway.start(Map.of("channels.auto-subscribe", List.of("alerts")))) {
            WsClient client = connected(gateway, gateway.uri(Tokens.hs256("once")));
            String body = "{\"channel\":\"alerts\",\"data\":{\"text\":\"deploy failed\"},\"idempotencyKey\":\"job-42\"}";
            JsonNode first = WsClient.json(gateway.api("POST", "/api/publish", body).body());
            JsonNode retry = WsClient.json(gateway.api("POST", "/api/publish", body).body());
            assertThat(retry.path("offset").asLong()).isEqualTo(first.path("offset").asLong());
            assertThat(retry.path("epoch").asText()).isEqualTo(first.path("epoch").asText());
            assertThat(client.awaitMessage("message").path("data").path("text").asText()).isEqualTo("deploy failed");
            assertThat(client.staysQuiet(Duration.ofMillis(300))).as("alerted once").isTrue();
            client.close();
        }
    }
}
