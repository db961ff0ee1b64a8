package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A subscription on an instance that has no local subscriber of the channel yet (so its
 * SSUBSCRIBE is still on the way to Redis) while publications flow through another instance. The
 * first messages after the ack must continue its offset without a gap.
 */
class FirstSubscriberRaceIT {
    /** Before the broker waited for the upstream subscription, 4-9 of 30 rounds lost 1-20 publications right after the ack. */
    @Test
    void firstSubscriberOnAnInstanceMissesNothing(@TempDir Path dir) throws Exception {
        assertThat(gaps(dir, false)).isEmpty();
    }

    /** Control: with the channel already subscribed in Redis by A (another local subscriber), no gap. */
    @Test
    void withAnotherSubscriberAlreadyOnTheInstanceNothingIsMissed(@TempDir Path dir) throws Exception {
        assertThat(gaps(dir, true)).isEmpty();
    }

    private static List<String> gaps(Path dir, boolean keeper) throws Exception {
        List<String> gaps = new ArrayList<>();
        AlertStream stream = null;
        try (RedisServer redis = RedisServer.start();
                GatewayProcess a = GatewayFixture.launchClusterMember("a", dir, 0, redis.url(), 30_000, Duration.ofSeconds(1));
                GatewayProcess b = GatewayFixture.launchClusterMember("b", dir, 0, redis.url(), 30_000, Duration.ofSeconds(1))) {
            a.awaitListening(Duration.ofSeconds(60));
            b.awaitListening(Duration.ofSeconds(60));
            PortcullisClient keeperClient = null;
            if (keeper) { // control: A already subscribed to the channel in Redis
                keeperClient = PortcullisClient.builder(a.uri())
                        .token(() -> TokenMinter.hs256(GatewayFixture.SECRET, "keeper", Instant.now(), Duration.ofHours(1), Map.of("channels", Map.of("alerts", "r"))))
                        .sendRate(0, 1).build();
                Subscription kept = keeperClient.subscribe("alerts", m -> { });
                keeperClient.connect();
                kept.subscribed().get(10, TimeUnit.SECONDS);
            }
            stream = new AlertStream(30_000, 500, Duration.ofSeconds(60), 64, seq -> b, () -> b).start();
            for (int round = 0; round < 30; round++) {
                List<Message> got = new CopyOnWriteArrayList<>();
                List<Subscribed> acks = new CopyOnWriteArrayList<>();
                String user = "racer-" + round;
                try (PortcullisClient client = PortcullisClient.builder(a.uri())
                        .token(() -> TokenMinter.hs256(GatewayFixture.SECRET, user, Instant.now(), Duration.ofHours(1), Map.of("channels", Map.of("alerts", "r"))))
                        .sendRate(0, 1).build()) {
                    client.subscribe("alerts", new SubscriptionListener() {
                        @Override public void onSubscribed(Subscribed s) { acks.add(s); }
                        @Override public void onMessage(Message m) { got.add(m); }
                    });
                    client.connect().get(10, TimeUnit.SECONDS);
                    await().atMost(Duration.ofSeconds(10)).until(() -> got.size() >= 50);
                }
                long expected = acks.getFirst().offset() + 1;
                if (got.getFirst().offset() != expected) {
                    gaps.add("round " + round + ": ack offset " + acks.getFirst().offset() + ", first message offset " + got.getFirst().offset());
                }
                for (int i = 1; i < got.size(); i++) {
                    if (got.get(i).offset() != got.get(i - 1).offset() + 1) {
                        gaps.add("round " + round + ": jump " + got.get(i - 1).offset() + " -> " + got.get(i).offset() + " at message " + i);
                    }
                }
            }
            if (keeperClient != null) keeperClient.close();
        } finally {
            if (stream != null) stream.stop();
        }
        System.out.println("RACE keeper=" + keeper + " gaps: " + gaps.size() + " " + gaps);
        return gaps;
    }
}
