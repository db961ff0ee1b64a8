package dev.portcullis.gateway.history;

import dev.portcullis.gateway.config.HistoryConfig;
import java.util.ArrayDeque;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One channel of a {@link MemoryHistory}: its epoch, its last offset, its stored publications, and
 * the ordered hand-off of its publications to delivery.
 *
 * <p>Locking: the fields marked "monitor" are read and written only while holding this object's
 * monitor. The monitor is held for as long as it takes to take an offset, store the entry and
 * queue a {@link Slot} for it (so queue order is offset order), and never while encoding or
 * delivering.
 *
 * <p>Ordered hand-off: each publisher fills its own slot outside the monitor (encoding in
 * parallel), then tries to become the channel's single drainer; the drainer runs filled slots from
 * the head of the queue, in offset order, until it reaches an empty one or the end. A slot filled
 * while another thread drains is run by that thread: the drainer looks at the head again after it
 * let go of the drainer flag, and a publisher that finds the flag taken has filled its slot before
 * it looked (both through volatile accesses), so no filled slot is left behind and no two
 * deliveries of one channel run at once. The hand-off queue holds only publications that have an
 * offset and are still being encoded or waiting for an earlier one: at most a few per concurrent
 * publisher.
 */
final class ChannelLog {
    private static final Logger log = LoggerFactory.getLogger(ChannelLog.class);
    private static final AtomicIntegerFieldUpdater<ChannelLog> DRAINING = AtomicIntegerFieldUpdater.newUpdater(ChannelLog.class, "draining");
    private static final Runnable NOTHING = () -> {};

    /** One stored publication; {@code data} is the UTF-8 JSON text and is never modified. */
    record Entry(long offset, long atMillis, byte[] data) {
        long bytes() {
            return data.length + MemoryHistory.ENTRY_OVERHEAD;
        }
    }

    /** A publication waiting for its hand-off; {@code work} is set once, by its publisher. */
    static final class Slot {
        final long offset;
        volatile Runnable work;

        Slot(long offset) {
            this.offset = offset;
        }
    }

    final String name;
    final String epoch;
    final HistoryConfig.Rule rule;
    /** Monitor. Oldest first; offsets consecutive, the last one is {@link #last} when not empty. */
    final ArrayDeque<Entry> entries = new ArrayDeque<>();
    /** Monitor. The channel's latest offset. */
    long last;
    /** Monitor. Set once when the channel is evicted or swept; a publisher holding it takes a fresh one. */
    boolean dropped;
    /** Monitor. When it was last published to (or created): for the idle sweep and the snapshot's order. */
    long lastUsedMillis;
    /** Monitor. Published to since the evictor's clock hand last passed: spared once (a second chance). */
    boolean referenced;
    /** The offset of the latest publication handed to delivery; written by the drainer only. */
    private volatile long delivered;
    private volatile int draining;
    private final Queue<Slot> handoffs = new ConcurrentLinkedQueue<>();

    ChannelLog(String name, String epoch, HistoryConfig.Rule rule, long last) {
        this.name = name;
        this.epoch = epoch;
        this.rule = rule;
        this.last = last;
        this.delivered = last;
    }

    /** Monitor. Takes the next offset and queues its slot; the caller fills the slot and calls {@link #drain}. */
    Slot nextSlot() {
        Slot slot = new Slot(++last);
        handoffs.add(slot);
        return slot;
    }

    /**
     * Monitor. True while a publication has its offset but has not been handed to delivery yet: such
     * a channel is not dropped, so that a new epoch of it can never be delivered before the end of the
     * old one.
     */
    boolean inFlight() {
        return delivered != last;
    }

    /** Fills {@code slot} (once) and hands off what is ready; see the class comment. */
    void handOff(Slot slot, Runnable work) {
        slot.work = work;
        drain();
    }

    /** Marks {@code slot} as delivering nothing (its publication could not be prepared) and moves on. */
    void skip(Slot slot) {
        handOff(slot, NOTHING);
    }

    private void drain() {
        while (DRAINING.compareAndSet(this, 0, 1)) {
            try {
                Slot head;
                while ((head = handoffs.peek()) != null && head.work != null) {
                    handoffs.poll();
                    try {
                        head.work.run();
                    } catch (RuntimeException e) {
                        log.warn("handing a publication to delivery failed; the channel's later ones still go", e); // a bug
                    }
                    delivered = head.offset;
                }
            } finally {
                draining = 0;
            }
            Slot head = handoffs.peek();
            if (head == null || head.work == null) {
                return; // nothing ready: the filler of the head slot drains next
            }
        }
    }
}
