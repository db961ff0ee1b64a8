package dev.portcullis.gateway.history;

import dev.portcullis.gateway.config.HistoryConfig;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * Offsets, epochs and bounded history of every channel, in memory (the embedded default).
 *
 * <p>Bounds: each channel keeps at most its rule's {@code size} publications, none older than its
 * {@code ttl}; all channels together keep at most {@code history.memory-bytes} of data (counted as
 * UTF-8 bytes plus a fixed {@value #ENTRY_OVERHEAD} bytes per entry) and at most
 * {@code history.max-channels} channels. Over a bound, the channels published to least recently are
 * dropped whole; a dropped channel starts again with a new epoch, so a client recovering from it is
 * told {@code recovered: false} rather than given a gap.
 *
 * <p>Locking: {@link #append} takes the table's monitor briefly (to find the channel and keep the
 * recency order), then the channel's own monitor, under which the offset is taken, the entry stored
 * and the caller's {@code then} runs: that is what makes offset order and fan-out order the same.
 * Eviction takes the table's monitor and then a channel's; {@code append} never holds a channel's
 * monitor while asking for the table's, so the two cannot deadlock.
 */
public final class MemoryHistory implements History {
    /** Object headers, the array and the deque slot of one entry, roughly. */
    static final int ENTRY_OVERHEAD = 64;
    /** A channel's state without entries, roughly. */
    static final int CHANNEL_OVERHEAD = 160;

    private final HistoryConfig config;
    private final LongSupplier clockMillis;
    private final LinkedHashMap<String, ChannelState> channels = new LinkedHashMap<>(1024, 0.75f, true);
    private final AtomicLong bytes = new AtomicLong();

    /** The caller's work for one publication, run under the channel's monitor. */
    @FunctionalInterface
    public interface Appended {
        void accept(Position position);
    }

    private static final class ChannelState {
        final String epoch = Epochs.next();
        final HistoryConfig.Rule rule;
        final ArrayDeque<Entry> entries = new ArrayDeque<>();
        long last;
        long lastUsedMillis;
        boolean dropped;

        ChannelState(HistoryConfig.Rule rule) {
            this.rule = rule;
        }
    }

    private record Entry(long offset, long atMillis, byte[] data) {
        long bytes() {
            return data.length + ENTRY_OVERHEAD;
        }
    }

    public MemoryHistory(HistoryConfig config, LongSupplier clockMillis) {
        this.config = config;
        this.clockMillis = clockMillis;
    }

    /**
     * Gives the next offset of {@code channel}, keeps the publication if the channel has history, and
     * runs {@code then} with the position while no other publication of the channel can interleave.
     */
    public Position append(String channel, String dataJson, Appended then) {
        byte[] data = dataJson.getBytes(StandardCharsets.UTF_8);
        while (true) {
            ChannelState state = stateFor(channel);
            Position position;
            synchronized (state) {
                if (state.dropped) {
                    continue; // evicted between lookup and lock: take the fresh state
                }
                long now = clockMillis.getAsLong();
                position = new Position(++state.last, state.epoch);
                state.lastUsedMillis = now;
                if (state.rule.size() > 0) {
                    Entry entry = new Entry(position.offset(), now, data);
                    state.entries.addLast(entry);
                    bytes.addAndGet(entry.bytes());
                    trim(state, now);
                }
                then.accept(position);
            }
            if (bytes.get() > config.memoryBytes()) {
                synchronized (channels) {
                    evictOverBudget(state);
                }
            }
            return position;
        }
    }

    @Override
    public CompletableFuture<HistoryPage> read(String channel, long since, int limit) {
        ChannelState state = stateFor(channel);
        synchronized (state) {
            trim(state, clockMillis.getAsLong());
            Position position = new Position(state.last, state.epoch);
            long first = state.entries.isEmpty() ? state.last + 1 : state.entries.peekFirst().offset();
            boolean complete = since >= state.last || first <= since + 1;
            List<HistoryPage.Entry> page = new ArrayList<>();
            for (Entry entry : state.entries) {
                if (entry.offset() > since && page.size() < limit) {
                    page.add(new HistoryPage.Entry(entry.offset(), new String(entry.data(), StandardCharsets.UTF_8)));
                }
            }
            return CompletableFuture.completedFuture(new HistoryPage(position, complete, page));
        }
    }

    /** Bytes held by stored publications and channel states, as counted against the budget. */
    public long bytes() {
        return bytes.get();
    }

    public int channels() {
        synchronized (channels) {
            return channels.size();
        }
    }

    /**
     * Drops channels whose history has expired and that were not used for {@code idleMillis}, unless
     * {@code keep} says otherwise (channels with live subscribers keep their offsets). Run periodically.
     */
    public void sweep(long idleMillis, Predicate<String> keep) {
        long now = clockMillis.getAsLong();
        synchronized (channels) {
            for (Iterator<Map.Entry<String, ChannelState>> it = channels.entrySet().iterator(); it.hasNext(); ) {
                Map.Entry<String, ChannelState> next = it.next();
                ChannelState state = next.getValue();
                synchronized (state) {
                    trim(state, now);
                    if (state.entries.isEmpty() && now - state.lastUsedMillis > idleMillis && !keep.test(next.getKey())) {
                        drop(state);
                        it.remove();
                    }
                }
            }
        }
    }

    private ChannelState stateFor(String channel) {
        synchronized (channels) {
            ChannelState state = channels.get(channel);
            if (state == null) {
                state = new ChannelState(config.ruleFor(channel));
                state.lastUsedMillis = clockMillis.getAsLong();
                channels.put(channel, state);
                bytes.addAndGet(CHANNEL_OVERHEAD + 2L * channel.length());
                evictOverBudget(state);
            }
            return state;
        }
    }

    /**
     * Under the table's monitor: least recently used channels go until both bounds hold. If
     * {@code keep} alone is over the byte budget, its oldest entries go (from the front: never a gap).
     */
    private void evictOverBudget(ChannelState keep) {
        Iterator<Map.Entry<String, ChannelState>> eldest = channels.entrySet().iterator();
        while ((channels.size() > config.maxChannels() || bytes.get() > config.memoryBytes()) && eldest.hasNext()) {
            Map.Entry<String, ChannelState> next = eldest.next();
            if (next.getValue() == keep) {
                continue;
            }
            synchronized (next.getValue()) {
                drop(next.getValue());
            }
            bytes.addAndGet(-(CHANNEL_OVERHEAD + 2L * next.getKey().length()));
            eldest.remove();
        }
        if (keep != null && bytes.get() > config.memoryBytes()) {
            synchronized (keep) {
                while (bytes.get() > config.memoryBytes() && !keep.entries.isEmpty()) {
                    bytes.addAndGet(-keep.entries.removeFirst().bytes());
                }
            }
        }
    }

    /** The rule's size and age bounds of one channel; under its monitor. */
    private void trim(ChannelState state, long now) {
        long cutoff = now - state.rule.ttl().toMillis();
        while (!state.entries.isEmpty()
                && (state.entries.size() > state.rule.size() || state.entries.peekFirst().atMillis() < cutoff)) {
            bytes.addAndGet(-state.entries.removeFirst().bytes());
        }
    }

    private void drop(ChannelState state) {
        state.dropped = true;
        for (Entry entry : state.entries) {
            bytes.addAndGet(-entry.bytes());
        }
        state.entries.clear();
    }
}
