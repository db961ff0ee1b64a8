package dev.portcullis.gateway.channel;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Issue 3 acceptance 1 to 4 and 6: API publish, permissions, schema and sanitising, rate limit, logout. */
class ChannelsIT {
    private static final String ROOM = UUID.randomUUID().toString();

    private static String token(String user, Map<String, String> channels) {
        return Tokens.hs256(b -> b.subject(user).claim("channels", channels).expirationTime(Date.from(Instant.now().plusSeconds(3600))));
    }

    private static WsClient connected(TestGateway gateway, String token) {
        WsClient client = WsClient.connect(gateway.uri(token));
        client.awaitMessage("connected");
        return client;
    }

    private static JsonNode request(WsClient client, String json, String expectedType) {
        client.send(json);
        return client.awaitMessage(expectedType);
    }

    @Test
    void apiPublishToAlertsReachesEveryAutoSubscribedConnectionOnceAndNeedsAKey() {
        try (TestGateway gateway = TestGateway.start(Map.of("channels.auto-subscribe", List.of("alerts")))) {
            List<WsClient> clients = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                clients.add(connected(gateway, Tokens.hs256("alert-user-" + i)));
            }
            assertThat(gateway.publish("alerts", "{\"level\":\"warn\",\"text\":\"disk full\"}")).isEqualTo(1);
            assertThat(gateway.publish("alerts", "{\"level\":\"info\",\"text\":\"resolved\"}")).isEqualTo(2);
            for (WsClient client : clients) {
                JsonNode first = client.awaitMessage("message");
                assertThat(first.path("channel").asText()).isEqualTo("alerts");
                assertThat(first.path("offset").asLong()).isEqualTo(1);
                assertThat(first.path("data").path("text").asText()).isEqualTo("disk full");
                assertThat(client.awaitMessage("message").path("offset").asLong()).as("no duplicate of offset 1").isEqualTo(2);
                client.close();
            }
            HttpResponse<String> noKey = gateway.api("POST", "/api/publish", "{\"channel\":\"alerts\",\"data\":1}", null);
            assertThat(noKey.statusCode()).isEqualTo(401);
            assertThat(WsClient.json(noKey.body()).path("error").asText()).isEqualTo("unauthorized");
            assertThat(gateway.api("POST", "/api/publish", "{\"channel\":\"alerts\",\"data\":1}", "wrong-key-0123456789").statusCode())
                    .isEqualTo(401);
            assertThat(gateway.api("POST", "/api/publish", "{\"channel\":\"bad channel\",\"data\":1}").statusCode()).isEqualTo(400);
            assertThat(gateway.api("POST", "/api/publish", "{not json").statusCode()).isEqualTo(400);
            assertThat(gateway.metric("portcullis_publications_total{source=\"api\"}")).isEqualTo(2);
            assertThat(gateway.metric("portcullis_deliveries_total")).isEqualTo(10);
        }
    }

    @Test
    void permissionsDecideWhoMaySubscribeAndPublishAndRoomMembersGetMessagesInOrder() {
        try (TestGateway gateway = TestGateway.start(Map.of("channels.public", List.of("lobby")))) {
            Map<String, String> member = Map.of("room:" + ROOM, "rw", "news:*", "r");
            WsClient a = connected(gateway, token("room-a", member));
            WsClient b = connected(gateway, token("room-b", member));
            WsClient c = connected(gateway, token("room-c", member));
            WsClient outsider = connected(gateway, token("outsider", Map.of("news:*", "r")));

            JsonNode denied = request(outsider, "{\"type\":\"subscribe\",\"id\":\"s1\",\"channel\":\"room:" + ROOM + "\"}", "error");
            assertThat(denied.path("code").asText()).isEqualTo("forbidden");
            assertThat(denied.path("id").asText()).isEqualTo("s1");
            assertThat(request(outsider, "{\"type\":\"subscribe\",\"id\":\"s2\",\"channel\":\"news:today\"}", "ack").path("id").asText())
                    .isEqualTo("s2");
            assertThat(request(outsider, "{\"type\":\"subscribe\",\"id\":\"s3\",\"channel\":\"lobby\"}", "ack").path("id").asText())
                    .isEqualTo("s3");
            assertThat(request(outsider, "{\"type\":\"publish\",\"id\":\"p0\",\"channel\":\"news:today\",\"data\":{}}", "error")
                    .path("code").asText()).isEqualTo("forbidden");
            assertThat(request(outsider, "{\"type\":\"subscribe\",\"channel\":\"user:someone-else\"}", "error").path("code").asText())
                    .isEqualTo("forbidden");
            assertThat(request(outsider, "{\"type\":\"subscribe\",\"channel\":\"bad channel!\"}", "error").path("code").asText())
                    .isEqualTo("bad_channel");

            for (WsClient client : List.of(a, b, c)) {
                request(client, "{\"type\":\"subscribe\",\"id\":\"join\",\"channel\":\"room:" + ROOM + "\"}", "ack");
            }
            for (int i = 1; i <= 20; i++) {
                JsonNode ack = request(a, "{\"type\":\"publish\",\"id\":\"m" + i + "\",\"channel\":\"room:" + ROOM
                        + "\",\"data\":{\"type\":\"chat\",\"n\":" + i + "}}", "ack");
                assertThat(ack.path("id").asText()).isEqualTo("m" + i);
                assertThat(ack.path("offset").asLong()).isEqualTo(i);
            }
            for (WsClient client : List.of(b, c)) {
                for (int i = 1; i <= 20; i++) {
                    JsonNode message = client.awaitMessage("message");
                    assertThat(message.path("offset").asLong()).isEqualTo(i);
                    assertThat(message.path("data").path("n").asInt()).isEqualTo(i);
                }
            }
            assertThat(outsider.staysQuiet(Duration.ofMillis(300))).as("the outsider got no room message").isTrue();
            List.of(a, b, c, outsider).forEach(WsClient::close);
        }
    }

    @Test
    void chatSchemaViolationsAreRefusedWithThePathAndHtmlIsStripped() {
        Path schema = Path.of("..", "examples", "chat.schema.json"); // the chat example's schema
        try (TestGateway gateway = TestGateway.start(Map.of("channels.schemas", List.of("room=" + schema)))) {
            Map<String, String> member = Map.of("room:*", "rw");
            WsClient sender = connected(gateway, token("chat-sender", member));
            WsClient reader = connected(gateway, token("chat-reader", member));
            String channel = "room:" + ROOM;
            request(sender, "{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}", "ack");
            request(reader, "{\"type\":\"subscribe\",\"channel\":\"" + channel + "\"}", "ack");

            JsonNode tooLong = request(sender, "{\"type\":\"publish\",\"id\":\"x\",\"channel\":\"" + channel + "\",\"data\":{\"type\":\"chat\",\"roomId\":\""
                    + ROOM + "\",\"content\":\"" + "a".repeat(1001) + "\"}}", "error");
            assertThat(tooLong.path("code").asText()).isEqualTo("invalid_message");
            assertThat(tooLong.path("message").asText()).contains("$.data.content");
            JsonNode badRoom = request(sender, "{\"type\":\"publish\",\"channel\":\"" + channel
                    + "\",\"data\":{\"type\":\"chat\",\"roomId\":\"not-a-uuid\",\"content\":\"hi\"}}", "error");
            assertThat(badRoom.path("message").asText()).contains("$.data.roomId");
            JsonNode badType = request(sender, "{\"type\":\"publish\",\"channel\":\"" + channel
                    + "\",\"data\":{\"type\":\"shout\",\"roomId\":\"" + ROOM + "\"}}", "error");
            assertThat(badType.path("message").asText()).contains("$.data.type");

            request(sender, "{\"type\":\"publish\",\"channel\":\"" + channel + "\",\"data\":{\"type\":\"chat\",\"roomId\":\""
                    + ROOM + "\",\"content\":\"<script>alert(1)</script>hello <b>world</b>\"}}", "ack");
            JsonNode delivered = reader.awaitMessage("message");
            assertThat(delivered.path("offset").asLong()).as("refused publications took no offset").isEqualTo(1);
            String content = delivered.path("data").path("content").asText();
            assertThat(content).doesNotContain("<script").doesNotContain("<b>").contains("hello").contains("world");
            assertThat(gateway.metric("portcullis_validation_failures_total{namespace=\"room\"}")).isEqualTo(3);
            sender.close();
            reader.close();
        }
    }

    /**
     * Issue 12, test 4: the backend's data arrives as sent; the same data from a client is
     * sanitised; with {@code channels.sanitize-backend: true} the backend's is sanitised too.
     */
    @Test
    void backendDataPassesThroughUnchangedWhileAClientsIsSanitised() {
        String data = "{\"formula\":\"x<y && y>z\",\"code\":\"if (a<b) {}\"}";
        try (TestGateway gateway = TestGateway.start(Map.of())) {
            WsClient member = connected(gateway, token("formula-fan", Map.of("room:f", "rw")));
            request(member, "{\"type\":\"subscribe\",\"channel\":\"room:f\"}", "ack");
            assertThat(gateway.api("POST", "/api/publish", "{\"channel\":\"room:f\",\"data\":" + data + "}").statusCode()).isEqualTo(200);
            JsonNode fromBackend = member.awaitMessage("message");
            assertThat(fromBackend.path("data")).isEqualTo(WsClient.json(data));

            JsonNode fromClient = request(member, "{\"type\":\"publish\",\"id\":1,\"channel\":\"room:f\",\"data\":" + data + "}",
                    "message"); // a subscribed publisher gets its publication before its ack
            assertThat(fromClient.path("data").path("formula").asText()).isEqualTo("xz");
            assertThat(fromClient.path("data").path("code").asText()).isEqualTo("if (a");
            member.close();
        }
        try (TestGateway gateway = TestGateway.start(Map.of("channels.sanitize-backend", "true"))) {
            WsClient member = connected(gateway, token("formula-fan", Map.of("room:f", "r")));
            request(member, "{\"type\":\"subscribe\",\"channel\":\"room:f\"}", "ack");
            gateway.api("POST", "/api/publish", "{\"channel\":\"room:f\",\"data\":" + data + "}");
            assertThat(member.awaitMessage("message").path("data").path("formula").asText()).isEqualTo("xz");
            member.close();
        }
    }

    @Test
    void tooFastGetsRateLimitedWithRetryAfterThen4008() {
        try (TestGateway gateway = TestGateway.start(Map.of(
                "limits.messages-per-minute", "50", "limits.message-burst", "10", "limits.rate-limit-grace", "1s"))) {
            WsClient client = connected(gateway, Tokens.hs256("chatty"));
            for (int i = 0; i < 60; i++) {
                client.send("{\"type\":\"ping\",\"id\":" + i + "}");
            }
            int pongs = 0;
            int limited = 0;
            for (int i = 0; i < 60; i++) {
                JsonNode reply = WsClient.json(((WsClient.Text) client.next(WsClient.WAIT)).text());
                if (reply.path("type").asText().equals("pong")) {
                    pongs++;
                } else {
                    assertThat(reply.path("code").asText()).isEqualTo("rate_limited");
                    assertThat(reply.path("retryAfterMs").asLong()).isPositive();
                    limited++;
                }
            }
            assertThat(pongs).isBetween(10, 12);
            assertThat(limited).isEqualTo(60 - pongs);
            // The client keeps going (a ping every 100 ms, over the sustained rate): 4008 once the grace has passed.
            WsClient.Closed closed = null;
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (closed == null && System.nanoTime() < deadline) {
                try {
                    client.send("{\"type\":\"ping\"}");
                } catch (RuntimeException outputClosed) {
                    // the server's close is on its way
                }
                closed = client.pollClose(Duration.ofMillis(100));
            }
            assertThat(closed).isNotNull();
            assertThat(closed.code()).isEqualTo(4008);
            assertThat(gateway.metric("portcullis_messages_rate_limited_total")).isGreaterThanOrEqualTo(limited);
        }
    }

    @Test
    void logoutWithRevokeClosesEveryConnectionWith4501AndOnlyAFreshTokenConnects() {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.connections-per-user", "2"))) {
            String oldToken = Tokens.hs256(b -> b.subject("dave").issueTime(Date.from(Instant.now().minusSeconds(5)))
                    .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
            WsClient first = connected(gateway, oldToken);
            WsClient second = connected(gateway, oldToken);
            WsClient bystander = connected(gateway, Tokens.hs256("erin"));
            HttpResponse<String> listed = gateway.api("GET", "/api/connections?user=dave", null);
            assertThat(listed.statusCode()).isEqualTo(200);
            JsonNode connections = WsClient.json(listed.body()).path("connections");
            assertThat(connections).hasSize(2);
            assertThat(connections.get(0).path("channels").get(0).asText()).isEqualTo("user:dave");
            assertThat(connections.get(0).path("remote").asText()).startsWith("127.0.0.1:");

            HttpResponse<String> logout = gateway.api("POST", "/api/users/dave/disconnect", "{\"revoke\":true}");
            assertThat(logout.statusCode()).isEqualTo(200);
            assertThat(WsClient.json(logout.body()).path("disconnected").asInt()).isEqualTo(2);
            assertThat(first.awaitClose().code()).isEqualTo(4501);
            assertThat(second.awaitClose().code()).isEqualTo(4501);
            assertThat(bystander.staysQuiet(Duration.ofMillis(200))).isTrue();

            WsClient.Attempt withOld = WsClient.attempt(gateway.uri(oldToken));
            assertThat(withOld.status()).isEqualTo(401);
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"revoked\"}")).isEqualTo(1);
            WsClient fresh = connected(gateway, Tokens.hs256("dave"));
            JsonNode stats = WsClient.json(gateway.api("GET", "/api/stats", null).body());
            assertThat(stats.path("connections").asInt()).isEqualTo(2);
            assertThat(stats.path("subscriptions").asInt()).isEqualTo(2);
            fresh.close();
            bystander.close();
        }
    }

    @Test
    void subscriptionsPerConnectionAreLimited() {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.subscriptions-per-connection", "3", "channels.public", List.of("pub:*")))) {
            WsClient client = connected(gateway, Tokens.hs256("collector")); // user:collector is the first
            request(client, "{\"type\":\"subscribe\",\"channel\":\"pub:1\"}", "ack");
            request(client, "{\"type\":\"subscribe\",\"channel\":\"pub:2\"}", "ack");
            assertThat(request(client, "{\"type\":\"subscribe\",\"channel\":\"pub:3\"}", "error").path("code").asText())
                    .isEqualTo("too_many_subscriptions");
            request(client, "{\"type\":\"unsubscribe\",\"channel\":\"pub:1\"}", "ack");
            request(client, "{\"type\":\"subscribe\",\"channel\":\"pub:3\"}", "ack");
            client.close();
        }
    }
}
