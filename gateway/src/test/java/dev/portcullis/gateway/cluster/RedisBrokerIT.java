package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Issue 4 acceptance 1, 2 and 6: publications cross instances through a real redis-server; Redis faults are visible. */
class RedisBrokerIT {
    private RedisServer redis;
    private TestGateway a;
    private TestGateway b;
    private TestGateway c;

    static Map<String, Object> clustered(RedisServer redis, String instance) {
        return Map.of("broker.type", "redis", "broker.redis-url", redis.url(), "broker.instance-id", instance,
                "broker.canary-interval", "300ms", "broker.canary-timeout", "1s", "broker.redis-timeout", "1s",
                "channels.auto-subscribe", List.of("alerts"));
    }

    @BeforeEach
    void start() {
        redis = RedisServer.start();
        a = TestGateway.start(clustered(redis, "a"));
        b = TestGateway.start(clustered(redis, "b"));
        c = TestGateway.start(clustered(redis, "c"));
    }

    @AfterEach
    void stop() {
        for (TestGateway gateway : new TestGateway[] {a, b, c}) {
            if (gateway != null) {
                gateway.close();
            }
        }
        redis.close();
    }

    private static WsClient connected(TestGateway gateway, String token) {
        WsClient client = WsClient.connect(gateway.uri(token));
        client.awaitMessage("connected");
        return client;
    }

    /** Subscriptions reach Redis asynchronously: publish until the first one arrives, then the rest is exact. */
    private static long publishUntilReceived(TestGateway via, String channel, List<WsClient> clients) {
        long[] offset = {0};
        await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
            offset[0] = via.publish(channel, "{\"probe\":true}");
            return clients.stream().allMatch(client -> client.pollMessage("message", Duration.ofMillis(100)) != null);
        });
        clients.forEach(client -> client.drainMessages(Duration.ofMillis(300)));
        return offset[0];
    }

    @Test
    void aPublicationThroughOneInstanceReachesClientsOnEveryInstanceOnce() {
        List<WsClient> clients = List.of(connected(a, Tokens.hs256("on-a")), connected(b, Tokens.hs256("on-b")), connected(c, Tokens.hs256("on-c")));
        long warm = publishUntilReceived(a, "alerts", clients);
        long offset = a.publish("alerts", "{\"text\":\"disk full\"}");
        assertThat(offset).isEqualTo(warm + 1);
        long next = b.publish("alerts", "{\"text\":\"resolved\"}");
        for (WsClient client : clients) {
            JsonNode first = client.awaitMessage("message");
            assertThat(first.path("offset").asLong()).isEqualTo(offset);
            assertThat(first.path("data").path("text").asText()).isEqualTo("disk full");
            JsonNode second = client.awaitMessage("message");
            assertThat(second.path("offset").asLong()).as("exactly once, in order").isEqualTo(next);
            assertThat(client.staysQuiet(Duration.ofMillis(200))).isTrue();
        }
        assertThat(a.metric("portcullis_broker_lag_seconds_count")).isGreaterThan(0);
        clients.forEach(WsClient::close);
    }

    @Test
    void aClientPublicationInARoomOnOneInstanceReachesMembersOnAnother() {
        String token = Tokens.hs256(builder -> builder.subject("room-member-b").claim("channels", Map.of("room:7", "rw"))
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
        WsClient onB = connected(b, token);
        WsClient onA = connected(a, Tokens.hs256(builder -> builder.subject("room-member-a").claim("channels", Map.of("room:7", "rw"))
                .expirationTime(Date.from(Instant.now().plusSeconds(3600)))));
        onA.send("{\"type\":\"subscribe\",\"channel\":\"room:7\"}");
        onA.awaitMessage("ack");
        onB.send("{\"type\":\"subscribe\",\"channel\":\"room:7\"}");
        onB.awaitMessage("ack");
        publishUntilReceived(b, "room:7", List.of(onA, onB));
        for (int i = 1; i <= 20; i++) {
            onB.send("{\"type\":\"publish\",\"channel\":\"room:7\",\"data\":{\"n\":" + i + "}}");
        }
        for (int i = 1; i <= 20; i++) {
            assertThat(onA.awaitMessage("message").path("data").path("n").asInt()).isEqualTo(i);
        }
        onA.close();
        onB.close();
    }

    @Test
    void redisDownIsVisibleAndEverythingRecoversWithoutARestart() {
        WsClient onA = connected(a, Tokens.hs256("survivor-a"));
        WsClient onB = connected(b, Tokens.hs256("survivor-b"));
        publishUntilReceived(a, "alerts", List.of(onA, onB));

        redis.kill();
        await().atMost(Duration.ofSeconds(15)).until(() ->
                WsClient.json(a.adminGet("/readyz").body()).path("status").asText().equals("degraded"));
        JsonNode ready = WsClient.json(a.adminGet("/readyz").body());
        assertThat(a.adminGet("/readyz").statusCode()).isEqualTo(200);
        assertThat(ready.path("broker").path("state").asText()).isEqualTo("degraded");
        assertThat(ready.path("broker").path("reason").asText()).isNotBlank();
        var refused = a.api("POST", "/api/publish", "{\"channel\":\"alerts\",\"data\":1}");
        assertThat(refused.statusCode()).isEqualTo(503);
        assertThat(WsClient.json(refused.body()).path("error").asText()).isEqualTo("unavailable");
        // The instances stay up and keep serving their connections locally.
        onA.send("{\"type\":\"ping\",\"id\":\"still-here\"}");
        assertThat(onA.awaitMessage("pong").path("id").asText()).isEqualTo("still-here");
        WsClient lateComer = connected(b, Tokens.hs256("late-on-b"));
        assertThat(a.metric("portcullis_broker_outages_total")).isGreaterThanOrEqualTo(1);

        redis.restart();
        await().atMost(Duration.ofSeconds(20)).until(() ->
                WsClient.json(a.adminGet("/readyz").body()).path("status").asText().equals("ready")
                        && WsClient.json(b.adminGet("/readyz").body()).path("status").asText().equals("ready"));
        publishUntilReceived(a, "alerts", List.of(onA, onB, lateComer));
        long offset = a.publish("alerts", "{\"text\":\"back\"}");
        for (WsClient client : List.of(onA, onB, lateComer)) {
            JsonNode message = client.awaitMessage("message");
            assertThat(message.path("offset").asLong()).isEqualTo(offset);
            assertThat(message.path("data").path("text").asText()).isEqualTo("back");
        }
        List.of(onA, onB, lateComer).forEach(WsClient::close);
    }
}
