package dev.portcullis.gateway.broker;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.HistoryConfig;
import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.history.MemoryHistory;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.CompletableFuture;
import java.util.function.LongSupplier;

/**
 * The single-instance broker: offsets, epochs and history in a {@link MemoryHistory}, delivery
 * straight into the local {@link SubscriptionIndex}. Publishing runs on the caller's thread and
 * never blocks beyond the channel's monitor, held while the offset is taken, the publication stored
 * and the fan-out tasks queued: that is what makes offset order, history order and delivery order
 * the same.
 */
public final class LocalBroker implements Broker {
    /** Live idempotency keys remembered at most; more are not remembered (bounded memory). */
    private static final int MAX_IDEMPOTENCY_KEYS = 100_000;

    private final SubscriptionIndex index;
    private final ByteBufAllocator alloc;
    private final GatewayMetrics metrics;
    private final MemoryHistory history;
    private final IdempotencyKeys idempotency;
    private final long idleMillis;
    private volatile boolean closed;

    public LocalBroker(SubscriptionIndex index, ByteBufAllocator alloc, GatewayMetrics metrics, HistoryConfig config,
            long idleMillis, LongSupplier clockMillis) {
        this.index = index;
        this.alloc = alloc;
        this.metrics = metrics;
        this.history = new MemoryHistory(config, clockMillis);
        this.idempotency = new IdempotencyKeys(config.idempotencyWindow().toMillis(), MAX_IDEMPOTENCY_KEYS, clockMillis);
        this.idleMillis = idleMillis;
    }

    @Override
    public CompletableFuture<Position> publish(String channel, String dataJson, String idempotencyKey) {
        if (closed) {
            return CompletableFuture.failedFuture(new BrokerUnavailableException("broker closed"));
        }
        Position position = idempotencyKey == null
                ? publishNow(channel, dataJson)
                : idempotency.publishOnce(channel, idempotencyKey, () -> publishNow(channel, dataJson));
        return CompletableFuture.completedFuture(position);
    }

    private Position publishNow(String channel, String dataJson) {
        return history.append(channel, dataJson, position -> {
            Publication publication = Publication.encode(alloc, channel, position.offset(), position.epoch(), dataJson);
            try {
                metrics.delivered(index.publish(publication));
            } finally {
                publication.release();
            }
        });
    }

    @Override
    public History history() {
        return history;
    }

    public MemoryHistory memoryHistory() {
        return history;
    }

    /** Forgets idle channels without history or subscribers, and expired idempotency keys; run periodically. */
    public void sweep() {
        history.sweep(idleMillis, channel -> index.subscribers(channel) > 0);
        idempotency.sweep();
    }

    @Override
    public BrokerHealth health() {
        return closed ? BrokerHealth.degraded("local", "closed") : BrokerHealth.ok("local");
    }

    @Override
    public void close() {
        closed = true;
    }
}
