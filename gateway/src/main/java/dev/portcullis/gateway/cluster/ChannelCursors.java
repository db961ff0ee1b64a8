package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.BrokerMetrics;
import io.netty.buffer.ByteBufAllocator;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
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
 * <p><b>Rules, per channel</b> (one {@link Cursor}, its own lock; callers are Lettuce threads):
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
 * <p>Why one class past 400 lines: {@link Cursor} is one state machine (live, filling a hole,
 * resetting an epoch) whose every transition holds the same lock and may lead to any other; split
 * across files, the reasoning above would be too.
 */
final class ChannelCursors {
    private static final Logger log = LoggerFactory.getLogger(ChannelCursors.class);
    /** Publications held per channel while its hole is read; past it they are dropped and reported as a gap. */
    static final int MAX_HELD = 10_000;
    /** History entries read per round trip while catching up. */
    static final int PAGE = 1000;
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

    private final Reader reader;
    private final SubscriptionIndex index;
    private final ByteBufAllocator alloc;
    private final BrokerMetrics metrics;
    private final Clock clock;
    private final ScheduledExecutorService retries;
    private final ConcurrentHashMap<String, Cursor> cursors = new ConcurrentHashMap<>();
    private final Map<String, Position> published = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Position> eldest) {
            return size() > MAX_PUBLISHED;
        }
    };
    private final PacedReads reads;
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
        cursors.computeIfAbsent(channel, Cursor::new);
    }

    /** The channel is no longer wanted: forget where it stood. */
    void close(String channel) {
        Cursor cursor = cursors.remove(channel);
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
        Cursor cursor = cursors.get(channel);
        if (cursor != null) {
            cursor.subscribed(afterInterruption);
        }
    }

    /** A publication from pub/sub. */
    void publication(String channel, Raw raw) {
        Cursor cursor = cursors.get(channel);
        if (cursor != null) {
            cursor.publication(raw);
        }
    }

    /** The highest position this instance knows the channel has reached, or null: what publishing checks against. */
    Position known(String channel) {
        Cursor cursor = cursors.get(channel);
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

    private void later(Runnable action) {
        try {
            retries.schedule(action, 1, TimeUnit.SECONDS);
        } catch (RejectedExecutionException shuttingDown) {
            // closing: nothing left to deliver to
        }
    }

    /** One channel's position and hole-filling state. Every method holds the cursor's lock. */
    private final class Cursor {
        private final String channel;
        private String epoch;
        /** Last offset delivered (or taken as the start); -1 while unknown. */
        private long last = -1;
        /** Publish time of the last publication delivered, to tell a reused offset from a duplicate. */
        private long lastPublishedAt = Long.MIN_VALUE;
        /** The start came from a read, not a delivery: lower offsets may still arrive late and are passed on. */
        private boolean tentative;
        /** An epoch this instance abandoned because its offsets were reused: its publications are dropped. */
        private String abandoned;
        /** Non-null while a hole is being filled: publications that arrived meanwhile, in order. */
        private List<Raw> held;
        private boolean overflowed;
        private boolean gone;

        Cursor(String channel) {
            this.channel = channel;
        }

        synchronized void closed() {
            gone = true;
            held = null;
        }

        synchronized Position known() {
            return last < 0 || tentative || epoch == null ? null : new Position(last, epoch);
        }

        synchronized void subscribed(boolean afterInterruption) {
            if (gone || held != null) {
                return; // a hole is being filled already; it reads up to the present
            }
            if (last < 0) {
                held = new ArrayList<>();
                reads.submit(() -> reader.read(channel, Long.MAX_VALUE - 1, 1).whenComplete(this::started));
            } else if (afterInterruption) {
                held = new ArrayList<>();
                readHole();
            }
        }

        /** The starting position, read after the first subscription was confirmed. */
        private synchronized void started(HistoryPage page, Throwable failure) {
            reads.done();
            if (gone || held == null) {
                return;
            }
            if (failure == null && last < 0) {
                epoch = page.position().epoch();
                last = page.position().offset();
                tentative = true;
            }
            List<Raw> waiting = held;
            held = null;
            release(waiting, 0);
        }

        synchronized void publication(Raw raw) {
            if (gone || raw.epoch().equals(abandoned)) {
                return;
            }
            if (held != null) {
                hold(raw);
                return;
            }
            accept(raw);
        }

        private void hold(Raw raw) {
            if (held.size() < MAX_HELD) {
                held.add(raw);
            } else {
                overflowed = true;
            }
        }

        /** Live: deliver, drop, or open a hole. */
        private void accept(Raw raw) {
            if (last < 0) {
                deliver(raw);
            } else if (raw.epoch().equals(epoch)) {
                if (raw.offset() == last + 1) {
                    deliver(raw);
                } else if (raw.offset() <= last) {
                    if (tentative) {
                        pass(raw); // published before our start was read, arriving late: subscribers filter by offset
                    } else if (raw.offset() < last || raw.publishedAt() != lastPublishedAt) {
                        // A replay of an older publication, or an offset handed out again: the history
                        // tells which (it no longer holds what was delivered at the last offset if so).
                        held = new ArrayList<>();
                        readHole();
                    }
                    // else the last publication again (a pub/sub replay): already delivered
                } else {
                    held = new ArrayList<>(List.of(raw));
                    readHole();
                }
            } else if (raw.offset() == 1) {
                gap(raw.epoch(), 0, "epoch_changed");
                deliver(raw);
            } else {
                held = new ArrayList<>(List.of(raw));
                readHole();
            }
        }

        private void deliver(Raw raw) {
            epoch = raw.epoch();
            last = raw.offset();
            tentative = false;
            lastPublishedAt = raw.publishedAt(); // exactly this publication's: publish times of concurrent publishers are not in offset order
            metrics.lag(Duration.ofMillis(clock.millis() - raw.publishedAt()));
            pass(raw);
        }

        private void pass(Raw raw) {
            Publication publication = Publication.encode(alloc, channel, raw.offset(), raw.epoch(), raw.data());
            try {
                index.publish(publication);
            } finally {
                publication.release();
            }
        }

        /** Tells the local subscribers that publications up to (epoch, offset) cannot be recovered; live ones continue after. */
        private void gap(String newEpoch, long offset, String reason) {
            metrics.gap(reason);
            epoch = newEpoch;
            last = offset;
            tentative = false;
            Publication notice = Publication.gap(alloc, channel, offset, newEpoch);
            try {
                index.publish(notice);
            } finally {
                notice.release();
            }
        }

        /**
         * Reads the history after the last delivered offset (the start of the epoch for a new one),
         * from the last delivered one itself when its publish time is known: if the history holds
         * another publication at that offset, offsets were reused.
         */
        private void readHole() {
            Raw first = held.isEmpty() ? null : held.get(0);
            long since = first != null && !first.epoch().equals(epoch) ? 0
                    : last > 0 && lastPublishedAt != Long.MIN_VALUE ? last - 1 : last;
            reads.submit(() -> reader.read(channel, since, PAGE).whenComplete((page, failure) -> filled(since, page, failure)));
        }

        private synchronized void filled(long since, HistoryPage page, Throwable failure) {
            reads.done();
            if (gone || held == null) {
                return;
            }
            if (failure != null) {
                log.debug("catching up a channel: history unavailable ({}); retrying", failure.toString());
                later(() -> {
                    synchronized (this) {
                        if (!gone && held != null) {
                            readHole();
                        }
                    }
                });
                return;
            }
            Position top = page.position();
            Raw first = held.isEmpty() ? null : held.get(0);
            String wanted = first != null && since == 0 && !first.epoch().equals(epoch) ? first.epoch() : epoch;
            if (top.epoch().equals(epoch) && !tentative && (top.offset() < last || replaced(page))) {
                lostWrites(epoch, last);
                resetEpoch();
                return;
            }
            if (!top.epoch().equals(wanted)) {
                gap(top.epoch(), 0, "epoch_changed"); // the channel started over: its new history is all there is
                if (top.offset() > 0) {
                    readHole();
                    return;
                }
            } else if (!top.epoch().equals(epoch)) {
                gap(top.epoch(), 0, "epoch_changed");
            }
            if (!coversLast(page)) {
                gap(top.epoch(), top.offset(), "history_trimmed");
            } else {
                int caught = 0;
                for (HistoryPage.Entry entry : page.publications()) {
                    if (entry.offset() <= last) {
                        continue;
                    }
                    if (entry.offset() != last + 1) {
                        gap(top.epoch(), entry.offset() - 1, "history_trimmed");
                    }
                    epoch = top.epoch();
                    last = entry.offset();
                    tentative = false;
                    lastPublishedAt = entry.publishedAt() == 0 ? Long.MIN_VALUE : entry.publishedAt();
                    pass(new Raw(entry.offset(), top.epoch(), entry.publishedAt(), entry.dataJson()));
                    caught++;
                }
                metrics.caughtUp(caught);
                if (last < top.offset() && page.publications().size() >= PAGE) {
                    readHole(); // more pages
                    return;
                }
                if (last < top.offset()) {
                    gap(top.epoch(), top.offset(), "history_trimmed"); // the channel keeps no history (size 0)
                }
            }
            List<Raw> waiting = held;
            held = null;
            if (overflowed) {
                overflowed = false;
                Raw newest = waiting.isEmpty() ? null : waiting.get(waiting.size() - 1);
                if (newest != null) {
                    gap(newest.epoch(), newest.offset() - 1, "history_trimmed");
                }
            }
            release(waiting, 0);
        }

        /**
         * Whether the page holds everything after the last delivered offset. The read may have asked
         * from one before it (to check the entry at the last offset), so the page's own
         * {@code complete}, which answers for the asked offset, is too strict: a channel without
         * history, or whose entry at the last offset was trimmed, may still have missed nothing.
         */
        private boolean coversLast(HistoryPage page) {
            if (page.complete() || page.position().offset() <= last) {
                return true;
            }
            List<HistoryPage.Entry> entries = page.publications();
            return !entries.isEmpty() && entries.get(0).offset() <= last + 1;
        }

        /** True when the history holds another publication at the last delivered offset than the one delivered. */
        private boolean replaced(HistoryPage page) {
            if (lastPublishedAt == Long.MIN_VALUE) {
                return false;
            }
            for (HistoryPage.Entry entry : page.publications()) {
                if (entry.offset() == last) {
                    return entry.publishedAt() != 0 && entry.publishedAt() != lastPublishedAt;
                }
            }
            return false;
        }

        /** Goes on with held publications after a hole is filled, until one opens another. */
        private void release(List<Raw> waiting, int from) {
            for (int i = from; i < waiting.size(); i++) {
                Raw raw = waiting.get(i);
                if (raw.epoch().equals(abandoned)) {
                    continue;
                }
                if (held != null) {
                    held.add(raw);
                    continue;
                }
                if (last >= 0 && raw.epoch().equals(epoch) && raw.offset() <= last) {
                    if (tentative) {
                        pass(raw);
                    }
                    continue; // delivered from the history already
                }
                accept(raw);
            }
        }

        /** Offsets were reused: move the channel to a new epoch (once, whoever notices first) and tell the subscribers. */
        private void resetEpoch() {
            String old = epoch;
            metrics.epochReset();
            reader.resetEpoch(channel, old).whenComplete((position, failure) -> {
                synchronized (this) {
                    if (gone) {
                        return;
                    }
                    if (failure != null) {
                        log.debug("starting a new epoch failed ({}); retrying", failure.toString());
                        later(() -> {
                            synchronized (this) {
                                if (!gone && held != null && old.equals(epoch)) {
                                    resetEpoch();
                                }
                            }
                        });
                        return;
                    }
                    abandoned = old;
                    gap(position.epoch(), 0, "offsets_reused");
                    if (position.offset() > 0) {
                        readHole(); // others published in the new epoch already
                        return;
                    }
                    List<Raw> waiting = held;
                    held = null;
                    release(waiting, 0);
                }
            });
        }
    }
}
