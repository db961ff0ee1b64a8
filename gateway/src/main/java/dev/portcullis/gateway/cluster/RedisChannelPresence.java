package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.config.ChannelPatterns;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.presence.Member;
import dev.portcullis.gateway.presence.Members;
import dev.portcullis.gateway.presence.PresenceEvents;
import dev.portcullis.gateway.presence.PresenceStore;
import io.lettuce.core.ScriptOutputType;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Channel presence across the cluster (not the per-user connection registry, {@link RedisPresence}).
 *
 * <p><b>Layout.</b> Per channel and instance a hash from connection id to {@code "<sinceMillis> <user>"},
 * and per channel the set of instances with members there: all under the channel's hash tag, the tag
 * of its history and of its pub/sub channel, so each script below touches one slot in Redis Cluster.
 * Per instance, the set of channels it has members in and the set of instances with presence data,
 * used to clean up after an instance that died ({@link PresenceKeys} names them all). Whether an
 * instance is alive is its liveness key (TTL {@code broker.presence-ttl}), kept by
 * {@link RedisPresence}'s heartbeat: presence adds no second heartbeat.
 *
 * <p><b>Events.</b> {@code join} and {@code leave} go out from the same script that changes the
 * hash, with {@code SPUBLISH} on the channel's pub/sub channel (the one publications use), as
 * {@code "e <connection> <event JSON>"}: a payload no publication can have (those start with their
 * offset), which {@link RedisBroker} hands to the local subscribers as an event. One channel, so an
 * instance subscribed to a channel for its publications gets its events without a second
 * subscription. A script announces only a change it made (a {@code leave} whose entry is gone
 * announces nothing), so every member gets at most one {@code join} and one {@code leave} per stored
 * entry.
 *
 * <p><b>A dead instance.</b> A listing skips entries of instances whose liveness key is gone, so a
 * killed instance's members disappear from listings within the TTL. They are then removed, and
 * announced as leaving, by whichever surviving instance notices first ({@link PresenceReaper}): each
 * instance checks, every heartbeat, the instances with presence data, and a listing that meets a dead
 * instance removes its entries in that channel. An instance restarted under the same id removes its
 * own old entries at start-up, before it registers anything.
 *
 * <p><b>Reconciling.</b> Redis's copy of this instance's members is made equal to the local one,
 * channel by channel, by {@link PresenceReconciler}: after a reconnect, after this instance was
 * reaped, and for the channels whose write failed (see there for when and how).
 *
 * <p><b>Order.</b> Every command that writes a channel's entries (join, leave, and each step of a
 * reconcile) is queued inside {@code local.compute} for that channel, from what the local map holds
 * at that moment; commands go to Redis on one connection in the order they were queued. So per
 * channel Redis sees the changes in the order they happened here, and a reconcile cannot bring back a
 * member whose {@code leave} was queued before it, nor remove one whose {@code join} was. A reconcile
 * removes an entry only when the member is not local at the moment it queues the removal; that
 * removal is conditional, so it announces nothing if the entry is already gone.
 *
 * <p><b>Faults.</b> Commands fail fast while Redis is down; this instance's members are kept in
 * memory and reconciled when Redis comes back. A listing that cannot reach Redis answers this
 * instance's members with {@code complete: false}.
 *
 * <p>Threading: {@link #join} and {@link #leave} run on the sessions' event loops and only queue
 * commands. {@link #sweep} runs on the cluster thread; reconciling continues on Lettuce's threads as
 * replies arrive, and only queues commands too. Two reconciles of one channel at once are harmless:
 * each write and removal is conditional and announces only what it changed.
 */
final class RedisChannelPresence implements PresenceStore {
    private static final Logger log = LoggerFactory.getLogger(RedisChannelPresence.class);

    /**
     * Stores members. KEYS: the instance's hash, the channel's instance set. ARGV: instance, announce
     * (1/0), pub/sub channel, then per member its connection, value and join event. Announces each
     * member that was not stored yet; returns how many.
     */
    private static final String JOIN = """
            redis.call('SADD', KEYS[2], ARGV[1])
            local added = 0
            for i = 4, #ARGV, 3 do
              if redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) == 1 then
                added = added + 1
                if ARGV[2] == '1' then redis.call('SPUBLISH', ARGV[3], ARGV[i + 2]) end
              end
            end
            return added
            """;
    /**
     * Removes members. KEYS: the instance's hash, the channel's instance set. ARGV: instance, announce
     * (1/0), pub/sub channel, then per member its connection and leave event. Announces each entry it
     * removed; drops the instance from the channel's set once its hash is empty; returns how many.
     */
    private static final String LEAVE = """
            local removed = 0
            for i = 4, #ARGV, 2 do
              if redis.call('HDEL', KEYS[1], ARGV[i]) == 1 then
                removed = removed + 1
                if ARGV[2] == '1' then redis.call('SPUBLISH', ARGV[3], ARGV[i + 1]) end
              end
            end
            if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[1]) end
            return removed
            """;

    private final RedisScript joinScript = new RedisScript(JOIN, true);
    private final RedisScript leaveScript = new RedisScript(LEAVE, true);

    private final RedisConnection redis;
    private final Executor thread;
    private final GatewayMetrics metrics;
    private final PresenceKeys keys;
    private final String instance;
    private final ChannelPatterns announced;
    private final PresenceReaper reaper;
    private final PresenceListing listing;
    /** This instance's members: channel -> connection -> member. */
    private final Map<String, Map<String, Member>> local = new ConcurrentHashMap<>();
    private final AtomicInteger localCount = new AtomicInteger();
    private final PresenceReconciler reconciler;

    /**
     * @param thread the cluster thread: every step of a reconcile runs there, never on a Lettuce I/O
     *     thread, where a write would overtake writes other threads queued to that thread before it
     */
    RedisChannelPresence(RedisConnection redis, GatewayMetrics metrics, String prefix, String instance, ChannelPatterns announced,
            Executor thread) {
        this.redis = redis;
        this.thread = thread;
        this.metrics = metrics;
        this.keys = new PresenceKeys(prefix);
        this.instance = instance;
        this.announced = announced;
        this.reaper = new PresenceReaper(redis, metrics, keys, instance, announced);
        this.listing = new PresenceListing(redis, metrics, keys, instance, reaper,
                channel -> List.copyOf(local.getOrDefault(channel, Map.of()).values()));
        this.reconciler = new PresenceReconciler(this, local, redis, keys, instance, announced, thread);
    }

    /**
     * At start-up, before any connection: removes (and announces as leaving) what an earlier process
     * under this instance id left behind, and marks this instance as one with presence data. Blocks
     * for at most a few seconds; a failure only leaves stale entries of a dead process to expire from
     * listings like any dead instance's.
     */
    void start() {
        try {
            reaper.reap(instance).get(10, TimeUnit.SECONDS);
            redis.commands().del(keys.reaped(instance)).get(5, TimeUnit.SECONDS); // about the earlier process: nothing to rewrite
            // listed at once, so that survivors reap this instance even if it dies before its first sweep
            redis.commands().sadd(keys.withPresence(), instance).get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            log.warn("redis: could not remove channel presence left by an earlier process of this instance: {}", e.toString());
        }
    }

    @Override
    public void join(String channel, Member member, boolean announce) {
        boolean[] added = {false};
        local.compute(channel, (name, members) -> {
            Map<String, Member> map = members == null ? new ConcurrentHashMap<>() : members;
            added[0] = map.putIfAbsent(member.connection(), member) == null;
            if (members == null) {
                noted(channel, "listing a channel of this instance",
                        redis.commands().sadd(keys.channelsOf(instance), channel).toCompletableFuture());
            }
            if (added[0]) {
                store(channel, List.of(member), announce);
            }
            return map;
        });
        if (added[0]) {
            localCount.incrementAndGet();
        }
    }

    /** Queues the JOIN script for {@code members}; call inside {@code local.compute(channel)}. */
    CompletableFuture<Long> store(String channel, List<Member> members, boolean announce) {
        String[] args = new String[3 + 3 * members.size()];
        args[0] = instance;
        args[1] = announce ? "1" : "0";
        args[2] = keys.pubSub(channel);
        int i = 3;
        for (Member member : members) {
            args[i++] = member.connection();
            args[i++] = member.since().toEpochMilli() + " " + member.user();
            args[i++] = "e " + member.connection() + " " + PresenceEvents.json(PresenceEvents.JOIN, channel, member.user(), member.connection());
        }
        String[] scriptKeys = {keys.hash(channel, instance), keys.instancesOf(channel)};
        return this.<Long>noted(channel, "storing channel members",
                joinScript.run(redis.commands(), ScriptOutputType.INTEGER, scriptKeys, args));
    }

    @Override
    public void leave(String channel, Member member, boolean announce) {
        boolean[] removed = {false};
        local.computeIfPresent(channel, (name, members) -> {
            removed[0] = members.remove(member.connection()) != null;
            if (removed[0]) {
                remove(channel, Map.of(member.connection(), member.user()), announce);
            }
            if (members.isEmpty()) {
                noted(channel, "unlisting a channel of this instance",
                        redis.commands().srem(keys.channelsOf(instance), channel).toCompletableFuture());
                return null;
            }
            return members;
        });
        if (removed[0]) {
            localCount.decrementAndGet();
        }
    }

    /** Queues the LEAVE script for {@code users} (connection -> user); call inside {@code local.compute(channel)}. */
    CompletableFuture<Long> remove(String channel, Map<String, String> users, boolean announce) {
        String[] args = new String[3 + 2 * users.size()];
        args[0] = instance;
        args[1] = announce ? "1" : "0";
        args[2] = keys.pubSub(channel);
        int[] i = {3};
        users.forEach((connection, user) -> {
            args[i[0]++] = connection;
            args[i[0]++] = "e " + connection + " " + PresenceEvents.json(PresenceEvents.LEAVE, channel, user, connection);
        });
        String[] scriptKeys = {keys.hash(channel, instance), keys.instancesOf(channel)};
        return this.<Long>noted(channel, "removing channel members",
                leaveScript.run(redis.commands(), ScriptOutputType.INTEGER, scriptKeys, args));
    }

    /** A failed write leaves Redis unlike this instance: counted, and its channel reconciled at the next sweep. */
    private <T> CompletableFuture<T> noted(String channel, String what, CompletableFuture<T> write) {
        return write.whenComplete((done, failure) -> {
            if (failure != null) {
                metrics.clusterFallback();
                log.debug("redis: {} failed: {}", what, failure.toString());
                reconciler.markDirty(channel);
            }
        });
    }

    /** See {@link PresenceListing#members}. */
    @Override
    public CompletableFuture<Members> members(String channel, int max) {
        return listing.members(channel, max);
    }

    /**
     * Every heartbeat (cluster thread): reaps every instance with presence data whose liveness key
     * is gone; reconciles every channel if this instance was reaped (the marker, deleted here) or its
     * channel set is gone while it has members, else the channels whose writes failed.
     */
    void sweep() {
        redis.commands().sadd(keys.withPresence(), instance);
        redis.commands().smembers(keys.withPresence()).thenAccept(ids -> {
            for (String id : ids) {
                if (!id.equals(instance)) {
                    redis.commands().exists(keys.liveness(id)).thenAccept(alive -> {
                        if (alive == 0) {
                            reaper.reap(id);
                        }
                    });
                }
            }
        });
        redis.commands().del(keys.reaped(instance)).toCompletableFuture()
                .thenCombineAsync(localCount.get() > 0
                        ? redis.commands().exists(keys.channelsOf(instance)).toCompletableFuture()
                        : CompletableFuture.completedFuture(1L), (reaped, channelSet) -> {
                    if (reaped > 0) {
                        log.warn("redis: this instance was taken for dead and its channel members removed; writing them again");
                        reconciler.reconcileAll();
                    } else if (channelSet == 0) {
                        log.warn("redis: this instance's channel presence is gone from Redis; writing it again");
                        reconciler.reconcileAll();
                    } else {
                        reconciler.reconcileDirty();
                    }
                    return null;
                }, thread);
    }


    /** Every channel made equal to the local members ({@link PresenceReconciler#reconcileAll}); after a reconnect. Cluster thread. */
    void reconcileAll() {
        reconciler.reconcileAll();
    }

    @Override
    public int localMembers() {
        return localCount.get();
    }
}
