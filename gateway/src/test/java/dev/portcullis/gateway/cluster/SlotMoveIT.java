package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.RedisClusterServers;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Redis Cluster moves a channel's slot to another master: Redis unsubscribes the shard channel by
 * itself, and the gateway must subscribe again on the new owner well before the 30 s periodic
 * topology refresh would (which is what used to bring delivery back, by accident).
 */
class SlotMoveIT {

    static String cli(int port, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes());
        process.waitFor();
        return out.trim();
    }

    @Test
    void aSubscriptionFollowsItsSlotToAnotherMaster() throws Exception {
        try (RedisClusterServers redis = RedisClusterServers.start()) {
            Map<String, Object> config = new HashMap<>(Map.of("broker.type", "redis", "broker.redis-cluster", "true",
                    "broker.redis-url", redis.urls(), "channels.auto-subscribe", List.of("alerts"), "broker.instance-id", "a"));
            Map<String, Object> configB = new HashMap<>(config);
            configB.put("broker.instance-id", "b");
            try (TestGateway a = TestGateway.start(config); TestGateway b = TestGateway.start(configB)) {
                WsClient onA = WsClient.connect(a.uri(Tokens.hs256("slot-a")));
                onA.awaitMessage("connected");
                await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
                    b.publish("alerts", "{\"probe\":true}");
                    return onA.pollMessage("message", Duration.ofMillis(200)) != null;
                });
                onA.drainMessages(Duration.ofMillis(300));

                String slot = Integer.toString(SlotHash.getSlot("portcullis:{alerts}"));
                List<Integer> ports = redis.ports();
                Map<Integer, String> ids = new HashMap<>();
                int source = -1;
                for (int port : ports) {
                    ids.put(port, cli(port, "CLUSTER", "MYID"));
                    if (!cli(port, "CLUSTER", "GETKEYSINSLOT", slot, "1").isEmpty()) {
                        source = port; // the owner holds the channel's meta and history keys
                    }
                }
                assertThat(source).isPositive();
                int from = source;
                int target = ports.stream().filter(port -> port != from).findFirst().orElseThrow();
                cli(target, "CLUSTER", "SETSLOT", slot, "IMPORTING", ids.get(source));
                cli(source, "CLUSTER", "SETSLOT", slot, "MIGRATING", ids.get(target));
                for (String key : cli(source, "CLUSTER", "GETKEYSINSLOT", slot, "100").split("\n")) {
                    if (!key.isBlank()) {
                        cli(source, "MIGRATE", "127.0.0.1", Integer.toString(target), key, "0", "5000");
                    }
                }
                for (int port : ports) {
                    cli(port, "CLUSTER", "SETSLOT", slot, "NODE", ids.get(target));
                }
                // Publishing through B must reach A again soon: far sooner than the 30 s topology refresh.
                await().atMost(Duration.ofSeconds(12)).pollInterval(Duration.ofMillis(300)).ignoreExceptions().until(() -> {
                    b.publish("alerts", "{\"after\":\"move\"}");
                    return onA.pollMessage("message", Duration.ofMillis(300)) != null;
                });
                assertThat(cli(target, "PUBSUB", "SHARDCHANNELS")).contains("portcullis:{alerts}");
                onA.close();
            }
        }
    }
}
