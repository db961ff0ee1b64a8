package dev.portcullis.gateway.broker;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.HistoryConfig;
import dev.portcullis.gateway.history.Delivery;
import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.history.HistorySnapshot;
import dev.portcullis.gateway.history.MemoryHistory;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.netty.buffer.ByteBufAllocator;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The single-instance broker: offsets, epochs and history in a {@link MemoryHistory}, delivery
 * straight into the local {@link SubscriptionIndex}. Publishing runs on the caller's thread and
 * never blocks beyond the channel's monitor, held only while the offset is taken and the publication
 * stored. The frame is encoded outside it, and the channel's ordered hand-off passes publications to
 * the index in offset order, one at a time (see {@code ChannelLog}): that is what keeps offset order,
 * history order and delivery order the same with any number of concurrent publishers.
 *
 * <p>With {@code history.snapshot-file} set, the history is read from that file at start and
 * written to it on {@link #close} (see {@link HistorySnapshot}): a graceful restart keeps every
 * channel's epoch and offsets.
 */
public final class LocalBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(LocalBroker.class);
    /** Live idempotency keys remembered at most; more are not remembered (bounded memory). */
    private static final int MAX_IDEMPOTENCY_KEYS = 100_000;

    private final SubscriptionIndex index;
    private final MemoryHistory history;
    private final IdempotencyKeys idempotency;
    private final long idleMillis;
    private final Path snapshotFile;
    private final AtomicBoolean closed = new AtomicBoolean();

    /**
     * Loads {@code history.snapshot-file} when it is set.
     *
     * @param evictor where the history's evictions run: not an event loop
     */
    public LocalBroker(SubscriptionIndex index, ByteBufAllocator alloc, GatewayMetrics metrics, HistoryConfig config,
            long idleMillis, LongSupplier clockMillis, Executor evictor) {
        this.index = index;
        Delivery delivery = (channel, position, dataJson) -> {
            Publication publication = Publication.encode(alloc, channel, position.offset(), position.epoch(), dataJson);
            return () -> {
                try {
                    metrics.delivered(index.publish(publication));
                } finally {
                    publication.release();
                }
            };
        };
        this.history = new MemoryHistory(config, clockMillis, delivery, evictor);
        this.idempotency = new IdempotencyKeys(config.idempotencyWindow().toMillis(), MAX_IDEMPOTENCY_KEYS, clockMillis);
        this.idleMillis = idleMillis;
        this.snapshotFile = config.snapshotFile();
        if (snapshotFile != null) {
            metrics.historySnapshotLoaded(HistorySnapshot.load(snapshotFile, history).outcome().tag());
        }
    }

    @Override
    public CompletableFuture<Position> publish(String channel, String dataJson, String idempotencyKey) {
        if (closed.get()) {
            return CompletableFuture.failedFuture(new BrokerUnavailableException("broker closed"));
        }
        try {
            Position position = idempotencyKey == null
                    ? history.append(channel, dataJson)
                    : idempotency.publishOnce(channel, idempotencyKey, () -> history.append(channel, dataJson));
            return CompletableFuture.completedFuture(position);
        } catch (IllegalStateException sealed) {
            return CompletableFuture.failedFuture(new BrokerUnavailableException("broker closed"));
        }
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
        return closed.get() ? BrokerHealth.degraded("local", "closed") : BrokerHealth.ok("local");
    }

    /**
     * Stops publishing; with {@code history.snapshot-file}, seals the history (a publish racing with
     * this either is in the snapshot or fails) and writes it. A write that fails is logged: the next
     * start then begins with new epochs, as after a crash.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true) || snapshotFile == null) {
            return;
        }
        try {
            HistorySnapshot.save(snapshotFile, history);
        } catch (IOException | RuntimeException e) {
            log.error("could not write the history snapshot {}: {}; the next start begins every channel in a new epoch",
                    snapshotFile, e.toString());
        }
    }
}
