package dev.portcullis.gateway.broker;

import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.history.Position;
import java.util.concurrent.CompletableFuture;

/**
 * Where publications go: the broker gives each one the next offset of its channel and delivers it
 * to every subscriber (on this instance for {@link LocalBroker}; on every instance for a clustered
 * broker).
 *
 * <p>Contract:
 * <ul>
 *   <li>Offsets of a channel start at 1 and increase by exactly one per publication within an
 *       epoch; the publication is in the channel's history (if it keeps one) from the moment it has
 *       its offset.</li>
 *   <li>Delivery is in offset order per channel, at most once per subscriber.</li>
 *   <li>The returned future completes with the offset once the publication is accepted (stored with
 *       its offset and queued for fan-out, behind any earlier publication of the channel that is still
 *       being prepared); it fails with {@link BrokerUnavailableException} when the publication certainly was
 *       not made, and with {@link PublishOutcomeUnknownException} when it may have been (no answer in
 *       time).
 *       It never completes on the caller's thread after blocking: callers on an event loop stay
 *       responsive.</li>
 *   <li>{@code dataJson} is trusted: validated and sanitised before it gets here.</li>
 * </ul>
 */
public interface Broker extends AutoCloseable {
    /**
     * @param idempotencyKey null, or a key that makes a repeated call within
     *     {@code history.idempotency-window} return the first call's position without publishing again
     * @return the publication's offset and its channel's epoch
     */
    CompletableFuture<Position> publish(String channel, String dataJson, String idempotencyKey);

    default CompletableFuture<Position> publish(String channel, String dataJson) {
        return publish(channel, dataJson, null);
    }

    /**
     * The key to publish with when the caller gave {@code given} (null: none). A broker whose
     * publishes can end without an answer ({@link PublishOutcomeUnknownException}) makes one up, so
     * that the caller can retry safely; a broker that always knows the outcome returns {@code given}.
     * Used where one key must cover several publishes (a broadcast).
     */
    default String idempotencyKeyFor(String given) {
        return given;
    }

    /** The history that publications of this broker are kept in. */
    History history();

    /**
     * Completes once publications of {@code channel} reach this instance's subscribers: for a
     * clustered broker, once the upstream subscription is confirmed. A recovering subscriber reads
     * the history only after this, so that no publication falls between the history it read and the
     * live ones it gets. The channel must already have a local subscriber.
     */
    default CompletableFuture<Void> awaitSubscribed(String channel) {
        return CompletableFuture.completedFuture(null);
    }

    /** For {@code /readyz}: whether publications currently reach every instance. */
    BrokerHealth health();

    @Override
    void close();
}
