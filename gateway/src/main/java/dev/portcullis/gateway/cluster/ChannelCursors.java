package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.BrokerMetrics;
import io.netty.buffer.ByteBufAllocator;
import java.time.Clock;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where this instance stands in each channel it subscribes upstream, and the filter between Redis
 * pub/sub and the local {@link SubscriptionIndex} that makes delivery exactly-once and in offset
 * order across failovers.
 *
 * <p><b>Why.</b> Pub/sub is fire-and-forget: while a subscription is interrupted (a reconnect, a
 * Sentinel failover, a cluster shard's master replaced) Redis drops the channel's publications for
 * this instance, and a pub/sub connection may even be replayed twice. Every publication is in the
 * channel's history stream from the moment it has its offset, so a hole can be filled from there.
 *
 * <p><b>Rules, per channel</b> (one {@link ChannelCursor}, its own lock; callers are Lettuce threads):
 * <ul>
 *   <li>The next offset of the same epoch is delivered. A lower one is a duplicate (a pub/sub
 *       replay) and dropped, unless Redis handed out an offset a second time (a failover lost
 *       acknowledged writes): the history is read to tell which (see below).</li>
 *   <li>A higher one, or a message of a new epoch that does not start at 1, opens a hole: the
 *       message and those after it are held while the history after the last delivered offset is
 *       read; what it returns is delivered in order, then the held ones. The same happens without
 *       any message when the upstream subscription comes back after an interruption
 *       ({@link #resubscribed}): the last publication may have been the one missed.</li>
 *   <li>When the history cannot fill the hole (trimmed, or the channel's epoch changed), the local
 *       subscribers get a {@code gap} notice with the position live publications continue from: the
 *       same signal as {@code recovered: false}, never a silent skip.</li>
 *   <li><b>Offsets reused.</b> When the history is behind what this instance already delivered, or
 *       holds another publication (another publish time) at the last delivered offset, Redis lost
 *       acknowledged writes in a failover and is handing their offsets out again. The channel is
 *       moved to a new epoch ({@link Reader#resetEpoch}, compare-and-set on the old epoch, so several
 *       instances noticing at once make one new epoch), publications still arriving in the old epoch
 *       are dropped, and the subscribers get a {@code gap}. Publishing checks the same thing before
 *       it takes an offset ({@link #known}), so usually the first publish after such a failover starts
 *       the new epoch.</li>
 * </ul>
 * Reads are paced ({@value #MAX_READS} at a time, {@link PacedReads}): after a reconnect every
 * channel catches up at once.
 *
 * <p>This class is the registry and what the cursors share: it finds a channel's
 * {@link ChannelCursor} (the state machine that applies the rules above), keeps the positions this
 * instance published in channels it does not subscribe ({@link #known}), paces the reads and rate
 * limits the lost-writes warning. Threading: any thread; the map is concurrent, {@code published}
 * is guarded by its own monitor, and each cursor by its own.
 */
final class ChannelCursors {
    private static final Logger log = LoggerFactory.getLogger(ChannelCursors.class);
    static final int MAX_READS = 256;
    /** Channels without local subscribers whose last published position is remembered, for the publish check. */
    static final int MAX_PUBLISHED = 10_000;
    static final int WARN_EVERY_SECONDS = 10;

    /** The history operations a cursor needs (Redis in production). */
    interface Reader {
        CompletableFuture<HistoryPage> read(String channel, long since, int limit);

        /** Moves the channel to a new epoch if it is still in {@code epoch}; returns its position after. */
        CompletableFuture<Position> resetEpoch(String channel, String epoch);
    }

    /** One publication as it came from Redis. */
    record Raw(long offset, String epoch, long publishedAt, String data) {}

    // What every ChannelCursor works with: read by the cursors (same package), never reassigned.
    final Reader reader;
    final SubscriptionIndex index;
    final ByteBufAllocator alloc;
    final BrokerMetrics metrics;
    final Clock clock;
    final PacedReads reads;
    private final ScheduledExecutorService retries;
    private final ConcurrentHashMap<String, ChannelCursor> cursors = new ConcurrentHashMap<>();
    private final Map<String, Position> published = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Position> eldest) {
            return size() > MAX_PUBLISHED;
        }
    };
    private final java.util.concurrent.atomic.AtomicLong lastLostWritesWarning = new java.util.concurrent.atomic.AtomicLong();
    private final java.util.concurrent.atomic.AtomicInteger lostWritesSinceWarning = new java.util.concurrent.atomic.AtomicInteger();

    ChannelCursors(Reader reader, SubscriptionIndex index, ByteBufAllocator alloc, BrokerMetrics metrics, Clock clock,
            ScheduledExecutorService retries) {
        this.reader = reader;
        this.index = index;
        this.alloc = alloc;
        this.metrics = metrics;
        this.clock = clock;
        this.retries = retries;
        this.reads = new PacedReads(MAX_READS, retries);
    }

    /** The channel is wanted upstream from now on. */
    void open(String channel) {
        cursors.computeIfAbsent(channel, name -> new ChannelCursor(this, name));
    }

    /** The channel is no longer wanted: forget where it stood. */
    void close(String channel) {
        ChannelCursor cursor = cursors.remove(channel);
        if (cursor != null) {
            cursor.closed();
        }
    }

    /**
     * The upstream subscription is confirmed. The first time, the channel's position is read as the
     * starting point (so a hole before its first publication can still be filled); after an
     * interruption, whatever was missed meanwhile is read back.
     */
    void resubscribed(String channel, boolean afterInterruption) {
        ChannelCursor cursor = cursors.get(channel);
        if (cursor != null) {
            cursor.subscribed(afterInterruption);
        }
    }

    /** A publication from pub/sub. */
    void publication(String channel, Raw raw) {
        ChannelCursor cursor = cursors.get(channel);
        if (cursor != null) {
            cursor.publication(raw);
        }
    }

    /** The highest position this instance knows the channel has reached, or null: what publishing checks against. */
    Position known(String channel) {
        ChannelCursor cursor = cursors.get(channel);
        Position seen = cursor == null ? null : cursor.known();
        Position mine;
        synchronized (published) {
            mine = published.get(channel);
        }
        if (seen == null) {
            return mine;
        }
        return mine != null && mine.epoch().equals(seen.epoch()) && mine.offset() > seen.offset() ? mine : seen;
    }

    /** This instance published at {@code position}. */
    void published(String channel, Position position) {
        synchronized (published) {
            Position before = published.get(channel);
            if (before == null || !before.epoch().equals(position.epoch()) || before.offset() < position.offset()) {
                published.put(channel, position);
            }
        }
    }

    int size() {
        return cursors.size();
    }

    /**
     * Logs that a channel's history went behind what was delivered or published (by this cursor, or
     * by the publish script's check): once per
     * {@value #WARN_EVERY_SECONDS} s with how many channels it happened to since, because a lossy
     * failover does it to every channel with subscribers at once.
     */
    void lostWrites(String epoch, long reached) {
        long now = System.nanoTime();
        long last = lastLostWritesWarning.get();
        int channels = lostWritesSinceWarning.incrementAndGet();
        if ((last == 0 || now - last > TimeUnit.SECONDS.toNanos(WARN_EVERY_SECONDS)) && lastLostWritesWarning.compareAndSet(last, now | 1)) {
            lostWritesSinceWarning.set(0);
            log.warn("Redis lost acknowledged publications in a failover: a channel that had reached offset {} in epoch {} is behind "
                    + "that in Redis ({} channel(s) since the last such line); those channels continue in new epochs", reached, epoch, channels);
        }
    }

    /** Runs {@code action} on the retry executor a second from now (a failed read or epoch reset is retried so). */
    void later(Runnable action) {
        try {
            retries.schedule(action, 1, TimeUnit.SECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // closing: nothing left to deliver to
        }
    }
}
