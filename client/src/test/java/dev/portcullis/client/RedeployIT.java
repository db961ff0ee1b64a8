package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.RedisServer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 6, acceptance 3: a graceful redeploy of both instances of a cluster, one after the other,
 * under a steady stream of alerts. Each is stopped with SIGTERM (the gateway drains: closes its
 * connections with 1001 in waves over the drain window, each with a {@code disconnect} hint saying
 * when to come back) and replaced by a new process on the same port. Every subscriber ends with
 * every alert exactly once, in order (zero lost), and the reconnects of the clients of each stopped
 * instance are spread over the drain window rather than all at once: the test asserts the spread of
 * the reconnect instants (range and interquartile range, as fractions of the window), never how long
 * anything took.
 *
 * <p>As in {@link FailoverIT} the clients reach "another instance" through {@link FailoverRelay}s,
 * the stand-in for the load balancer: A's clients through one preferring A then B, B's through one
 * preferring B then A. Alerts are published through whichever instance is not being redeployed.
 */
class RedeployIT {
    private static final int SUBSCRIBERS = 200;
    private static final int PER_SECOND = 500;
    private static final int MAX_ALERTS = 30_000;
    private static final Duration DRAIN = Duration.ofSeconds(4);
    private static final Duration START = Duration.ofSeconds(60);
    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void aRollingRedeployLosesNoAlertAndSpreadsTheReconnectsOverTheDrainWindow(@TempDir Path dir) throws Exception {
        List<AlertSubscriber> subscribers = new ArrayList<>();
        List<GatewayProcess> gateways = new ArrayList<>();
        List<FailoverRelay> relays = new ArrayList<>();
        AlertStream stream = null;
        RedisServer redis = RedisServer.start();
        try {
            int portA = GatewayFixture.freePort();
            int portB = GatewayFixture.freePort();
            GatewayProcess a = launch(gateways, "a", portA, redis, dir);
            GatewayProcess b = launch(gateways, "b", portB, redis, dir);
            a.awaitListening(START);
            b.awaitListening(START);
            FailoverRelay toA = new FailoverRelay(portA, portB);
            relays.add(toA);
            FailoverRelay toB = new FailoverRelay(portB, portA);
            relays.add(toB);

            for (int i = 0; i < SUBSCRIBERS; i++) {
                boolean onA = i % 2 == 0;
                subscribers.add(AlertSubscriber.start(i, onA ? "A" : "B", (onA ? toA : toB).uri(), MAX_ALERTS));
            }
            for (AlertSubscriber subscriber : subscribers) {
                assertThat(subscriber.subscription().subscribed().get(30, TimeUnit.SECONDS).offset()).isZero();
            }
            assertThat(toA.relayedTo(portA)).isGreaterThanOrEqualTo(SUBSCRIBERS / 2);
            assertThat(toA.relayedTo(portB)).isZero();
            assertThat(toB.relayedTo(portB)).isGreaterThanOrEqualTo(SUBSCRIBERS / 2);
            assertThat(toB.relayedTo(portA)).isZero();
            List<AlertSubscriber> ofA = subscribers.stream().filter(s -> s.group.equals("A")).toList();

            AtomicReference<GatewayProcess> publishVia = new AtomicReference<>(b);
            stream = new AlertStream(MAX_ALERTS, PER_SECOND, Duration.ofSeconds(90), 64, seq -> publishVia.get(), publishVia::get).start();
            awaitIssued(stream, PER_SECOND); // a second of stream before the first stop

            // Redeploy A while alerts go through B.
            long stopA = System.nanoTime();
            assertThat(a.terminate(WAIT)).as("A exits 0 after draining").isZero();
            GatewayProcess a2 = launch(gateways, "a2", portA, redis, dir).awaitListening(START);
            await().atMost(WAIT).until(() -> ofA.stream().allMatch(s -> s.firstConnectAfter(stopA) != null));
            List<AlertSubscriber> clientsOfA = subscribers.stream().filter(s -> s.firstDisconnectAfter(stopA) != null).toList();
            assertThat(clientsOfA).as("A's clients, and only they, were disconnected").containsExactlyElementsOf(ofA);

            // Redeploy B while alerts go through A'.
            publishVia.set(a2);
            awaitIssued(stream, stream.issued() + PER_SECOND / 2);
            long stopB = System.nanoTime();
            assertThat(b.terminate(WAIT)).as("B exits 0 after draining").isZero();
            GatewayProcess b2 = launch(gateways, "b2", portB, redis, dir).awaitListening(START);
            // B's clients: its own, and those of A's that came back while A' was not up yet.
            List<AlertSubscriber> clientsOfB = subscribers.stream().filter(s -> s.firstDisconnectAfter(stopB) != null).toList();
            assertThat(clientsOfB.size()).isGreaterThanOrEqualTo(SUBSCRIBERS / 2);
            await().atMost(WAIT).until(() -> clientsOfB.stream().allMatch(s -> s.firstConnectAfter(s.firstDisconnectAfter(stopB).nanos()) != null));

            // The new B serves too.
            publishVia.set(b2);
            awaitIssued(stream, stream.issued() + PER_SECOND / 2);
            stream.stop();
            assertThat(stream.awaitDone(Duration.ofSeconds(30))).as("every alert acknowledged").isTrue();
            assertThat(stream.failures()).isEmpty();
            assertThat(stream.published()).isEqualTo(stream.issued());
            int[] seqByOffset = stream.seqByOffset();
            AlertSubscriber.awaitReceived(subscribers, seqByOffset, Duration.ofSeconds(60));

            Spread reconnectsA = reconnectsAfter("A", clientsOfA, stopA);
            Spread reconnectsB = reconnectsAfter("B", clientsOfB, stopB);
            System.out.printf("RedeployIT: %d alerts in %.1f s (%.0f/s, target %d/s), %d retried; drain window %d ms;"
                            + " reconnects after SIGTERM to A (%d clients): %s; to B (%d clients): %s%n",
                    stream.published(), stream.seconds(), stream.achievedPerSecond(), PER_SECOND, stream.retried(), DRAIN.toMillis(),
                    clientsOfA.size(), reconnectsA, clientsOfB.size(), reconnectsB);
            assertThat(subscribers.stream().map(s -> s.deliveryProblem(seqByOffset)).filter(Objects::nonNull).toList())
                    .as("subscribers that did not get every alert exactly once, in order").isEmpty();
            assertSpreadOverTheDrain("A", reconnectsA);
            assertSpreadOverTheDrain("B", reconnectsB);
        } finally {
            if (stream != null) {
                stream.stop();
            }
            subscribers.forEach(AlertSubscriber::close);
            relays.forEach(FailoverRelay::close);
            gateways.forEach(GatewayProcess::close);
            redis.close();
        }
    }

