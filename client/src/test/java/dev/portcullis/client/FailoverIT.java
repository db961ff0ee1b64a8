package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6, acceptance 2: two gateway processes on one real Redis, a 20-second stream of alerts
 * (1,000 per second asked; the rate this machine reaches is printed, as the stream goes as fast as
 * the gateways answer when they cannot take that), 200 Java clients spread over both, and instance A
 * killed with SIGKILL 5 seconds into the stream: every subscriber ends with every alert exactly
 * once, in order (contiguous offsets from 1, each carrying the sequence number published at that
 * offset), and A's clients resumed on B with {@code recovered: true}.
 *
 * <p>How A's clients reach B: the client takes one URL, so A's 100 clients connect through a
 * {@link FailoverRelay} (the load balancer of a real deployment) that prefers A and, once A refuses
 * connections, relays to B. B's 100 clients connect to B directly. Alerts are published through
 * both instances' backend API (alternating) until A dies, then through B only; a publication in
 * flight to A when it dies is retried on B with the same idempotency key.
 */
class FailoverIT {
    private static final int SUBSCRIBERS = 200;
    private static final int PER_SECOND = 1_000;
    private static final Duration STREAM = Duration.ofSeconds(20);
    private static final Duration KILL_AT = Duration.ofSeconds(5);
    private static final int MAX_ALERTS = 20_000;
    private static final Duration START = Duration.ofSeconds(60);

    @Test
    void clientsOfAKilledInstanceGetEveryAlertExactlyOnceInOrderFromTheOther(@TempDir Path dir) throws Exception {
        List<AlertSubscriber> subscribers = new ArrayList<>();
        GatewayProcess a = null;
        GatewayProcess b = null;
        FailoverRelay toA = null;
        AlertStream stream = null;
        RedisServer redis = RedisServer.start();
        try {
            a = GatewayFixture.launchClusterMember("a", dir, 0, redis.url(), 30_000, Duration.ofSeconds(4));
            b = GatewayFixture.launchClusterMember("b", dir, 0, redis.url(), 30_000, Duration.ofSeconds(4));
            a.awaitListening(START);
            b.awaitListening(START);
            toA = new FailoverRelay(a.port(), b.port());

            for (int i = 0; i < SUBSCRIBERS; i++) {
                boolean onA = i % 2 == 0;
                subscribers.add(AlertSubscriber.start(i, onA ? "A" : "B", onA ? toA.uri() : b.uri(), MAX_ALERTS));
            }
            for (AlertSubscriber subscriber : subscribers) {
                Subscribed first = subscriber.subscription().subscribed().get(30, TimeUnit.SECONDS);
                assertThat(first.offset()).as("subscribed before the first alert").isZero();
            }
            assertThat(toA.relayedTo(a.port())).as("connections on A").isGreaterThanOrEqualTo(SUBSCRIBERS / 2);
            assertThat(toA.relayedTo(b.port())).isZero();

            GatewayProcess instanceA = a;
            GatewayProcess instanceB = b;
            AtomicBoolean aAlive = new AtomicBoolean(true);
            stream = new AlertStream(MAX_ALERTS, PER_SECOND, STREAM, 64,
                    seq -> aAlive.get() && seq % 2 == 0 ? instanceA : instanceB, () -> instanceB).start();
            AlertStream alerts = stream;
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(20)).until(() -> alerts.elapsed().compareTo(KILL_AT) >= 0);
            aAlive.set(false);
            long killedAt = System.nanoTime();
            a.kill();

            assertThat(stream.awaitDone(Duration.ofSeconds(90))).as("every alert acknowledged").isTrue();
            assertThat(stream.failures()).as("publications that failed even on B").isEmpty();
            int published = stream.published();
            assertThat(published).isEqualTo(stream.issued());
            int[] seqByOffset = stream.seqByOffset(); // also: the retries on B did not publish twice
            long publishedAt = System.nanoTime();
            AlertSubscriber.awaitReceived(subscribers, seqByOffset, Duration.ofSeconds(60));
            long caughtUpAt = System.nanoTime();

            assertThat(subscribers.stream().map(s -> s.deliveryProblem(seqByOffset)).filter(Objects::nonNull).toList())
                    .as("subscribers that did not get every alert exactly once, in order").isEmpty();
            List<AlertSubscriber> ofA = subscribers.stream().filter(s -> s.group.equals("A")).toList();
            for (AlertSubscriber subscriber : ofA) {
                AlertSubscriber.Disconnect lost = subscriber.firstDisconnectAfter(killedAt);
                assertThat(lost).as("sub-%d lost its connection to A", subscriber.index).isNotNull();
                assertThat(lost.disconnected().willReconnect()).isTrue();
                assertThat(subscriber.firstConnectAfter(lost.nanos())).as("sub-%d reconnected", subscriber.index).isNotNull();
                assertThat(subscriber.subscribed).as("sub-%d resubscribed with recovered: true", subscriber.index)
                        .hasSizeGreaterThanOrEqualTo(2)
                        .last().satisfies(s -> assertThat(s.resumed() && s.recovered()).isTrue());
            }
            assertThat(toA.relayedTo(b.port())).as("A's clients now on B").isGreaterThanOrEqualTo(ofA.size());
            long bReconnects = subscribers.stream().filter(s -> s.group.equals("B")).mapToInt(s -> s.connects.size() - 1).sum();
            System.out.printf("FailoverIT: %d alerts published in %.1f s (%.0f/s, target %d/s), %d retried on B; subscribers caught up"
                            + " %.1f s after the last ack; A's clients reconnected %d times in all, B's %d%n",
                    stream.published(), stream.seconds(), stream.achievedPerSecond(), PER_SECOND, stream.retried(),
                    (caughtUpAt - publishedAt) / 1e9, ofA.stream().mapToInt(s -> s.connects.size() - 1).sum(), bReconnects);
        } finally {
            if (stream != null) {
                stream.stop();
            }
            subscribers.forEach(AlertSubscriber::close);
            if (toA != null) {
                toA.close();
            }
            if (a != null) {
                a.close();
            }
            if (b != null) {
                b.close();
            }
            redis.close();
        }
    }
}
