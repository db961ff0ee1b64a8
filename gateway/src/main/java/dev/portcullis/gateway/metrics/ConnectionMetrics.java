package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * A connection's life in meters: attempts, handshakes refused or completed (and the "why was I
 * refused?" answers), upgrades, the open count against its cap, and closes by close code with the
 * lifetime. Created by {@link GatewayMetrics}, like every meter, and reached through
 * {@link GatewayMetrics#connections()}.
 *
 * <p>Its own class because it is the one corner with state of its own beyond meters: the open count
 * that opened and closed must keep paired, and the close-code table, whose counters for codes seen
 * first at run time are registered on first use. The transport records here; the
 * {@link ConnectionSpikeDetector} reads the attempts.
 *
 * <p>Every method is safe from any thread, event loops included: counters for the known close codes
 * are registered once up front and every other one is cached on first use, so recording a close is
 * an increment, not a registration.
 */
public final class ConnectionMetrics {
    /** Close codes registered up front: RFC 6455's common ones and the ones Portcullis sends. */
    static final int[] KNOWN_CLOSE_CODES = {1000, 1001, 1006, 1008, 1009, 1011, 4000, 4001, 4008, 4009, 4500, 4501, 4503};
    static final int MIN_CLOSE_CODE = 1000;
    static final int MAX_CLOSE_CODE = 4999;

    private final MeterRegistry registry;
    private final AtomicLong active = new AtomicLong();
    private final AtomicLong maxConnections = new AtomicLong();
    private final Counter opened;
    private final Counter attempts;
    private final AtomicReferenceArray<Counter> closedByCode =
            new AtomicReferenceArray<>(MAX_CLOSE_CODE - MIN_CLOSE_CODE + 1);
    private final Counter closedOther;
    private final Timer connectionDuration;
    private final TaggedCounters handshakesRejected;
    private final TaggedCounters refusalProbes;
    private final Timer handshakeDuration;

    ConnectionMetrics(MeterRegistry registry) {
        this.registry = registry;
        Gauge.builder("portcullis.connections.active", active, AtomicLong::get)
                .description("Open WebSocket connections")
                .register(registry);
        Gauge.builder("portcullis.connections.max", maxConnections, AtomicLong::get)
                .description("The connection cap in force (limits.max-connections held under the file limit); 0: none")
                .register(registry);
        opened = Counter.builder("portcullis.connections.opened")
                .description("WebSocket connections opened (upgrade completed)")
                .register(registry);
        attempts = Counter.builder("portcullis.connection.attempts")
                .description("Connection attempts reaching the handshake, accepted or not")
                .register(registry);
        closedOther = closedCounter(TaggedCounters.OTHER);
        for (int code : KNOWN_CLOSE_CODES) {
            closedByCode.set(code - MIN_CLOSE_CODE, closedCounter(Integer.toString(code)));
        }
        // Explicit buckets from 1 s to 1 day: a handful of series that read well on a dashboard, instead
        // of the ~70 a percentile histogram would publish over the same range.
        connectionDuration = Timer.builder("portcullis.connection.duration")
                .description("Lifetime of closed WebSocket connections")
                .serviceLevelObjectives(
                        Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(15), Duration.ofSeconds(30),
                        Duration.ofMinutes(1), Duration.ofMinutes(5), Duration.ofMinutes(15), Duration.ofMinutes(30),
                        Duration.ofHours(1), Duration.ofHours(2), Duration.ofHours(6), Duration.ofHours(12),
                        Duration.ofDays(1))
                .register(registry);
        handshakesRejected = new TaggedCounters(registry, "portcullis.handshakes.rejected",
                "Handshakes refused before the upgrade, by reason code", "reason", Set.of(), GatewayMetrics.MAX_CODES);
        refusalProbes = new TaggedCounters(registry, "portcullis.refusal.probes",
                "\"Why was I refused?\" requests, by the answer (ok, or the refusal's reason code)", "result", Set.of("ok"), GatewayMetrics.MAX_CODES);
        handshakeDuration = Timer.builder("portcullis.handshake.duration")
                .description("Time from the upgrade request to the completed upgrade")
                .serviceLevelObjectives(
                        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50),
                        Duration.ofMillis(100), Duration.ofMillis(250), Duration.ofMillis(500),
                        Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5), Duration.ofSeconds(10))
                .register(registry);
    }

    /** A WebSocket upgrade completed. Pair every call with exactly one {@link #closed}. */
    public void opened() {
        active.incrementAndGet();
        opened.increment();
    }

    /**
     * A connection that was {@linkplain #opened() opened} has closed.
     *
     * @param closeCode the WebSocket close code; codes outside 1000-4999 are counted as "other"
     * @param duration how long the connection was open
     */
    public void closed(int closeCode, Duration duration) {
        active.decrementAndGet();
        closedCounter(closeCode).increment();
        connectionDuration.record(duration);
    }

    public long active() {
        return active.get();
    }

    /**
     * A TCP connection asked for an upgrade; counted before any check, so it also counts what admission
     * refuses. This is the counter the {@link ConnectionSpikeDetector} watches.
     */
    public void attempt() {
        attempts.increment();
    }

    /** A "why was I refused?" request answered with {@code result}: {@code ok} or a refusal's reason code. */
    public void refusalProbe(String result) {
        refusalProbes.increment(result);
    }

    /** The cap {@code ConnectionSlots} enforces, for alerts on "near the limit". */
    public void maxConnections(long cap) {
        maxConnections.set(cap);
    }

    /**
     * A handshake was refused.
     *
     * @param reason a short code such as {@code bad_token} or {@code rate_limited} ({@code [a-z0-9_]},
     *     at most 40 characters, at most {@value GatewayMetrics#MAX_CODES} distinct values); anything else is counted
     *     as "other"
     */
    public void handshakeRejected(String reason) {
        handshakesRejected.increment(reason);
    }

    public void handshakeCompleted(Duration duration) {
        handshakeDuration.record(duration);
    }

    long attempts() {
        return (long) attempts.count();
    }

    private Counter closedCounter(int code) {
        if (code < MIN_CLOSE_CODE || code > MAX_CLOSE_CODE) {
            return closedOther;
        }
        int index = code - MIN_CLOSE_CODE;
        Counter counter = closedByCode.get(index);
        if (counter == null) {
            // Registration is idempotent, so a race registers once and both threads cache the same counter.
            counter = closedCounter(Integer.toString(code));
            closedByCode.set(index, counter);
        }
        return counter;
    }

    private Counter closedCounter(String code) {
        return Counter.builder("portcullis.connections.closed")
                .description("WebSocket connections closed, by close code")
                .tag("code", code)
                .register(registry);
    }
}