    /**
     * When the clients of a stopped instance connected again, in milliseconds from the SIGTERM
     * (quartiles), and the range of the reconnect delays they chose from the server's hints.
     */
    record Spread(long minMillis, long q1Millis, long medianMillis, long q3Millis, long maxMillis, long hintRangeMillis) {
        long range() {
            return maxMillis - minMillis;
        }

        long interquartile() {
            return q3Millis - q1Millis;
        }
    }

    /** Each client of the instance stopped at {@code stoppedAt} was closed with 1001, will reconnect, and did. */
    private static Spread reconnectsAfter(String instance, List<AlertSubscriber> clients, long stoppedAt) {
        long[] reconnects = new long[clients.size()];
        long[] delays = new long[clients.size()];
        for (int i = 0; i < clients.size(); i++) {
            AlertSubscriber client = clients.get(i);
            AlertSubscriber.Disconnect closed = client.firstDisconnectAfter(stoppedAt);
            assertThat(closed.disconnected().code()).as("sub-%d closed by %s: %s", client.index, instance, closed.disconnected())
                    .isEqualTo(1001);
            assertThat(closed.disconnected().willReconnect()).isTrue();
            delays[i] = closed.disconnected().reconnectDelay().toMillis();
            reconnects[i] = TimeUnit.NANOSECONDS.toMillis(client.firstConnectAfter(closed.nanos()).nanos() - stoppedAt);
        }
        Arrays.sort(reconnects);
        Arrays.sort(delays);
        int n = reconnects.length;
        return new Spread(reconnects[0], reconnects[n / 4], reconnects[n / 2], reconnects[3 * n / 4], reconnects[n - 1],
                delays[n - 1] - delays[0]);
    }

    /**
     * The reconnects are spread over the drain window: their range covers at least 30% of it and
     * their middle half at least 10% of it; and the clients' reconnect delays (from the servers'
     * hints) range over at least 30% of it. All at once (a thundering herd: every connection closed
     * at the same moment, no hint) puts them within the clients' backoff jitter (100-200 ms here);
     * measured with a 300 ms drain: range 685 ms, interquartile range 52 ms.
     */
    private static void assertSpreadOverTheDrain(String instance, Spread spread) {
        long window = DRAIN.toMillis();
        assertThat(spread.hintRangeMillis()).as("range of the reconnect delays chosen from %s's hints: %s", instance, spread)
                .isGreaterThanOrEqualTo(window * 3 / 10);
        assertThat(spread.range()).as("range of the reconnects after stopping %s: %s", instance, spread)
                .isGreaterThanOrEqualTo(window * 3 / 10);
        assertThat(spread.interquartile()).as("interquartile range of the reconnects after stopping %s: %s", instance, spread)
                .isGreaterThanOrEqualTo(window / 10);
    }

    private static GatewayProcess launch(List<GatewayProcess> gateways, String name, int port, RedisServer redis, Path dir) {
        GatewayProcess gateway = GatewayFixture.launchClusterMember(name, dir, port, redis.url(), MAX_ALERTS, DRAIN);
        gateways.add(gateway);
        return gateway;
    }

    private static void awaitIssued(AlertStream stream, int count) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(20)).until(() -> stream.issued() >= count);
    }
}
