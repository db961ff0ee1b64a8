package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RedisClusterServers;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Issue 4 acceptance 8: Redis Cluster with three masters, sharded pub/sub, channels on different slots. */
class RedisClusterIT {

    @Test
    void publicationsOnChannelsInDifferentSlotsReachClientsOnTwoInstances() {
        List<String> channels = List.of("alerts", "news", "feed:1", "feed:2", "room:x", "room:y");
        Set<Integer> slots = new HashSet<>();
        channels.forEach(channel -> slots.add(SlotHash.getSlot("portcullis:{" + channel + "}")));
        assertThat(slots).as("the channels spread over several slots").hasSizeGreaterThan(3);
        try (RedisClusterServers redis = RedisClusterServers.start()) {
            Map<String, Object> config = Map.of("broker.type", "redis", "broker.redis-cluster", "true",
                    "broker.redis-url", redis.urls(), "channels.auto-subscribe", channels);
            try (TestGateway a = TestGateway.start(withInstance(config, "a")); TestGateway b = TestGateway.start(withInstance(config, "b"))) {
                WsClient onA = WsClient.connect(a.uri(Tokens.hs256("cluster-a")));
                WsClient onB = WsClient.connect(b.uri(Tokens.hs256("cluster-b")));
                onA.awaitMessage("connected");
                onB.awaitMessage("connected");
                for (String channel : channels) {
                    // Subscriptions reach the shards asynchronously: publish until both have one, then exactly.
                    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
                        a.publish(channel, "{\"probe\":true}");
                        return onA.pollMessage("message", Duration.ofMillis(200)) != null
                                && onB.pollMessage("message", Duration.ofMillis(200)) != null;
                    });
                    onA.drainMessages(Duration.ofMillis(200));
                    onB.drainMessages(Duration.ofMillis(200));
                    long offset = b.publish(channel, "{\"on\":\"" + channel + "\"}");
                    for (WsClient client : List.of(onA, onB)) {
                        JsonNode message = client.awaitMessage("message");
                        assertThat(message.path("channel").asText()).isEqualTo(channel);
                        assertThat(message.path("offset").asLong()).isEqualTo(offset);
                        assertThat(message.path("data").path("on").asText()).isEqualTo(channel);
                    }
                }
                assertThat(WsClient.json(a.adminGet("/readyz").body()).path("status").asText()).isEqualTo("ready");
                onA.close();
                onB.close();
            }
        }
    }

    private static Map<String, Object> withInstance(Map<String, Object> config, String instance) {
        Map<String, Object> copy = new java.util.HashMap<>(config);
        copy.put("broker.instance-id", instance);
        return copy;
    }
}
