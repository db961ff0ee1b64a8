package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.metrics.BrokerMetrics;
import io.lettuce.core.cluster.SlotHash;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One end-to-end canary per shard: every {@code broker.canary-interval} this instance publishes to a
 * private channel whose slot lies in the shard and listens for it through its own subscription.
 * A canary not back within {@code broker.canary-timeout} marks that shard, and the broker,
 * degraded: it catches pub/sub that silently stopped delivering while commands still work, and in a
 * cluster a shard whose master died, until its subscriptions run on the promoted replica. A shard is
 * named by its slot ranges ({@code "0-5460"}, stable across a failover; {@code "all"} outside a
 * cluster), in {@code /readyz} and in {@code portcullis_broker_shard_degraded{shard}}.
 *
 * <p>Threading: {@link #tick} runs on the subscription thread; {@link #received} on Lettuce's;
 * {@link #late} anywhere.
 */
final class RedisCanaries {
    private final RedisConnection redis;
    private final RedisSubscriptions subscriptions;
    private final BrokerMetrics metrics;
    private final String instance;
    private final long allowedNanos;
    private final Duration timeout;
    private final Map<String, Canary> byShard = new ConcurrentHashMap<>();
    private final Map<String, Canary> byRedisChannel = new ConcurrentHashMap<>();

    private static final class Canary {
        final String shard;
        final String channel;
        final String redisChannel;
        volatile String master;
        volatile long sentNanos;
        volatile long receivedNanos = System.nanoTime();

        Canary(String shard, String channel, String redisChannel) {
            this.shard = shard;
            this.channel = channel;
            this.redisChannel = redisChannel;
        }
    }

    RedisCanaries(RedisConnection redis, RedisSubscriptions subscriptions, BrokerMetrics metrics, String instance,
            Duration interval, Duration timeout) {
        this.redis = redis;
        this.subscriptions = subscriptions;
        this.metrics = metrics;
        this.instance = instance;
        this.allowedNanos = interval.toNanos() + timeout.toNanos();
        this.timeout = timeout;
    }

    /** Follows the shards (a canary for each new one), then sends every canary. */
    void tick() {
        Map<String, String> shards = redis.shards();
        java.util.Set<Canary> fresh = new java.util.HashSet<>();
        for (Map.Entry<String, String> shard : shards.entrySet()) {
            byShard.computeIfAbsent(shard.getKey(), name -> {
                Canary created = create(name);
                fresh.add(created);
                return created;
            }).master = shard.getValue();
        }
        for (Canary canary : byShard.values()) {
            if (fresh.contains(canary)) {
                continue; // its subscription is on the way: the first round goes out next tick
            }
            if (!shards.containsKey(canary.shard)) { // resharded: the range is gone
                byShard.remove(canary.shard);
                byRedisChannel.remove(canary.redisChannel);
                subscriptions.unpin(canary.channel);
                metrics.shardDegraded(canary.shard, false);
                continue;
            }
            if (canary.sentNanos != 0 && canary.receivedNanos - canary.sentNanos < 0) {
                metrics.canaryFailure();
            }
            canary.sentNanos = System.nanoTime();
            redis.commands().spublish(canary.redisChannel, "canary").whenComplete((listeners, failure) -> {
                if (failure == null && listeners != null && listeners == 0) {
                    subscriptions.lost(canary.channel); // our subscription is gone (the shard's master changed)
                }
            });
        }
    }

    /** True when {@code redisChannel} is a canary's (and records it back). */
    boolean received(String redisChannel) {
        Canary canary = byRedisChannel.get(redisChannel);
        if (canary == null) {
            return false;
        }
        canary.receivedNanos = System.nanoTime();
        return true;
    }

    /**
     * The first shard whose canary is late, as a reason for {@code /readyz}; null when every one is
     * back. Judged on the last canary that came back, not the last one sent: a new canary every
     * interval must not keep resetting the clock of a subscription that stopped delivering.
     */
    String late() {
        String reason = null;
        long now = System.nanoTime();
        for (Canary canary : byShard.values()) {
            boolean late = canary.sentNanos != 0 && now - canary.receivedNanos > allowedNanos;
            metrics.shardDegraded(canary.shard, late);
            if (late && reason == null) {
                reason = (canary.shard.equals("all") ? "" : "shard " + canary.shard + " (" + canary.master + "): ")
                        + "canary not back within " + timeout;
            }
        }
        return reason;
    }

    /** A canary channel whose slot lies in the shard's first range, subscribed from now on. */
    private Canary create(String shard) {
        int low = 0;
        int high = SlotHash.SLOT_COUNT - 1;
        if (!shard.equals("all")) {
            String first = shard.split(",")[0];
            int dash = first.indexOf('-');
            low = Integer.parseInt(dash < 0 ? first : first.substring(0, dash));
            high = Integer.parseInt(dash < 0 ? first : first.substring(dash + 1));
        }
        for (int n = 0; ; n++) {
            String channel = "canary-" + instance + "-" + n;
            String redisChannel = subscriptions.pubSubChannel(channel);
            int slot = SlotHash.getSlot(redisChannel);
            if (slot >= low && slot <= high) {
                Canary canary = new Canary(shard, channel, redisChannel);
                byRedisChannel.put(redisChannel, canary);
                subscriptions.pin(channel);
                return canary;
            }
        }
    }
}
