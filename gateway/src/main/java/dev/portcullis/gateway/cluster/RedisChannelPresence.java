package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.presence.ChannelPatterns;
import dev.portcullis.gateway.presence.Member;
import dev.portcullis.gateway.presence.Members;
import dev.portcullis.gateway.presence.PresenceEvents;
import dev.portcullis.gateway.presence.PresenceStore;
import io.lettuce.core.MapScanCursor;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.ValueScanCursor;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Channel presence across the cluster (not the per-user connection registry, {@link RedisPresence}).
 *
 * <p><b>Layout.</b> Per channel and instance a hash {@code <prefix>{<channel>}:presence:<instance>}
 * from connection id to {@code "<sinceMillis> <user>"}, and per channel the set of instances with
 * members there ({@code <prefix>{<channel>}:presence:instances}): all under the channel's hash tag,
 * the tag of its history and of its pub/sub channel, so each script below touches one slot in Redis
 * Cluster. Per instance, the set of channels it has members in ({@code <prefix>presence:channels:<id>})
 * and the set of instances with presence data ({@code <prefix>presence:instances}), used to clean up
 * after an instance that died. Whether an instance is alive is its liveness key
 * ({@code <prefix>instance:<id>}, TTL {@code broker.presence-ttl}), kept by {@link RedisPresence}'s
 * heartbeat: presence adds no second heartbeat.
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
 * announced as leaving, by whichever surviving instance notices first: each instance checks, every
 * heartbeat, the instances with presence data, and a listing that meets a dead instance removes its
 * entries in that channel. Removal is one script per channel (REAP) that reads and deletes the dead
 * instance's hash and publishes a {@code leave} per entry: Redis runs scripts one at a time, so of two
 * instances reaping at once, one removes and announces, the other finds nothing; each leave goes out
 * exactly once. An instance restarted under the same id removes its own old entries at start-up,
 * before it registers anything.
 *
 * <p><b>Faults.</b> Commands fail fast while Redis is down; this instance's members are kept in
 * memory and written again when Redis comes back (and when the instance finds its own channel set
 * gone, i.e. it was taken for dead after a long pause), with a {@code join} for each entry that was
 * missing. A listing that cannot reach Redis answers this instance's members with
 * {@code complete: false}.
 *
 * <p>Threading: {@link #join} and {@link #leave} run on the sessions' event loops and only queue
 * commands; the per-channel local map is changed inside {@code compute}, and the channel-set command
 * is queued there too, so that adds and removes of one channel reach Redis in the order they happened.
 * {@link #sweep} runs on the cluster thread.
 */
final class RedisChannelPresence implements PresenceStore {
    private static final Logger log = LoggerFactory.getLogger(RedisChannelPresence.class);
    /** Channels of a dead instance read per batch while reaping it. */
    private static final int BATCH = 200;

    /** KEYS: the instance's hash, the channel's instance set. ARGV: connection, value, instance, announce (1/0), pub/sub channel, event. */
    private static final String JOIN = """
            local added = redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
            redis.call('SADD', KEYS[2], ARGV[3])
            if added == 1 and ARGV[4] == '1' then redis.call('SPUBLISH', ARGV[5], ARGV[6]) end
            return added
            """;
    /** KEYS: the instance's hash, the channel's instance set. ARGV: connection, instance, announce (1/0), pub/sub channel, event. */
    private static final String LEAVE = """
            if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
            if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
            if ARGV[3] == '1' then redis.call('SPUBLISH', ARGV[4], ARGV[5]) end
            return 1
            """;
    /**
     * KEYS: the dead instance's hash, the channel's instance set. ARGV: the dead instance, announce
     * (1/0), pub/sub channel, channel. Returns how many entries it removed (and announced).
     */
    private static final String REAP = """
            local entries = redis.call('HGETALL', KEYS[1])
            redis.call('DEL', KEYS[1])
            redis.call('SREM', KEYS[2], ARGV[1])
            if ARGV[2] == '1' then
              for i = 1, #entries, 2 do
                local value = entries[i + 1]
                local user = string.sub(value, string.find(value, ' ', 1, true) + 1)
                redis.call('SPUBLISH', ARGV[3], 'e ' .. entries[i] .. ' {"type":"leave","channel":"' .. ARGV[4]
                  .. '","user":' .. cjson.encode(user) .. ',"connection":"' .. entries[i] .. '"}')
              end
            end
            return #entries / 2
            """;

    private final RedisScript joinScript = new RedisScript(JOIN, true);
    private final RedisScript leaveScript = new RedisScript(LEAVE, true);
    private final RedisScript reapScript = new RedisScript(REAP);

    private final RedisConnection redis;
    private final GatewayMetrics metrics;
    private final String prefix;
    private final String instance;
    private final ChannelPatterns announced;
    /** This instance's members: channel -> connection -> member. */
    private final Map<String, Map<String, Member>> local = new ConcurrentHashMap<>();
    private final AtomicInteger localCount = new AtomicInteger();
    /** Dead instances being reaped now (by this instance), so one sweep does not start a second round. */
    private final Map<String, Boolean> reaping = new ConcurrentHashMap<>();

    RedisChannelPresence(RedisConnection redis, GatewayMetrics metrics, String prefix, String instance, ChannelPatterns announced) {
        this.redis = redis;
        this.metrics = metrics;
        this.prefix = prefix;
        this.instance = instance;
        this.announced = announced;
    }

    private String hash(String channel, String owner) {
        return prefix + "{" + channel + "}:presence:" + RedisKeys.tag(owner);
    }

    private String instancesOf(String channel) {
        return prefix + "{" + channel + "}:presence:instances";
    }

    private String pubSub(String channel) {
        return prefix + "{" + channel + "}";
    }

    private String channelsOf(String owner) {
        return prefix + "presence:channels:" + RedisKeys.tag(owner);
    }

    private String withPresence() {
        return prefix + "presence:instances";
    }

    private String liveness(String owner) {
        return prefix + "instance:" + owner;
    }

    /**
     * At start-up, before any connection: removes (and announces as leaving) what an earlier process
     * under this instance id left behind, and marks this instance as one with presence data. Blocks
     * for at most a few seconds; a failure only leaves stale entries of a dead process to expire from
     * listings like any dead instance's.
     */
    void start() {
        try {
            reap(instance).get(10, TimeUnit.SECONDS);
            // listed at once, so that survivors reap this instance even if it dies before its first sweep
            redis.commands().sadd(withPresence(), instance).get(5, TimeUnit.SECONDS);
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
                redis.commands().sadd(channelsOf(instance), channel);
            }
            return map;
        });
        if (added[0]) {
            localCount.incrementAndGet();
            register(channel, member, announce);
        }
    }

    private CompletableFuture<Long> register(String channel, Member member, boolean announce) {
        String[] keys = {hash(channel, instance), instancesOf(channel)};
        return joinScript.<Long>run(redis.commands(), ScriptOutputType.INTEGER, keys, member.connection(),
                        member.since().toEpochMilli() + " " + member.user(), instance, announce ? "1" : "0", pubSub(channel),
                        "e " + member.connection() + " " + PresenceEvents.json(PresenceEvents.JOIN, channel, member.user(), member.connection()))
                .whenComplete((added, failure) -> {
                    if (failure != null) {
                        metrics.clusterFallback(); // written again when Redis is back
                        log.debug("redis: storing a channel member failed: {}", failure.toString());
                    }
                });
    }

    @Override
    public void leave(String channel, Member member, boolean announce) {
        boolean[] removed = {false};
        local.computeIfPresent(channel, (name, members) -> {
            removed[0] = members.remove(member.connection()) != null;
            if (members.isEmpty()) {
                redis.commands().srem(channelsOf(instance), channel);
                return null;
            }
            return members;
        });
        if (!removed[0]) {
            return;
        }
        localCount.decrementAndGet();
        String[] keys = {hash(channel, instance), instancesOf(channel)};
        leaveScript.<Long>run(redis.commands(), ScriptOutputType.INTEGER, keys, member.connection(), instance, announce ? "1" : "0",
                        pubSub(channel), "e " + member.connection() + " "
                                + PresenceEvents.json(PresenceEvents.LEAVE, channel, member.user(), member.connection()))
                .whenComplete((done, failure) -> {
                    if (failure != null) {
                        // The entry stays until this instance dies or writes its members again after the outage.
                        metrics.clusterFallback();
                        log.debug("redis: removing a channel member failed: {}", failure.toString());
                    }
                });
    }

    /**
     * Members on every live instance. Reads the channel's instance set, checks each instance's
     * liveness, then reads each live instance's hash (whole while it fits in what is left of
     * {@code max}, else one {@code HSCAN} page): at most a bounded number of entries per instance.
     */
    @Override
    public CompletableFuture<Members> members(String channel, int max) {
        return redis.commands().smembers(instancesOf(channel)).toCompletableFuture().thenCompose(owners -> {
            List<String> ids = List.copyOf(owners);
            List<CompletableFuture<Long>> alive = ids.stream()
                    .map(id -> redis.commands().exists(liveness(id)).toCompletableFuture()).toList();
            return CompletableFuture.allOf(alive.toArray(CompletableFuture[]::new)).thenCompose(done -> {
                List<CompletableFuture<Page>> pages = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    String id = ids.get(i);
                    if (alive.get(i).join() == 0 && !id.equals(instance)) {
                        reapChannel(id, channel); // a dead instance's members: not listed, removed now
                    } else {
                        pages.add(page(channel, id, max + 1));
                    }
                }
                return CompletableFuture.allOf(pages.toArray(CompletableFuture[]::new)).thenApply(all -> {
                    List<Member> members = new ArrayList<>();
                    boolean complete = true;
                    for (CompletableFuture<Page> page : pages) {
                        members.addAll(page.join().members());
                        complete &= page.join().complete();
                    }
                    members.sort(Comparator.comparing(Member::since).thenComparing(Member::connection));
                    complete &= members.size() <= max;
                    return new Members(members.subList(0, Math.min(max, members.size())), complete);
                });
            });
        }).exceptionally(failure -> {
            metrics.clusterFallback();
            log.debug("redis: listing channel members failed, answering this instance's: {}", failure.toString());
            List<Member> here = new ArrayList<>(local.getOrDefault(channel, Map.of()).values());
            here.sort(Comparator.comparing(Member::since).thenComparing(Member::connection));
            return new Members(here.subList(0, Math.min(max, here.size())), false);
        });
    }

    private record Page(List<Member> members, boolean complete) {}

    private CompletableFuture<Page> page(String channel, String owner, int limit) {
        String key = hash(channel, owner);
        return redis.commands().hlen(key).toCompletableFuture().thenCompose(size -> {
            if (size <= limit) {
                return redis.commands().hgetall(key).toCompletableFuture().thenApply(entries -> new Page(decode(entries), true));
            }
            return redis.commands().hscan(key, ScanArgs.Builder.limit(limit)).toCompletableFuture()
                    .thenApply((MapScanCursor<String, String> cursor) -> new Page(decode(cursor.getMap()), false));
        });
    }

    private static List<Member> decode(Map<String, String> entries) {
        List<Member> members = new ArrayList<>(entries.size());
        entries.forEach((connection, value) -> {
            int space = value.indexOf(' ');
            if (space > 0) {
                try {
                    members.add(new Member(value.substring(space + 1), connection, Instant.ofEpochMilli(Long.parseLong(value, 0, space, 10))));
                } catch (NumberFormatException malformed) {
                    // not ours: skipped
                }
            }
        });
        return members;
    }

    /**
     * Every heartbeat (cluster thread): reaps every instance with presence data whose liveness key
     * is gone, and writes this instance's members again if its own channel set is gone (it was taken
     * for dead).
     */
    void sweep() {
        redis.commands().sadd(withPresence(), instance);
        redis.commands().smembers(withPresence()).thenAccept(ids -> {
            for (String id : ids) {
                if (!id.equals(instance)) {
                    redis.commands().exists(liveness(id)).thenAccept(alive -> {
                        if (alive == 0) {
                            reap(id);
                        }
                    });
                }
            }
        });
        if (localCount.get() > 0) {
            redis.commands().exists(channelsOf(instance)).thenAccept(exists -> {
                if (exists == 0) {
                    log.warn("redis: this instance's channel presence was removed (taken for dead, or Redis lost it); writing it again");
                    registerAll();
                }
            });
        }
    }

    /** After Redis was away: every member of this instance is written again (a join event for each that was missing). */
    void registerAll() {
        local.forEach((channel, members) -> {
            redis.commands().sadd(channelsOf(instance), channel);
            boolean announce = announced.matches(channel);
            members.values().forEach(member -> register(channel, member, announce));
        });
    }

    /** Removes every channel entry of {@code dead}, batch by batch, then its channel set. At most one round per instance at a time. */
    private CompletableFuture<Void> reap(String dead) {
        if (reaping.putIfAbsent(dead, Boolean.TRUE) != null) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        reapBatch(dead, ScanCursor.INITIAL, done);
        return done.whenComplete((ok, failure) -> reaping.remove(dead));
    }

    private void reapBatch(String dead, ScanCursor cursor, CompletableFuture<Void> done) {
        redis.commands().sscan(channelsOf(dead), cursor, ScanArgs.Builder.limit(BATCH)).toCompletableFuture()
                .thenCompose((ValueScanCursor<String> page) -> CompletableFuture.allOf(page.getValues().stream()
                                .map(channel -> reapChannel(dead, channel)).toArray(CompletableFuture[]::new))
                        .thenApply(all -> page))
                .whenComplete((page, failure) -> {
                    if (failure != null) {
                        done.completeExceptionally(failure);
                    } else if (!page.isFinished()) {
                        reapBatch(dead, page, done);
                    } else {
                        redis.commands().del(channelsOf(dead));
                        redis.commands().srem(withPresence(), dead).whenComplete((n, again) -> done.complete(null));
                    }
                });
    }

    private CompletableFuture<Long> reapChannel(String dead, String channel) {
        String[] keys = {hash(channel, dead), instancesOf(channel)};
        return reapScript.<Long>run(redis.commands(), ScriptOutputType.INTEGER, keys, dead, announced.matches(channel) ? "1" : "0",
                        pubSub(channel), channel)
                .whenComplete((removed, failure) -> {
                    if (removed != null && removed > 0) {
                        metrics.presence().deadMembersRemoved(removed);
                        log.info("redis: removed {} channel member(s) of dead instance {}", removed, dead);
                    }
                });
    }

    @Override
    public int localMembers() {
        return localCount.get();
    }
}
