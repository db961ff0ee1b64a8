package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.cluster.ChannelCursors.Raw;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One channel's position and hole-filling state: the state machine behind the rules of
 * {@link ChannelCursors} (live, filling a hole, resetting an epoch).
 *
 * <p>Why its own class: the registry ({@link ChannelCursors}) only finds the cursor of a channel
 * and keeps what publishing checks against; everything that decides whether a publication is
 * delivered, held, dropped or turned into a {@code gap} lives here, over this one channel's state.
 * Every transition holds the same lock and may lead to any other, so the whole machine stays in
 * one file; what it needs from the rest (the history reader, paced reads, the local index, metrics,
 * the retry timer, the lost-writes warning) it takes from its owner.
 *
 * <p>Threading: callers are Lettuce threads (pub/sub messages, confirmed subscriptions), the
 * history reads' completions and the retry executor; every method that touches the state holds
 * this cursor's monitor (the private helpers are only called from those), so they see one channel
 * at a time, in order. Delivery into the {@link dev.portcullis.gateway.channel.SubscriptionIndex}
 * happens under that monitor too: it is what keeps a channel's publications in offset order.
 */
final class ChannelCursor {
    /** The registry's logger: these lines are the delivery filter's, wherever its code lives. */
    private static final Logger log = LoggerFactory.getLogger(ChannelCursors.class);
    /** Publications held per channel while its hole is read; past it they are dropped and reported as a gap. */
    static final int MAX_HELD = 10_000;
    /** History entries read per round trip while catching up. */
    static final int PAGE = 1000;

    private final ChannelCursors owner;
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

    ChannelCursor(ChannelCursors owner, String channel) {
        this.owner = owner;
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
            owner.reads.submit(() -> owner.reader.read(channel, Long.MAX_VALUE - 1, 1).whenComplete(this::started));
        } else if (afterInterruption) {
            held = new ArrayList<>();
            readHole();
        }
    }

    /** The starting position, read after the first subscription was confirmed. */
    private synchronized void started(HistoryPage page, Throwable failure) {
        owner.reads.done();
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
        owner.metrics.lag(Duration.ofMillis(owner.clock.millis() - raw.publishedAt()));
        pass(raw);
    }

    private void pass(Raw raw) {
        Publication publication = Publication.encode(owner.alloc, channel, raw.offset(), raw.epoch(), raw.data());
        try {
            owner.index.publish(publication);
        } finally {
            publication.release();
        }
    }

    /** Tells the local subscribers that publications up to (epoch, offset) cannot be recovered; live ones continue after. */
    private void gap(String newEpoch, long offset, String reason) {
        owner.metrics.gap(reason);
        epoch = newEpoch;
        last = offset;
        tentative = false;
        Publication notice = Publication.gap(owner.alloc, channel, offset, newEpoch);
        try {
            owner.index.publish(notice);
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
        owner.reads.submit(() -> owner.reader.read(channel, since, PAGE).whenComplete((page, failure) -> filled(since, page, failure)));
    }

    private synchronized void filled(long since, HistoryPage page, Throwable failure) {
        owner.reads.done();
        if (gone || held == null) {
            return;
        }
        if (failure != null) {
            log.debug("catching up a channel: history unavailable ({}); retrying", failure.toString());
            owner.later(() -> {
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
            owner.lostWrites(epoch, last);
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
            owner.metrics.caughtUp(caught);
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
        owner.metrics.epochReset();
        owner.reader.resetEpoch(channel, old).whenComplete((position, failure) -> {
            synchronized (this) {
                if (gone) {
                    return;
                }
                if (failure != null) {
                    log.debug("starting a new epoch failed ({}); retrying", failure.toString());
                    owner.later(() -> {
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
