package dev.portcullis.gateway.history;

import dev.portcullis.gateway.config.HistoryConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Offsets, epochs and bounded history of every channel, in memory (the embedded default).
 *
 * <p>Bounds: each channel keeps at most its rule's {@code size} publications, none older than its
 * {@code ttl}; all channels together keep at most {@code history.memory-bytes} of data (counted as
 * UTF-8 bytes plus a fixed {@value #ENTRY_OVERHEAD} bytes per entry) and about
 * {@code history.max-channels} channels. Over a bound, channels not published to lately are dropped
 * whole; a dropped channel starts again with a new epoch, so a client recovering from it is told
 * {@code recovered: false} rather than given a gap.
 *
 * <p>Eviction is off the publish path: a publish that finds the history above 15/16 of a bound asks
 * the {@code evictor} (a background thread) to drop channels until the history is back under 7/8 of
 * it, and returns; one eviction runs at a time. Which channels go is decided by a clock sweep, an
 * approximation of least-recently-used that costs O(1) per dropped channel and nothing on the publish
 * path but setting a flag: the evictor's hand moves over the table, sparing (and unmarking) a channel
 * published to since the hand last passed it, dropping one that was not. The byte budget holds even when
 * the evictor falls behind: a publish that finds the total over the budget trims the oldest entries
 * of its own channel (from the front, never a gap). The channel count may pass its bound by what is
 * created while an eviction is on its way.
 *
 * <p>Locking: there is no table-wide lock. {@link #append} holds only its channel's monitor, for as
 * long as it takes to take the offset, store the entry and queue the publication's hand-off (see
 * {@link ChannelLog}); the {@link Delivery} prepares (encodes) it outside the monitor, and the
 * channel's ordered hand-off passes it to delivery in offset order. Eviction and the idle sweep take
 * one channel's monitor at a time and never drop a channel whose publications are still being handed
 * off, so a channel's next epoch never overtakes its last one.
 */
public final class MemoryHistory implements History {
    /** Object headers, the array and the deque slot of one entry, roughly. */
    static final int ENTRY_OVERHEAD = 64;
    /** A channel's state without entries, roughly. */
    static final int CHANNEL_OVERHEAD = 160;

    private final HistoryConfig config;
    private final LongSupplier clockMillis;
    private final Delivery delivery;
    private final Executor evictor;
    private final ConcurrentHashMap<String, ChannelLog> channels = new ConcurrentHashMap<>(1024);
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicBoolean evicting = new AtomicBoolean();
    /** The clock hand: where the last eviction stopped. Used by one eviction at a time ({@link #evicting}). */
    private Iterator<ChannelLog> hand;
    private final long highBytes;
    private final long lowBytes;
    private final int highChannels;
    private final int lowChannels;
    /** Set once by {@link #seal}: appends throw from then on, so a snapshot misses nothing acknowledged. */
    private volatile boolean sealed;

    /** A history that delivers nothing and evicts on the publisher's thread (tests). */
    public MemoryHistory(HistoryConfig config, LongSupplier clockMillis) {
        this(config, clockMillis, Delivery.NONE, Runnable::run);
    }

    /**
     * @param delivery what each publication is handed to, in offset order per channel
     * @param evictor where evictions run; a thread other than the event loops
     */
    public MemoryHistory(HistoryConfig config, LongSupplier clockMillis, Delivery delivery, Executor evictor) {
        this.config = config;
        this.clockMillis = clockMillis;
        this.delivery = delivery;
        this.evictor = evictor;
        this.highBytes = config.memoryBytes() - config.memoryBytes() / 16;
        this.lowBytes = config.memoryBytes() - config.memoryBytes() / 8;
        this.highChannels = config.maxChannels() - config.maxChannels() / 16;
        this.lowChannels = config.maxChannels() - config.maxChannels() / 8;
    }

    /**
     * Gives the next offset of {@code channel}, keeps the publication if the channel has history, and
     * hands it to the {@link Delivery} (in offset order with the channel's other publications; possibly
     * after this returns, when an earlier one is still being prepared on another thread).
     *
     * @throws IllegalStateException once the history is {@link #seal sealed}
     */
    public Position append(String channel, String dataJson) {
        byte[] data = dataJson.getBytes(StandardCharsets.UTF_8);
        while (true) {
            ChannelLog log = logFor(channel);
            Position position;
            ChannelLog.Slot slot;
            long now = clockMillis.getAsLong();
            synchronized (log) {
                if (log.dropped) {
                    continue; // evicted between lookup and lock: take the fresh one
                }
                if (sealed) {
                    throw new IllegalStateException("the history is closed");
                }
                slot = log.nextSlot();
                position = new Position(slot.offset, log.epoch);
                log.lastUsedMillis = now;
                log.referenced = true;
                if (log.rule.size() > 0) {
                    ChannelLog.Entry entry = new ChannelLog.Entry(slot.offset, now, data);
                    log.entries.addLast(entry);
                    bytes.addAndGet(entry.bytes());
                    trim(log, now);
                }
            }
            Runnable work;
            try {
                work = delivery.prepare(channel, position, dataJson);
            } catch (RuntimeException | Error e) {
                log.skip(slot); // later publications of the channel must not wait for this one
                throw e;
            }
            log.handOff(slot, work);
            keepBudget(log);
            return position;
        }
    }

    @Override
    public CompletableFuture<HistoryPage> read(String channel, long since, int limit) {
        while (true) {
            ChannelLog log = logFor(channel);
            synchronized (log) {
                if (log.dropped) {
                    continue;
                }
                trim(log, clockMillis.getAsLong());
                Position position = new Position(log.last, log.epoch);
                long first = log.entries.isEmpty() ? log.last + 1 : log.entries.peekFirst().offset();
                boolean complete = since >= log.last || first <= since + 1;
                List<HistoryPage.Entry> page = new ArrayList<>();
                for (ChannelLog.Entry entry : log.entries) {
                    if (entry.offset() > since && page.size() < limit) {
                        page.add(new HistoryPage.Entry(entry.offset(), new String(entry.data(), StandardCharsets.UTF_8)));
                    }
                }
                return CompletableFuture.completedFuture(new HistoryPage(position, complete, page));
            }
        }
    }

    /** Bytes held by stored publications and channel states, as counted against the budget. */
    public long bytes() {
        return bytes.get();
    }

    public int channels() {
        return channels.size();
    }

    /**
     * Drops channels whose history has expired and that were not used for {@code idleMillis}, unless
     * {@code keep} says otherwise (channels with live subscribers keep their offsets). Run periodically,
     * off the event loops.
     */
    public void sweep(long idleMillis, Predicate<String> keep) {
        long now = clockMillis.getAsLong();
        for (ChannelLog log : channels.values()) {
            boolean idle;
            synchronized (log) {
                trim(log, now);
                idle = log.entries.isEmpty() && now - log.lastUsedMillis > idleMillis;
            }
            if (idle && !keep.test(log.name)) {
                drop(log);
            }
        }
    }

    /**
     * Stops the history: every later {@link #append} throws. Returns what a snapshot keeps of every
     * channel, most recently used first, consistent with the publications acknowledged before: an
     * append either finished before its channel was copied, or fails.
     */
    List<HistorySnapshot.Channel> seal() {
        sealed = true;
        long now = clockMillis.getAsLong();
        record Copy(long lastUsedMillis, HistorySnapshot.Channel channel) {}
        List<Copy> copies = new ArrayList<>();
        for (ChannelLog log : channels.values()) {
            synchronized (log) {
                if (!log.dropped) {
                    trim(log, now);
                    copies.add(new Copy(log.lastUsedMillis,
                            new HistorySnapshot.Channel(log.name, log.epoch, log.last, List.copyOf(log.entries))));
                }
            }
        }
        copies.sort(Comparator.comparingLong(Copy::lastUsedMillis).reversed());
        return copies.stream().map(Copy::channel).toList();
    }

    /**
     * Takes channels from a snapshot, most recently used first, within today's bounds: each channel's
     * rule as configured now (size and age: expired entries are not restored), and the budgets, whole
     * (what does not fit starts again with a new epoch; the evictor takes the history down to its
     * low-water mark at the first publish, as it would have without the restart). Call
     * {@link Restore#commit} before the first append.
     */
    Restore restore() {
        return new Restore();
    }

    /** Collects a snapshot's channels as they are read, and installs them once the whole file proved sound. */
    final class Restore {
        private final List<ChannelLog> accepted = new ArrayList<>();
        private final long now = clockMillis.getAsLong();
        private long restoredBytes;

        private Restore() {}

        /** Keeps {@code channel} if it fits; entries that expired or are beyond its rule's size are left out. */
        void offer(HistorySnapshot.Channel channel) {
            if (accepted.size() >= config.maxChannels()) {
                return;
            }
            long overhead = overhead(channel.name());
            if (restoredBytes + overhead > config.memoryBytes()) {
                return;
            }
            ChannelLog log = new ChannelLog(channel.name(), channel.epoch(), config.ruleFor(channel.name()), channel.last());
            long cutoff = now - log.rule.ttl().toMillis();
            List<ChannelLog.Entry> entries = channel.entries();
            long taken = overhead;
            int from = entries.size();
            while (from > 0 && entries.size() - from < log.rule.size() && entries.get(from - 1).atMillis() >= cutoff
                    && restoredBytes + taken + entries.get(from - 1).bytes() <= config.memoryBytes()) {
                from--;
                taken += entries.get(from).bytes();
            }
            log.entries.addAll(entries.subList(from, entries.size()));
            log.lastUsedMillis = now;
            restoredBytes += taken;
            accepted.add(log);
        }

        /** @return the channels restored */
        int commit() {
            for (ChannelLog log : accepted) {
                if (channels.putIfAbsent(log.name, log) == null) {
                    bytes.addAndGet(overhead(log.name));
                    log.entries.forEach(entry -> bytes.addAndGet(entry.bytes()));
                }
            }
            return accepted.size();
        }
    }

    private ChannelLog logFor(String channel) {
        ChannelLog log = channels.get(channel);
        if (log != null) {
            return log;
        }
        boolean[] created = {false};
        log = channels.computeIfAbsent(channel, name -> {
            ChannelLog fresh = new ChannelLog(name, Epochs.next(), config.ruleFor(name), 0);
            fresh.lastUsedMillis = clockMillis.getAsLong(); // not yet shared: no monitor needed
            fresh.referenced = true;
            bytes.addAndGet(overhead(name));
            created[0] = true;
            return fresh;
        });
        if (created[0] && channels.size() > highChannels) {
            requestEviction();
        }
        return log;
    }

    /** After a publish: asks for an eviction above the high-water mark, and keeps the byte budget at once. */
    private void keepBudget(ChannelLog log) {
        long total = bytes.get();
        if (total <= highBytes) {
            return;
        }
        requestEviction();
        if (total > config.memoryBytes()) {
            synchronized (log) {
                while (bytes.get() > config.memoryBytes() && !log.entries.isEmpty()) {
                    bytes.addAndGet(-log.entries.removeFirst().bytes());
                }
            }
        }
    }

    private void requestEviction() {
        if (!evicting.compareAndSet(false, true)) {
            return; // one is on its way; a later publish asks again if it was not enough
        }
        try {
            evictor.execute(this::evict);
        } catch (RejectedExecutionException shutDown) {
            evict(); // the evictor is gone (shutting down): the bounds still hold
        }
    }

    /**
     * The evictor's task: the clock hand moves on from where it stopped until both low-water marks
     * hold, or it has gone round twice (what is left is in use or still handing off: a later publish
     * asks again).
     */
    private void evict() {
        try {
            int rounds = 0;
            while (bytes.get() > lowBytes || channels.size() > lowChannels) {
                if (hand == null || !hand.hasNext()) {
                    if (++rounds > 2) {
                        break;
                    }
                    hand = channels.values().iterator();
                    continue;
                }
                ChannelLog log = hand.next();
                synchronized (log) {
                    if (log.referenced) {
                        log.referenced = false; // a second chance
                    } else {
                        dropLocked(log);
                    }
                }
            }
        } finally {
            evicting.set(false);
        }
    }

    /** Drops {@code log} unless it is gone already or still handing publications off. */
    private void drop(ChannelLog log) {
        synchronized (log) {
            dropLocked(log);
        }
    }

    /** {@link #drop}, under the channel's monitor. */
    private void dropLocked(ChannelLog log) {
        if (log.dropped || log.inFlight()) {
            return;
        }
        log.dropped = true;
        for (ChannelLog.Entry entry : log.entries) {
            bytes.addAndGet(-entry.bytes());
        }
        log.entries.clear();
        // Inside the monitor, so that a publisher that finds it dropped finds the table without it.
        if (channels.remove(log.name, log)) {
            bytes.addAndGet(-overhead(log.name));
        }
    }

    /** The rule's size and age bounds of one channel; under its monitor. */
    private void trim(ChannelLog log, long now) {
        long cutoff = now - log.rule.ttl().toMillis();
        while (!log.entries.isEmpty() && (log.entries.size() > log.rule.size() || log.entries.peekFirst().atMillis() < cutoff)) {
            bytes.addAndGet(-log.entries.removeFirst().bytes());
        }
    }

    private static long overhead(String channel) {
        return CHANNEL_OVERHEAD + 2L * channel.length();
    }
}
