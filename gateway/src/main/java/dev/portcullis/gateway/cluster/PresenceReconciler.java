package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.config.ChannelPatterns;
import dev.portcullis.gateway.presence.Member;
import io.lettuce.core.MapScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes Redis's copy of this instance's channel members equal to the local one, for
 * {@link RedisChannelPresence} (the layout, events and order rules are described there), and
 * remembers which channels need it.
 *
 * <p>Why its own class: joins and leaves write one change each; reconciling is the other way round,
 * reading what Redis holds (the instance's channel set, each channel's hash, page by page) and
 * writing the difference, with its own bookkeeping of failed writes. It uses the presence's own
 * {@link RedisChannelPresence#store store} and {@link RedisChannelPresence#remove remove}, queued
 * inside {@code local.compute(channel)} like theirs, so per channel its writes stay in order with
 * the joins and leaves.
 *
 * <p><b>Reconciling.</b> Redis's copy of this instance's members is made equal to the local one,
 * channel by channel ({@link #reconcile}): members missing there are written with a {@code join} each,
 * entries of members no longer here are removed with a {@code leave} each, and a channel without local
 * members is taken out of the instance's channel set. A member that left while Redis could not be
 * written is so removed afterwards instead of staying listed until the instance dies. It runs
 * <ul>
 * <li>for every channel when the Redis connection comes back (Redis may have lost or kept anything);</li>
 * <li>for every channel at the sweep after another instance reaped this one (it was taken for dead
 *     during a pause; the reaper leaves an explicit marker, see {@link PresenceReaper}: the channel set
 *     being gone is no proof, a join after the reap creates it again), or when the channel set is
 *     gone while members are here (Redis lost data without a reconnect);</li>
 * <li>for the channels whose write failed, at the next sweep that reaches Redis: a command can fail
 *     (time out, be rejected) without any reconnect following, and a reconcile of just those channels
 *     is cheap. Past {@value #MAX_DIRTY} such channels, every channel is reconciled instead.</li>
 * </ul>
 * Not on every sweep: that would cost a command per member and channel every heartbeat.
 *
 * <p>Threading: {@link #reconcileAll}, {@link #reconcileDirty} and {@link #reconcile} run on the
 * cluster thread, and every step that writes continues there ({@code thread}) as replies arrive,
 * never on a Lettuce I/O thread, where a write would overtake writes other threads queued to that
 * thread before it.
 * {@link #markDirty} is called from any thread a failed write completes on: the set is concurrent
 * and the overflow flag volatile. Two reconciles of one channel at once are harmless: each write
 * and removal is conditional and announces only what it changed.
 */
final class PresenceReconciler {
    /** The presence's logger: these lines are channel presence's, wherever its code lives. */
    private static final Logger log = LoggerFactory.getLogger(RedisChannelPresence.class);
    /** Members written, or hash entries read and pruned, per command while reconciling. */
    private static final int BATCH = 500;
    /** Channels remembered for a reconcile after failed writes; beyond, every channel is reconciled. */
    static final int MAX_DIRTY = 10_000;

    private final RedisChannelPresence presence;
    /** The presence's members: channel -> connection -> member (its map, not a copy). */
    private final Map<String, Map<String, Member>> local;
    private final RedisConnection redis;
    private final PresenceKeys keys;
    private final String instance;
    private final ChannelPatterns announced;
    private final Executor thread;
    /** Channels whose write failed, to reconcile at the next sweep (at most {@link #MAX_DIRTY}). */
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    /** Too many channels failed to remember: reconcile every channel at the next sweep. */
    private volatile boolean allDirty;

    PresenceReconciler(RedisChannelPresence presence, Map<String, Map<String, Member>> local, RedisConnection redis,
            PresenceKeys keys, String instance, ChannelPatterns announced, Executor thread) {
        this.presence = presence;
        this.local = local;
        this.redis = redis;
        this.keys = keys;
        this.instance = instance;
        this.announced = announced;
        this.thread = thread;
    }

    /** A write of {@code channel} failed: reconcile it at the next sweep. Any thread. */
    void markDirty(String channel) {
        if (dirty.size() < MAX_DIRTY) {
            dirty.add(channel);
        } else {
            allDirty = true;
        }
    }

    /** At the sweep: every channel if too many failed to remember, else the channels whose writes failed. Cluster thread. */
    void reconcileDirty() {
        if (allDirty) {
            reconcileAll();
        } else {
            for (String channel : List.copyOf(dirty)) {
                dirty.remove(channel);
                reconcile(channel);
            }
        }
    }

    /** Every channel this instance has members in, or is listed with in Redis, made equal to the local members. Cluster thread. */
    void reconcileAll() {
        allDirty = false;
        dirty.clear();
        Set<String> here = Set.copyOf(local.keySet());
        here.forEach(this::reconcile);
        reconcileListed(here, ScanCursor.INITIAL);
    }

    /** The channels Redis lists for this instance that are not local: reconciled to no members. */
    private void reconcileListed(Set<String> done, ScanCursor cursor) {
        redis.commands().sscan(keys.channelsOf(instance), cursor, ScanArgs.Builder.limit(BATCH)).whenCompleteAsync((page, failure) -> {
            if (failure != null) {
                allDirty = true;
                log.debug("redis: reading this instance's channels failed: {}", failure.toString());
                return;
            }
            page.getValues().stream().filter(channel -> !done.contains(channel)).forEach(this::reconcile);
            if (!page.isFinished()) {
                reconcileListed(done, page);
            }
        }, thread);
    }

    /**
     * Makes Redis's entries of this instance in {@code channel} equal to the local members: stores the
     * local members in batches (a {@code join} for each that was missing), then reads the hash page by
     * page and removes the entries of members not local (a {@code leave} each), then, if the channel
     * has no local members, takes it out of the channel set. Each step is queued inside
     * {@code local.compute(channel)} from the members it holds then (see {@link RedisChannelPresence} on order).
     * A failure marks the channel for the next sweep. Cluster thread.
     */
    CompletableFuture<Void> reconcile(String channel) {
        boolean announce = announced.matches(channel);
        List<String> connections = List.copyOf(local.getOrDefault(channel, Map.of()).keySet());
        List<CompletableFuture<Long>> writes = new ArrayList<>();
        for (int from = 0; from < connections.size(); from += BATCH) {
            List<String> batch = connections.subList(from, Math.min(connections.size(), from + BATCH));
            boolean first = from == 0;
            local.computeIfPresent(channel, (name, members) -> {
                if (first) {
                    writes.add(redis.commands().sadd(keys.channelsOf(instance), channel).toCompletableFuture());
                }
                List<Member> still = batch.stream().map(members::get).filter(Objects::nonNull).toList();
                if (!still.isEmpty()) {
                    writes.add(presence.store(channel, still, announce));
                }
                return members;
            });
        }
        CompletableFuture<Void> done = CompletableFuture.allOf(writes.toArray(CompletableFuture[]::new))
                .thenCompose(stored -> prune(channel, announce, ScanCursor.INITIAL))
                .thenComposeAsync(pruned -> {
                    List<CompletableFuture<?>> last = new ArrayList<>();
                    local.compute(channel, (name, members) -> {
                        if (members == null) {
                            last.add(presence.remove(channel, Map.of(), announce)); // drops this instance from the channel's set if its hash is empty
                            last.add(redis.commands().srem(keys.channelsOf(instance), channel).toCompletableFuture());
                        }
                        return members;
                    });
                    return CompletableFuture.allOf(last.toArray(CompletableFuture[]::new));
                }, thread);
        return done.whenComplete((ok, failure) -> {
            if (failure != null) {
                log.debug("redis: reconciling a channel's members failed: {}", failure.toString());
                markDirty(channel);
            }
        });
    }

    /** One page of this instance's entries in {@code channel}: those not local now are removed; then the next page. */
    private CompletableFuture<Void> prune(String channel, boolean announce, ScanCursor cursor) {
        return redis.commands().hscan(keys.hash(channel, instance), cursor, ScanArgs.Builder.limit(BATCH)).toCompletableFuture()
                .thenComposeAsync((MapScanCursor<String, String> page) -> {
                    CompletableFuture<?>[] removal = {CompletableFuture.completedFuture(null)};
                    local.compute(channel, (name, members) -> {
                        Map<String, String> gone = new HashMap<>();
                        page.getMap().forEach((connection, value) -> {
                            if (members == null || !members.containsKey(connection)) {
                                gone.put(connection, value.substring(value.indexOf(' ') + 1));
                            }
                        });
                        if (!gone.isEmpty()) {
                            removal[0] = presence.remove(channel, gone, announce);
                        }
                        return members;
                    });
                    return removal[0].thenCompose(removed -> page.isFinished()
                            ? CompletableFuture.<Void>completedFuture(null)
                            : prune(channel, announce, page));
                }, thread);
    }
}
