package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.KeyedPublisher;
import dev.portcullis.gateway.testing.RedisClusterServers;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, test 3: Redis Cluster with 3 masters and 3 replicas, a channel on every shard, two
 * gateways with subscribers. A master is SIGKILLed: both gateways deliver its shard's channel again
 * once the replica is promoted (within the documented bound: node timeout, election, about 2 s of
 * topology refresh and resubscription), connected subscribers miss nothing acknowledged (caught up
 * from history), and {@code /readyz} names the shard as degraded while it is.
 */
class ClusterFailoverIT {
    private static final int SUBSCRIBERS_PER_GATEWAY = 5;
    /** Documented bound after the promotion (README): topology refresh and resubscription. */
    private static final Duration AFTER_PROMOTION = Duration.ofSeconds(5);

    @Test
    void aKilledMastersShardDeliversAgainOnBothGatewaysWithNothingLost() throws Exception {
        try (RedisClusterServers redis = RedisClusterServers.start(1)) {
            Map<Integer, String> channelByMaster = new LinkedHashMap<>();
            for (int n = 0; channelByMaster.size() < 3; n++) {
                String channel = "feed:" + n;
                channelByMaster.putIfAbsent(redis.masterOfSlot(SlotHash.getSlot("portcullis:{" + channel + "}")), channel);
            }
            List<String> channels = List.copyOf(channelByMaster.values());
            try (TestGateway a = TestGateway.start(config(redis, channels, "a")); TestGateway b = TestGateway.start(config(redis, channels, "b"))) {
                List<WsClient> subscribers = new ArrayList<>();
                for (int i = 0; i < 2 * SUBSCRIBERS_PER_GATEWAY; i++) {
                    WsClient client = WsClient.connect((i < SUBSCRIBERS_PER_GATEWAY ? a : b).uri(Tokens.hs256("cluster-watcher-" + i)));
                    client.awaitMessage("connected");
                    subscribers.add(client);
                }
                for (String channel : channels) {
                    await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).until(() -> {
                        a.publish(channel, "{\"probe\":true}");
                        return subscribers.stream().allMatch(s -> s.pollMessage("message", Duration.ofMillis(500)) != null);
                    });
                    subscribers.forEach(s -> s.drainMessages(Duration.ofMillis(300)));
                }
                String doomedChannel = channels.get(0);
                int slot = SlotHash.getSlot("portcullis:{" + doomedChannel + "}");
                int doomedPort = redis.masterOfSlot(slot);
                AtomicReference<String> degradedReason = new AtomicReference<>();
                KeyedPublisher publisher = new KeyedPublisher(List.of(a, b), channels, Duration.ofMillis(20));
                try (publisher) {
                    publisher.awaitAcked(30);
                    redis.node(doomedPort).kill();
                    await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(100)).until(() -> {
                        JsonNode broker = WsClient.json(a.adminGet("/readyz").body()).path("broker");
                        if (broker.path("reason").asText().startsWith("shard ")) {
                            degradedReason.compareAndSet(null, broker.path("reason").asText());
                        }
                        return degradedReason.get() != null;
                    });
                    redis.awaitPromotion(doomedPort, slot, Duration.ofSeconds(30));
                    long promoted = System.nanoTime();
                    int before = publisher.acked(doomedChannel).size();
                    await().atMost(AFTER_PROMOTION.plusSeconds(5)).until(() -> publisher.acked(doomedChannel).size() > before + 3);
                    List<String> ackedThere = publisher.acked(doomedChannel);
                    String last = ackedThere.get(ackedThere.size() - 1);
                    List<Received> received = subscribers.stream().map(Received::of).toList();
                    await().atMost(AFTER_PROMOTION).pollInterval(Duration.ofMillis(100))
                            .until(() -> received.stream().allMatch(r -> r.saw(last)));
                    System.out.printf("issue 16 cluster failover: the shard delivered again on both gateways %d ms after the promotion%n",
                            (System.nanoTime() - promoted) / 1_000_000);
                    publisher.awaitAcked(publisher.acked() + 20);
                }
                assertThat(degradedReason.get()).as("readyz names the shard").contains(":" + doomedPort).contains("canary");
                String shardGauge = "portcullis_broker_shard_degraded{shard=\""
                        + degradedReason.get().substring(6, degradedReason.get().indexOf(' ', 6)) + "\"}";
                await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
                    assertThat(WsClient.json(a.adminGet("/readyz").body()).path("status").asText()).isEqualTo("ready");
                    assertThat(a.metric(shardGauge)).as("the shard is healthy again").isZero();
                });
                for (WsClient subscriber : subscribers) {
                    Map<String, List<JsonNode>> byChannel = new HashMap<>();
                    for (JsonNode message : Received.of(subscriber).all(Duration.ofMillis(700))) {
                        if (message.path("type").asText().equals("gap")) {
                            throw new AssertionError("gap notice: " + message);
                        }
                        if (message.path("type").asText().equals("message") && !message.path("data").has("probe")) {
                            byChannel.computeIfAbsent(message.path("channel").asText(), c -> new ArrayList<>()).add(message);
                        }
                    }
                    for (String channel : channels) {
                        List<JsonNode> got = byChannel.getOrDefault(channel, List.of());
                        for (int i = 1; i < got.size(); i++) {
                            assertThat(got.get(i).path("offset").asLong()).as("%s in offset order", channel)
                                    .isEqualTo(got.get(i - 1).path("offset").asLong() + 1);
                        }
                        Map<String, Integer> ids = new HashMap<>();
                        got.forEach(m -> ids.merge(m.path("data").path("id").asText(), 1, Integer::sum));
                        for (String id : publisher.acked(channel)) {
                            assertThat(ids.get(id)).as("%s: alert %s exactly once", channel, id).isEqualTo(1);
                        }
                    }
                    subscriber.close();
                }
            }
        }
    }


    /** What one subscriber received, kept while the test looks at it along the way. */
    private static final class Received {
        private static final Map<WsClient, Received> ALL = new ConcurrentHashMap<>();
        private final WsClient client;
        private final List<JsonNode> messages = new ArrayList<>();

        private Received(WsClient client) {
            this.client = client;
        }

        static Received of(WsClient client) {
            return ALL.computeIfAbsent(client, Received::new);
        }

        /** Takes what has arrived; true once a message carries {@code id}. */
        synchronized boolean saw(String id) {
            for (WsClient.Event event; (event = client.pollEvent(Duration.ZERO)) != null; ) {
                if (event instanceof WsClient.Text text) {
                    messages.add(WsClient.json(text.text()));
                }
            }
            return messages.stream().anyMatch(m -> m.path("data").path("id").asText().equals(id));
        }

        /** Everything, once nothing more has come for {@code quiet}. */
        synchronized List<JsonNode> all(Duration quiet) {
            for (WsClient.Event event; (event = client.pollEvent(quiet)) != null; ) {
                if (event instanceof WsClient.Text text) {
                    messages.add(WsClient.json(text.text()));
                }
            }
            return messages;
        }
    }

    private static Map<String, Object> config(RedisClusterServers redis, List<String> channels, String instance) {
        return new HashMap<>(Map.of("broker.type", "redis", "broker.redis-cluster", "true", "broker.redis-url", redis.urls(),
                "broker.instance-id", instance, "broker.redis-timeout", "1s", "broker.canary-interval", "500ms",
                "broker.canary-timeout", "1s", "channels.auto-subscribe", channels,
                "history.channels", List.of("feed:*=1000/1h", "user:*=100/24h")));
    }
}
