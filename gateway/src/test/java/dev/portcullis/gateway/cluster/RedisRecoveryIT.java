package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 6 with Redis Streams: recovery on another instance, and a Redis restart without persistence is never silently wrong. */
class RedisRecoveryIT {

    static Map<String, Object> config(RedisServer redis, String instance) {
        Map<String, Object> config = new HashMap<>(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                "broker.instance-id", instance, "channels.public", List.of("alerts"), "broker.redis-timeout", "1s",
                "limits.connections-per-user", "0"));
        return config;
    }

    private static JsonNode subscribe(WsClient client, String since) {
        client.send("{\"type\":\"subscribe\",\"channel\":\"alerts\"" + (since == null ? "" : ",\"since\":" + since) + "}");
        return client.awaitMessage("ack");
    }

    @Test
    void aClientRecoversOnAnotherInstanceThenARedisRestartGivesRecoveredFalseWithANewEpoch() {
        try (RedisServer redis = RedisServer.start();
                TestGateway a = TestGateway.start(config(redis, "a"));
                TestGateway b = TestGateway.start(config(redis, "b"))) {
            WsClient onA = WsClient.connect(a.uri(Tokens.hs256("wanderer")));
            onA.awaitMessage("connected");
            JsonNode ack = subscribe(onA, null);
            String epoch = ack.path("epoch").asText();
            long last = ack.path("offset").asLong();
            onA.abort();

            for (int i = 1; i <= 100; i++) {
                a.publish("alerts", "{\"n\":" + i + "}");
            }
            WsClient onB = WsClient.connect(b.uri(Tokens.hs256("wanderer")));
            onB.awaitMessage("connected");
            JsonNode recovered = subscribe(onB, "{\"offset\":" + last + ",\"epoch\":\"" + epoch + "\"}");
            assertThat(recovered.path("recovered").asBoolean()).isTrue();
            assertThat(recovered.path("epoch").asText()).isEqualTo(epoch);
            long offset = last;
            for (int i = 1; i <= 100; i++) {
                JsonNode message = onB.awaitMessage("message");
                assertThat(message.path("offset").asLong()).isEqualTo(++offset);
                assertThat(message.path("data").path("n").asInt()).isEqualTo(i);
            }
            onB.close();

            redis.kill();
            redis.restart(); // empty: no persistence
            await().atMost(Duration.ofSeconds(20)).ignoreExceptions().until(() -> {
                a.publish("alerts", "{\"after\":\"restart\"}");
                return true;
            });
            WsClient again = WsClient.connect(b.uri(Tokens.hs256("wanderer")));
            again.awaitMessage("connected");
            JsonNode lost = subscribe(again, "{\"offset\":" + offset + ",\"epoch\":\"" + epoch + "\"}");
            assertThat(lost.path("recovered").asBoolean()).as("the history died with Redis: the client must reload").isFalse();
            assertThat(lost.path("epoch").asText()).isNotEqualTo(epoch);
            assertThat(lost.path("offset").asLong()).isLessThan(offset);
            assertThat(again.staysQuiet(Duration.ofMillis(300))).as("no stale or mismatched data is sent").isTrue();
            again.close();
        }
    }
}
