package dev.portcullis.gateway.channel;

import java.util.concurrent.Executor;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Which connection is subscribed to which channel, sharded by event loop, and the fan-out.
 *
 * <p>Each channel keeps one shard per event loop that has subscribers on it. A shard's member array
 * is only read and written on its own loop, so fan-out needs no locks: a publication becomes one
 * task per shard, and each task writes the shared frame to every member of its shard, then flushes
 * them. A channel with 10,000 subscribers on 2 loops costs 2 task hand-offs per publication.
 *
 * <p>Ordering: tasks for one executor run in submission order, so publications of a channel that
 * are {@link #publish published} in offset order (the broker's contract) reach each subscriber in
 * offset order. A subscriber added while a publication's task is queued may or may not receive
 * that publication; never a later one without an earlier one.
 *
 * <p>Threading: {@link #subscribe} and {@link #unsubscribe} must run on the subscriber's executor;
 * {@link #publish} may run anywhere. Channels with no subscribers are removed, so memory follows
 * the live subscriptions.
 */
public final class SubscriptionIndex {
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

    private static final class Shard {
        private static final Subscriber[] EMPTY = new Subscriber[0];
        final Executor executor;
        /** Copy-on-write, touched only on {@code executor}. */
        Subscriber[] members = EMPTY;
        /** Read by publishers on other threads to skip empty shards. */
        volatile int size;

        Shard(Executor executor) {
            this.executor = executor;
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
            shard.executor.execute(() -> deliver(shard, publication));
        }
        return handed;
    }

    private static void deliver(Shard shard, Publication publication) {
        try {
            Subscriber[] members = shard.members; // a delivery may unsubscribe (slow consumer): iterate the snapshot
            for (Subscriber member : members) {
                member.deliver(publication);
            }
            for (Subscriber member : members) {
                member.flush();
            }
        } finally {
            publication.release();
        }
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
