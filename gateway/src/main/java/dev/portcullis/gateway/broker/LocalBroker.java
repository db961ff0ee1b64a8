package dev.portcullis.gateway.broker;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * The single-instance broker: offsets in memory, delivery straight into the local
 * {@link SubscriptionIndex}. Publishing runs on the caller's thread and never blocks beyond a
 * per-channel monitor held while the offset is taken and the fan-out tasks are queued; that monitor
 * is what makes offset order and delivery order the same.
 *
 * <p>Memory: a channel's offset counter is kept while the channel has subscribers or was published
 * to within {@code idleMillis}; {@link #sweep()} drops the rest, after which the channel's offsets
 * start again at 1. (History and epochs, which make that visible to clients, come with the history
 * store.)
 */
public final class LocalBroker implements Broker {
    private final SubscriptionIndex index;
    private final GatewayMetrics metrics;
    private final ByteBufAllocator alloc;
    private final LongSupplier nanoTime;
    private final long idleNanos;
    private final ConcurrentHashMap<String, ChannelOffset> offsets = new ConcurrentHashMap<>();
    private volatile boolean closed;

    /** Guarded by its own monitor; {@code dropped} marks a state the sweep removed from the map. */
    private static final class ChannelOffset {
        long last;
        long usedNanos;
        boolean dropped;
    }

    public LocalBroker(SubscriptionIndex index, ByteBufAllocator alloc, GatewayMetrics metrics, long idleMillis, LongSupplier nanoTime) {
        this.index = index;
        this.metrics = metrics;
        this.alloc = alloc;
        this.idleNanos = idleMillis * 1_000_000L;
        this.nanoTime = nanoTime;
    }

    @Override
    public CompletableFuture<Long> publish(String channel, String dataJson) {
        if (closed) {
            return CompletableFuture.failedFuture(new BrokerUnavailableException("broker closed"));
        }
        while (true) {
            ChannelOffset state = offsets.computeIfAbsent(channel, c -> new ChannelOffset());
            synchronized (state) {
                if (state.dropped) {
                    continue; // swept between lookup and lock: take the fresh state
                }
                long offset = ++state.last;
                state.usedNanos = nanoTime.getAsLong();
                Publication publication = Publication.encode(alloc, channel, offset, dataJson);
                try {
                    metrics.delivered(index.publish(publication));
                } finally {
                    publication.release();
                }
                return CompletableFuture.completedFuture(offset);
            }
        }
    }

    /** The last offset given out in {@code channel}, 0 when none is known. */
    public long lastOffset(String channel) {
        ChannelOffset state = offsets.get(channel);
        if (state == null) {
            return 0;
        }
        synchronized (state) {
            return state.last;
        }
    }

    /** Forgets offsets of channels idle for {@code idleMillis} without subscribers; run periodically. */
    public void sweep() {
        long now = nanoTime.getAsLong();
        offsets.forEach((channel, state) -> {
            synchronized (state) {
                if (now - state.usedNanos > idleNanos && index.subscribers(channel) == 0) {
                    state.dropped = true;
                    offsets.remove(channel, state);
                }
            }
        });
    }

    public int trackedChannels() {
        return offsets.size();
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
