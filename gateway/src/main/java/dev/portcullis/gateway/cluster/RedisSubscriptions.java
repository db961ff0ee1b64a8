package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.channel.SubscriptionIndex;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps this instance's Redis (sharded) subscriptions in line with local interest: the
 * {@link SubscriptionIndex} reports a channel's first and last local subscriber, and one thread
 * batches the resulting {@code SSUBSCRIBE}/{@code SUNSUBSCRIBE} (up to {@value #BATCH} channels per
 * command, grouped by slot in a cluster, where one command may only name channels of one slot).
 * Split from {@link RedisBroker}, which publishes and delivers.
 *
 * <p><b>Why it scales to 100k channels.</b> Sharded pub/sub ({@code SSUBSCRIBE}, Redis 7) routes a
 * publication only to the shard that owns its channel's slot and from there only to the connections
 * subscribed to that channel: nothing is broadcast to every node as classic {@code PUBLISH} is in a
 * cluster. Redis keeps a subscription as one dictionary entry per (channel, connection), so 100k
 * channels cost 100k small entries spread over the shards and no per-message work for channels
 * nobody here listens to.
 *
 * <p><b>Interruptions.</b> When the pub/sub connection comes back (Redis restart, Sentinel failover)
 * or Redis drops a subscription by itself (a slot moved), every affected channel is subscribed again
 * and marked interrupted; once Redis confirms it, {@link ChannelCursors#resubscribed} reads back what
 * was published meanwhile. A subscription is "confirmed" only by Redis's answer, which is what
 * {@link #awaitSubscribed} waits for.
 *
 * <p><b>Cluster failover.</b> Lettuce does not move a sharded subscription when its shard's master
 * dies and a replica takes over (lettuce issues #2356, #3213): the node connection keeps retrying
 * the dead node and the channel stays silent. So each confirmed subscription remembers the master it
 * was made on, and every {@value #RECONCILE_MILLIS} ms, when the client's topology changed, the
 * channels whose slot has another master now are subscribed again (Lettuce routes the command to the
 * slot's owner) and caught up like any interrupted subscription. While a subscription cannot be
 * confirmed, the topology is refreshed every second, so a promotion is seen within about a second of
 * the cluster making it (the bound is {@code cluster-node-timeout} + election + about 2 s).
 *
 * <p><b>Pinned channels</b> (the canaries) are wanted whatever the index says and follow the same
 * resubscription rules, without a cursor.
 *
 * <p>Threading: {@code subscribed} is touched only on the subscription thread; the other sets are
 * concurrent because Lettuce's callbacks change them. What Redis confirmed and who waits for it is
 * kept apart, in {@link SubscriptionConfirmations}.
 */
final class RedisSubscriptions {
    private static final Logger log = LoggerFactory.getLogger(RedisSubscriptions.class);
    static final int BATCH = 500;
    static final int RECONCILE_MILLIS = 500;
    /** A failed (un)subscribe is tried again after this; it already waited up to a command timeout. */
    static final int RETRY_MILLIS = 300;

    private final RedisConnection redis;
    private final SubscriptionIndex index;
    private final ChannelCursors cursors;
    private final ScheduledExecutorService thread;
    private final String prefix;
    private final boolean cluster;
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    /** Channels subscribed in Redis; touched only on {@code thread}. */
    private final Set<String> subscribed = new HashSet<>();
    /** Channels whose subscription Redis lost: their next confirmation starts a catch-up. */
    private final Set<String> interrupted = ConcurrentHashMap.newKeySet();
    /** What Redis confirmed, and who waits for it. */
    private final SubscriptionConfirmations confirmations;
    /** Channels we asked Redis to unsubscribe, so that their SUNSUBSCRIBE is not taken for a slot move. */
    private final Set<String> unsubscribing = ConcurrentHashMap.newKeySet();
    /** Channels wanted whatever the index says (canaries). */
    private final Set<String> pinned = ConcurrentHashMap.newKeySet();
    /** Cluster: the master (node id) each confirmed subscription was made on. */
    private final Map<String, String> placed = new ConcurrentHashMap<>();
    /** The shards at the last reconcile; touched only on {@code thread}. */
    private Map<String, String> lastShards = Map.of();
    private volatile long retryingSinceNanos;
    private volatile boolean closed;

    RedisSubscriptions(RedisConnection redis, SubscriptionIndex index, ChannelCursors cursors, ScheduledExecutorService thread,
            String prefix, boolean cluster, long confirmTimeoutMillis) {
        this.redis = redis;
        this.index = index;
        this.cursors = cursors;
        this.thread = thread;
        this.prefix = prefix;
        this.cluster = cluster;
        this.confirmations = new SubscriptionConfirmations(this::wanted, confirmTimeoutMillis);
        redis.addPubSubListener(new RedisPubSubAdapter<>() {
            /**
             * Redis also sends SUNSUBSCRIBE by itself when a slot moves to another shard (Lettuce
             * does not resubscribe then): a channel still wanted is subscribed again, after a
             * topology refresh so the command goes to the slot's new owner.
             */
            @Override
            public void sunsubscribed(String redisChannel, long count) {
                String name = channelOf(redisChannel);
                if (closed || name == null || unsubscribing.remove(name)) {
                    return;
                }
                lost(name);
            }
        });
        redis.onReconnect(this::resubscribeAll);
        index.listener(this::channelChanged);
        if (cluster) {
            thread.scheduleWithFixedDelay(this::reconcile, RECONCILE_MILLIS, RECONCILE_MILLIS, TimeUnit.MILLISECONDS);
        }
    }

    /** Subscribes {@code channel} (a gateway channel name) until {@link #unpin}. */
    void pin(String channel) {
        pinned.add(channel);
        channelChanged(channel);
    }

    void unpin(String channel) {
        pinned.remove(channel);
        channelChanged(channel);
    }

    /**
     * Redis no longer delivers {@code channel} here (it said so, or a canary found nobody
     * listening): subscribe it again, after a topology refresh so the command goes to the slot's
     * owner, and catch it up.
     */
    void lost(String channel) {
        if (closed) {
            return;
        }
        confirmations.withdraw(channel);
        placed.remove(channel);
        interrupted.add(channel);
        try {
            thread.execute(() -> subscribed.remove(channel));
            redis.refreshTopology();
            thread.schedule(() -> channelChanged(channel), 200, TimeUnit.MILLISECONDS);
        } catch (RejectedExecutionException closing) {
            // shutting down
        }
    }

    /**
     * Cluster: subscriptions whose slot has another master now (a failover, a slot move) are made
     * again; and while some subscription keeps failing, the topology is refreshed every second.
     * Runs on the subscription thread.
     */
    private void reconcile() {
        if (closed) {
            return;
        }
        long retrying = retryingSinceNanos;
        if (retrying != 0 && System.nanoTime() - retrying > TimeUnit.SECONDS.toNanos(1)) {
            retryingSinceNanos = System.nanoTime() | 1;
            redis.refreshTopology();
        }
        Map<String, String> shards = redis.shards();
        if (shards.equals(lastShards)) {
            return;
        }
        lastShards = shards;
        int moved = 0;
        for (Map.Entry<String, String> entry : placed.entrySet()) {
            String channel = entry.getKey();
            String master = redis.masterOf(SlotHash.getSlot(pubSubChannel(channel)));
            if (master != null && !master.equals(entry.getValue()) && placed.remove(channel, entry.getValue())) {
                moved++;
                confirmations.withdraw(channel);
                interrupted.add(channel);
                subscribed.remove(channel);
                channelChanged(channel);
            }
        }
        if (moved > 0) {
            log.info("redis: the cluster's masters changed ({}); subscribing {} channel(s) at their slots' new masters", shards, moved);
        }
    }

    /** See {@link SubscriptionConfirmations#await}. */
    CompletableFuture<Void> awaitSubscribed(String channel) {
        return confirmations.await(channel);
    }

    /** Channels a subscriber is waiting on Redis to confirm (a gauge; bounded by the channels wanted). */
    int waitingCount() {
        return confirmations.waitingCount();
    }

    private boolean wanted(String channel) {
        return pinned.contains(channel) || index.subscribers(channel) > 0;
    }

    String pubSubChannel(String channel) {
        return prefix + "{" + channel + "}";
    }

    /** The gateway channel of a Redis pub/sub channel of ours, or null. */
    String channelOf(String redisChannel) {
        if (!redisChannel.startsWith(prefix + "{") || !redisChannel.endsWith("}")) {
            return null;
        }
        return redisChannel.substring(prefix.length() + 1, redisChannel.length() - 1);
    }

    void close() {
        closed = true;
    }

    private void channelChanged(String channel) {
        if (closed) {
            return; // shutting down: Redis forgets this connection's subscriptions anyway
        }
        dirty.add(channel);
        if (flushScheduled.compareAndSet(false, true)) {
            try {
                thread.execute(this::flush);
            } catch (RejectedExecutionException closing) {
                flushScheduled.set(false);
            }
        }
    }

    /** Brings Redis subscriptions in line with the local index, in batches. Runs on the subscription thread. */
    private void flush() {
        flushScheduled.set(false);
        List<String> subscribe = new ArrayList<>();
        List<String> unsubscribe = new ArrayList<>();
        for (String channel : List.copyOf(dirty)) {
            dirty.remove(channel);
            boolean isPinned = pinned.contains(channel);
            boolean wanted = wanted(channel);
            if (wanted && subscribed.add(channel)) {
                if (!isPinned) {
                    cursors.open(channel);
                }
                subscribe.add(pubSubChannel(channel));
            } else if (!wanted) {
                confirmations.abandon(channel);
                cursors.close(channel);
                interrupted.remove(channel);
                placed.remove(channel);
                if (subscribed.remove(channel)) {
                    unsubscribing.add(channel);
                    unsubscribe.add(pubSubChannel(channel));
                }
            }
        }
        send(subscribe, true);
        send(unsubscribe, false);
    }

    /** In a cluster one SSUBSCRIBE may only name channels of one slot, so batches are formed per slot. */
    private void send(List<String> channels, boolean subscribe) {
        if (!cluster) {
            sendBatches(channels, subscribe);
            return;
        }
        Map<Integer, List<String>> bySlot = new HashMap<>();
        for (String channel : channels) {
            bySlot.computeIfAbsent(SlotHash.getSlot(channel), slot -> new ArrayList<>()).add(channel);
        }
        bySlot.values().forEach(slotChannels -> sendBatches(slotChannels, subscribe));
    }

    private void sendBatches(List<String> channels, boolean subscribe) {
        for (int from = 0; from < channels.size(); from += BATCH) {
            List<String> batch = List.copyOf(channels.subList(from, Math.min(channels.size(), from + BATCH)));
            String[] names = batch.toArray(String[]::new);
            var command = subscribe ? redis.pubSub().ssubscribe(names) : redis.pubSub().sunsubscribe(names);
            if (!subscribe) {
                batch.forEach(redisChannel -> confirmations.withdraw(channelOf(redisChannel)));
            }
            command.whenComplete((ok, failure) -> {
                if (failure != null) {
                    if (retryingSinceNanos == 0) {
                        retryingSinceNanos = System.nanoTime() | 1;
                    }
                    log.debug("{} of {} channels failed (retrying): {}", subscribe ? "ssubscribe" : "sunsubscribe", names.length,
                            failure.toString());
                    retry(batch, subscribe);
                } else if (subscribe) {
                    confirm(batch);
                }
            });
        }
    }

    private void confirm(List<String> redisChannels) {
        for (String redisChannel : redisChannels) {
            String name = channelOf(redisChannel);
            if (name != null) {
                retryingSinceNanos = 0;
                if (cluster) {
                    String master = redis.masterOf(SlotHash.getSlot(redisChannel));
                    if (master != null) {
                        placed.put(name, master);
                    }
                }
                confirmations.confirmed(name);
                cursors.resubscribed(name, interrupted.remove(name));
                confirmations.release(name);
            }
        }
    }

    /** A failed (un)subscribe: forget the assumed state and try again shortly (it goes to the slot's owner then). */
    private void retry(List<String> redisChannels, boolean subscribe) {
        if (closed) {
            return;
        }
        List<String> names = redisChannels.stream().map(this::channelOf).filter(Objects::nonNull).toList();
        thread.schedule(() -> {
            for (String name : names) {
                if (subscribe) {
                    subscribed.remove(name);
                } else {
                    subscribed.add(name);
                    unsubscribing.remove(name);
                }
                channelChanged(name);
            }
        }, RETRY_MILLIS, TimeUnit.MILLISECONDS);
    }

    /** After a reconnect: every channel with local subscribers again (Redis forgot, or the slot moved), each to be caught up. */
    private void resubscribeAll() {
        if (closed) {
            return;
        }
        confirmations.withdrawAll();
        try {
            thread.execute(() -> {
                interrupted.addAll(subscribed);
                subscribed.clear();
                dirty.addAll(index.channelNames());
                dirty.addAll(pinned);
                flush();
            });
        } catch (RejectedExecutionException closing) {
            // shutting down
        }
    }
}
