package dev.portcullis.gateway.channel;

import java.util.Arrays;
import java.util.Queue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerFieldUpdater;
import java.util.concurrent.atomic.AtomicReferenceFieldUpdater;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which connection is subscribed to which channel, sharded by event loop, and the fan-out.
 *
 * <p>Each channel keeps one shard per event loop that has subscribers on it. A shard's member array
 * is only read and written on its own loop, so fan-out needs no locks: a publication is queued on
 * each shard, and the shard's drain task (on its loop) writes the shared frame to every member and
 * flushes it. A channel with 10,000 subscribers on 2 loops costs 2 task hand-offs per
 * publication.
 *
 * <p>Flushes are coalesced: a drain takes every publication queued by then (at most
 * {@link #MAX_BATCH}) before it flushes, so when publications arrive faster than a loop writes them
 * out, each member gets one write system call for several publications instead of one each. The
 * system call is most of a delivery's cost (see BENCHMARKS.md), so the busier the loop, the cheaper
 * each delivery; at low rates nothing waits, a drain starts as soon as its first publication is
 * queued.
 *
 * <p>Ordering: a shard's queue is drained in order, by one drain at a time on the shard's loop, so
 * publications of a channel that are {@link #publish published} in offset order (the broker's
 * contract) reach each subscriber in offset order. A subscriber added while a publication is queued
 * may or may not receive that publication; never a later one without an earlier one.
 *
 * <p>Threading: {@link #subscribe} and {@link #unsubscribe} must run on the subscriber's executor;
 * {@link #publish} may run anywhere. Channels with no subscribers are removed, so memory follows
 * the live subscriptions.
 */
public final class SubscriptionIndex {
    private static final Logger log = LoggerFactory.getLogger(SubscriptionIndex.class);
    /**
     * Told when a channel gets its first local subscriber and when it loses its last, so a clustered
     * broker subscribes upstream only to channels somebody here listens to. Calls come from any
     * thread, outside the index's locks, and may arrive out of order: a listener re-reads
     * {@link #subscribers(String)} rather than trusting the sequence.
     */
    public interface ChannelListener {
        void channelChanged(String channel);
    }

    private final ConcurrentHashMap<String, Channel> channels = new ConcurrentHashMap<>();
    private volatile ChannelListener listener = channel -> {};
    private final AtomicInteger subscriptions = new AtomicInteger();

    /** Structure changes happen inside {@code channels.compute}, which serialises them per channel. */
    private static final class Channel {
        volatile Shard[] shards = new Shard[0];
        int members;
    }

    /** Publications one drain writes at most before it flushes, so one busy channel cannot starve a loop. */
    static final int MAX_BATCH = 64;

    private static final class Shard implements Runnable {
        private static final Subscriber[] EMPTY = new Subscriber[0];
        final Executor executor;
        /** Copy-on-write, touched only on {@code executor}. */
        Subscriber[] members = EMPTY;
        /** Read by publishers on other threads to skip empty shards. */
        volatile int size;
        /**
         * Publications waiting for the drain, each retained once for this shard; created by the first
         * publication. Most shards never get one (a connection's personal channel), and an empty
         * queue costs 48 bytes: per connection, for its whole life.
         */
        volatile Queue<Publication> pending;
        /** 1 from the moment a drain is handed to the executor until it has looked at the queue for the last time. */
        volatile int scheduled;
        // A field updater rather than an AtomicInteger: there is a shard per channel and loop, and
        // every connection's personal channel has one.
        private static final AtomicIntegerFieldUpdater<Shard> SCHEDULED = AtomicIntegerFieldUpdater.newUpdater(Shard.class, "scheduled");
        @SuppressWarnings("rawtypes")
        private static final AtomicReferenceFieldUpdater<Shard, Queue> PENDING =
                AtomicReferenceFieldUpdater.newUpdater(Shard.class, Queue.class, "pending");

        Shard(Executor executor) {
            this.executor = executor;
        }

        void enqueue(Publication publication) {
            queue().add(publication);
            schedule();
        }

        /** The pending queue, created by whichever publisher comes first. */
        @SuppressWarnings("unchecked")
        private Queue<Publication> queue() {
            Queue<Publication> queue = pending;
            if (queue == null) {
                PENDING.compareAndSet(this, null, new ConcurrentLinkedQueue<Publication>());
                queue = pending;
            }
            return queue;
        }

        private void schedule() {
            while (SCHEDULED.compareAndSet(this, 0, 1)) {
                try {
                    executor.execute(this);
                    return;
                } catch (RejectedExecutionException shutDown) {
                    // The loop is gone, and its connections with it: drop what waits for them, and
                    // stay schedulable so that later publications are dropped (released) too.
                    for (Publication left; (left = queue().poll()) != null; ) {
                        left.release();
                    }
                    scheduled = 0;
                    if (queue().isEmpty()) {
                        return; // else one was queued while the flag was set: go round again
                    }
                }
            }
        }

        /**
         * The drain: takes what is queued (up to a batch), then, member by member, writes all of it and
         * flushes. One pass over the members, because with thousands of them their state does not
         * stay in the CPU caches between two passes.
         */
        @Override
        public void run() {
            Subscriber[] snapshot = members; // a delivery may unsubscribe (slow consumer): iterate the snapshot
            Queue<Publication> pending = queue(); // a drain is scheduled only after an enqueue: it exists
            Publication[] batch = new Publication[MAX_BATCH];
            int taken = 0;
            Publication publication;
            while (taken < MAX_BATCH && (publication = pending.poll()) != null) {
                batch[taken++] = publication;
            }
            try {
                for (Subscriber member : snapshot) {
                    try {
                        for (int i = 0; i < taken; i++) {
                            member.deliver(batch[i]);
                        }
                    } catch (RuntimeException e) {
                        log.warn("delivery to a subscriber failed; the others still get it", e); // a bug, not a client's doing
                    } finally {
                        member.flush();
                    }
                }
            } finally {
                for (int i = 0; i < taken; i++) {
                    batch[i].release();
                }
                scheduled = 0;
                // A publication queued after the last poll but before the flag was cleared saw the
                // flag set and did not schedule: look again.
                if (!pending.isEmpty()) {
                    schedule();
                }
            }
        }
    }

    /** @return false when {@code subscriber} was already subscribed */
    public boolean subscribe(String channel, Subscriber subscriber) {
        boolean[] added = {false};
        boolean[] created = {false};
        channels.compute(channel, (name, entry) -> {
            Channel c = entry == null ? new Channel() : entry;
            created[0] = entry == null;
            Shard shard = shardOf(c, subscriber.executor());
            if (indexOf(shard.members, subscriber) < 0) {
                Subscriber[] grown = Arrays.copyOf(shard.members, shard.members.length + 1);
                grown[grown.length - 1] = subscriber;
                shard.members = grown;
                shard.size = grown.length;
                c.members++;
                added[0] = true;
            }
            return c;
        });
        if (added[0]) {
            subscriptions.incrementAndGet();
        }
        if (created[0]) {
            listener.channelChanged(channel);
        }
        return added[0];
    }

    /** @return false when {@code subscriber} was not subscribed */
    public boolean unsubscribe(String channel, Subscriber subscriber) {
        boolean[] removed = {false};
        boolean[] emptied = {false};
        channels.computeIfPresent(channel, (name, c) -> {
            for (Shard shard : c.shards) {
                int i = shard.executor == subscriber.executor() ? indexOf(shard.members, subscriber) : -1;
                if (i >= 0) {
                    Subscriber[] shrunk = new Subscriber[shard.members.length - 1];
                    System.arraycopy(shard.members, 0, shrunk, 0, i);
                    System.arraycopy(shard.members, i + 1, shrunk, i, shrunk.length - i);
                    shard.members = shrunk;
                    shard.size = shrunk.length;
                    c.members--;
                    removed[0] = true;
                }
            }
            emptied[0] = c.members == 0;
            return emptied[0] ? null : c;
        });
        if (removed[0]) {
            subscriptions.decrementAndGet();
        }
        if (emptied[0]) {
            listener.channelChanged(channel);
        }
        return removed[0];
    }

    /**
     * Fans {@code publication} out to the channel's subscribers. The caller keeps its own reference
     * and releases it afterwards. Returns the number of subscribers it was handed to.
     */
    public int publish(Publication publication) {
        Channel c = channels.get(publication.channel());
        if (c == null) {
            return 0;
        }
        int handed = 0;
        for (Shard shard : c.shards) {
            int size = shard.size;
            if (size == 0) {
                continue;
            }
            handed += size;
            publication.retain();
            shard.enqueue(publication);
        }
        return handed;
    }

    public void listener(ChannelListener listener) {
        this.listener = listener;
    }

    public int channels() {
        return channels.size();
    }

    /** The channels with local subscribers now (a weakly consistent snapshot). */
    public java.util.Set<String> channelNames() {
        return java.util.Set.copyOf(channels.keySet());
    }

    public int subscriptions() {
        return subscriptions.get();
    }

    /** Subscribers of {@code channel} on every shard (approximate while it changes). */
    public int subscribers(String channel) {
        Channel c = channels.get(channel);
        if (c == null) {
            return 0;
        }
        int n = 0;
        for (Shard shard : c.shards) {
            n += shard.size;
        }
        return n;
    }

    private static Shard shardOf(Channel c, Executor executor) {
        for (Shard shard : c.shards) {
            if (shard.executor == executor) {
                return shard;
            }
        }
        Shard shard = new Shard(executor);
        Shard[] grown = Arrays.copyOf(c.shards, c.shards.length + 1);
        grown[grown.length - 1] = shard;
        c.shards = grown;
        return shard;
    }

    private static int indexOf(Subscriber[] members, Subscriber subscriber) {
        for (int i = 0; i < members.length; i++) {
            if (members[i] == subscriber) {
                return i;
            }
        }
        return -1;
    }
}
