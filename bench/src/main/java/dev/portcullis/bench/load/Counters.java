package dev.portcullis.bench.load;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * A worker's cumulative counters, written from its event loops and read once a second for the
 * {@code @stats} line. The hot ones (deliveries, acks) are fixed {@link LongAdder}s reached by a
 * field; rare, open-ended ones (HTTP statuses, close codes, error codes, failure kinds) live in a
 * map under {@code kind.detail} keys such as {@code status.401} or {@code close.4009}.
 */
final class Counters {
    final LongAdder attempts = new LongAdder();
    final LongAdder opened = new LongAdder();
    final LongAdder failed = new LongAdder();
    final LongAdder subscribed = new LongAdder();
    final LongAdder lost = new LongAdder();
    final LongAdder closed = new LongAdder();
    final LongAdder deliveries = new LongAdder();
    /** WebSocket frame bytes (header and payload, as received: compressed or not) of the counted deliveries. */
    final LongAdder deliveryBytes = new LongAdder();
    final LongAdder otherMessages = new LongAdder();
    final LongAdder pings = new LongAdder();
    final LongAdder sent = new LongAdder();
    final LongAdder accepted = new LongAdder();
    final LongAdder rateLimited = new LongAdder();
    final LongAdder rejected = new LongAdder();
    final LongAdder churnOpened = new LongAdder();
    final LongAdder churnClosed = new LongAdder();
    final LongAdder churnFailed = new LongAdder();
    final LongAdder reauths = new LongAdder();
    private final ConcurrentHashMap<String, LongAdder> keyed = new ConcurrentHashMap<>();

    void count(String key) {
        keyed.computeIfAbsent(key, k -> new LongAdder()).increment();
    }

    /** {@code key=value} pairs, space-separated, for the {@code @stats} line. */
    String line() {
        Map<String, Long> all = snapshot();
        StringBuilder b = new StringBuilder(256);
        all.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
        return b.toString();
    }

    Map<String, Long> snapshot() {
        Map<String, Long> all = new TreeMap<>();
        all.put("attempts", attempts.sum());
        all.put("opened", opened.sum());
        all.put("failed", failed.sum());
        all.put("subscribed", subscribed.sum());
        all.put("lost", lost.sum());
        all.put("closed", closed.sum());
        all.put("deliveries", deliveries.sum());
        all.put("delivery_bytes", deliveryBytes.sum());
        all.put("other_messages", otherMessages.sum());
        all.put("pings", pings.sum());
        all.put("sent", sent.sum());
        all.put("accepted", accepted.sum());
        all.put("rate_limited", rateLimited.sum());
        all.put("rejected", rejected.sum());
        all.put("churn_opened", churnOpened.sum());
        all.put("churn_closed", churnClosed.sum());
        all.put("churn_failed", churnFailed.sum());
        all.put("reauths", reauths.sum());
        keyed.forEach((k, v) -> all.put(k, v.sum()));
        return all;
    }
}
