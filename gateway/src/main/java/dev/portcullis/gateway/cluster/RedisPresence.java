package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.admission.SessionRegistry;
import dev.portcullis.gateway.api.ConnectionDirectory;
import dev.portcullis.gateway.api.ClusterView;
import dev.portcullis.gateway.api.ConnectionInfo;
import dev.portcullis.gateway.api.InstanceStats;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.session.Disconnect;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connections across the cluster: "newest connection wins" between instances, presence for
 * {@code GET /api/connections}, cluster-wide disconnect, and the cluster's connection count.
 *
 * <p><b>Newest wins.</b> Registering a connection runs one Lua script on the user's keys (one hash
 * tag, so one shard): {@code INCR} a per-user sequence, add the connection to the user's sorted set
 * with that sequence as its score, and if the user now has more than
 * {@code limits.connections-per-user}, remove the lowest scores and announce each on the control
 * channel ({@code evict}); the instance holding it closes it with 4500. Redis runs scripts one at a
 * time, so of two simultaneous connects on two instances the one whose script runs second has the
 * higher sequence and evicts the other: exactly one survives, never zero (a script never evicts its
 * own connection, which has the highest score), never two.
 *
 * <p><b>Presence.</b> The same script stores {@code instance remote since} in the user's presence
 * hash. Every instance refreshes its own liveness key (which also carries its {@code /api/stats} figures) ({@code <prefix>:instance:<id>}, TTL
 * {@code broker.presence-ttl}) every third of the TTL; a listing keeps only entries whose instance
 * is alive, so a killed instance's connections disappear within the TTL without anyone cleaning up
 * (its stale entries are dropped as they are met). Per-user keys expire after
 * {@code auth.max-token-lifetime} and are refreshed hourly for users with connections here.
 * Connections here are listed with their live channels; connections on other instances without
 * them ({@code channels} is empty): subscriptions change too often to mirror into Redis.
 */
final class RedisPresence implements SessionRegistry, ConnectionDirectory, ClusterView {
    private static final Logger log = LoggerFactory.getLogger(RedisPresence.class);
    /**
     * Lua shared by REGISTER and RECONCILE (KEYS[2] the user's sorted set, KEYS[3] the presence hash,
     * locals {@code limit} and {@code control}): over the limit, the lowest scores are removed and
     * announced on the control channel.
     */
    private static final String ENFORCE_LIMIT = """
            if limit > 0 then
              local extra = redis.call('ZCARD', KEYS[2]) - limit
              if extra > 0 then
                local evicted = redis.call('ZRANGE', KEYS[2], 0, extra - 1)
                redis.call('ZREMRANGEBYRANK', KEYS[2], 0, extra - 1)
                for _, member in ipairs(evicted) do
                  local space = string.find(member, ' ', 1, true)
                  redis.call('HDEL', KEYS[3], string.sub(member, space + 1))
                  redis.call('PUBLISH', control, 'evict ' .. member)
                end
              end
            end
            """;

    private static final String REGISTER = """
            local seq = redis.call('INCR', KEYS[1])
            redis.call('EXPIRE', KEYS[1], ARGV[3])
            redis.call('ZADD', KEYS[2], seq, ARGV[1])
            redis.call('EXPIRE', KEYS[2], ARGV[3])
            redis.call('HSET', KEYS[3], ARGV[5], ARGV[6])
            redis.call('EXPIRE', KEYS[3], ARGV[3])
            local limit = tonumber(ARGV[2])
            local control = ARGV[4]
            """ + ENFORCE_LIMIT + """
            return seq
            """;

    private final RedisConnection redis;
    private final RedisControl control;
    private final ConnectionDirectory local;
    private final GatewayMetrics metrics;
    /**
     * After Redis was away: KEYS seq, conns, presence. ARGV member, known sequence (0: never
     * registered), limit, TTL (s), control channel, connection id, info. A connection whose entry is
     * missing (never registered because Redis was down at its connect, or Redis lost it) is older
     * than every entry registered since Redis came back, so it is put back below the lowest score;
     * the user's counter is raised to at least the known sequence (a restarted Redis counts from 0).
     * Then the limit is enforced as in REGISTER. Returns -1 when this connection lost (the caller
     * closes it even if the control message is missed), 1 otherwise.
     */
    private static final String RECONCILE = """
            local known = tonumber(ARGV[2])
            if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then
              local lowest = redis.call('ZRANGE', KEYS[2], 0, 0, 'WITHSCORES')
              local score
              if #lowest > 0 then score = tonumber(lowest[2]) - 1 else score = redis.call('INCR', KEYS[1]) end
              if tonumber(redis.call('GET', KEYS[1]) or '0') < known then redis.call('SET', KEYS[1], known) end
              redis.call('ZADD', KEYS[2], score, ARGV[1])
              redis.call('HSET', KEYS[3], ARGV[6], ARGV[7])
            end
            redis.call('EXPIRE', KEYS[1], ARGV[4])
            redis.call('EXPIRE', KEYS[2], ARGV[4])
            redis.call('EXPIRE', KEYS[3], ARGV[4])
            local limit = tonumber(ARGV[3])
            local control = ARGV[5]
            """ + ENFORCE_LIMIT + """
            if not redis.call('ZSCORE', KEYS[2], ARGV[1]) then return -1 end
            return 1
            """;
    /** Registrations reconciled or refreshed per batch; the next batch waits for this one. */
    private static final int BATCH = 300;

    private final RedisScript register = new RedisScript(REGISTER, true);
    private final RedisScript reconcile = new RedisScript(RECONCILE, true);
    /** This instance's registered connections: id -> (user, sequence; 0 while not registered in Redis). */
    private final java.util.concurrent.ConcurrentHashMap<String, Registration> registrations = new java.util.concurrent.ConcurrentHashMap<>();

    private record Registration(String user, String info, long sequence) {}
    private final String prefix;
    private final String instance;
    private final int limit;
    private final Duration presenceTtl;
    private final Duration keyTtl;
    private final Supplier<InstanceStats> localStats;
    private volatile List<InstanceStats> others = List.of();

    RedisPresence(RedisConnection redis, RedisControl control, ConnectionDirectory local, GatewayMetrics metrics, String prefix,
            String instance, int connectionsPerUser, Duration presenceTtl, Duration keyTtl, Supplier<InstanceStats> localStats) {
        this.localStats = localStats;
        this.redis = redis;
        this.control = control;
        this.local = local;
        this.metrics = metrics;
        this.prefix = prefix;
        this.instance = instance;
        this.limit = connectionsPerUser;
        this.presenceTtl = presenceTtl;
        this.keyTtl = keyTtl;
        control.on("evict", arguments -> {
            if (arguments[0].equals(instance)) {
                local.disconnectConnection(arguments[1], Disconnect.REPLACED);
            }
        });
        control.on("disconnect", arguments -> local.disconnect(arguments[0],
                new Disconnect(Integer.parseInt(arguments[1]), arguments.length > 2 && !arguments[2].isBlank()
                        ? arguments[2] : Disconnect.LOGGED_OUT.reason())));
    }

    private String userKey(String user, String suffix) {
        return prefix + "{" + RedisKeys.tag(user) + "}:" + suffix;
    }

    private String instanceKey(String id) {
        return prefix + "instance:" + id;
    }

    @Override
    public void registered(String user, String connectionId, String remote, Instant since) {
        String info = instance + " " + remote + " " + since.toEpochMilli();
        registrations.put(connectionId, new Registration(user, info, 0));
        String[] keys = {userKey(user, "seq"), userKey(user, "conns"), userKey(user, "presence")};
        register.<Long>run(redis.commands(), ScriptOutputType.INTEGER, keys,
                        member(connectionId), Integer.toString(limit),
                        Long.toString(keyTtl.toSeconds()), control.channel(), connectionId, info)
                .whenComplete((seq, failure) -> {
                    if (failure != null) {
                        // Enforced locally meanwhile; reconciled when Redis is back.
                        metrics.clusterFallback();
                        log.debug("registering a connection in redis failed: {}", failure.toString());
                    } else {
                        registrations.computeIfPresent(connectionId, (id, r) -> new Registration(r.user(), r.info(), seq));
                    }
                });
    }

    private String member(String connectionId) {
        return RedisKeys.tag(instance) + " " + RedisKeys.tag(connectionId);
    }

    /**
     * After Redis comes back (its pub/sub reconnected): every connection here is checked against the
     * user's set in Redis, in batches. A connection replaced while this instance could not hear about
     * it is closed (4500); one never registered (Redis was down at its connect) is registered now;
     * entries Redis lost are put back. "Newest wins" thus holds again after an outage.
     */
    void reconcile() {
        reconcileBatch(new ArrayList<>(registrations.entrySet()), 0);
    }

    private void reconcileBatch(List<Map.Entry<String, Registration>> all, int from) {
        List<CompletableFuture<?>> batch = new ArrayList<>();
        for (int i = from; i < Math.min(all.size(), from + BATCH); i++) {
            String connectionId = all.get(i).getKey();
            Registration registration = all.get(i).getValue();
            String user = registration.user();
            String[] keys = {userKey(user, "seq"), userKey(user, "conns"), userKey(user, "presence")};
            batch.add(reconcile.<Long>run(redis.commands(), ScriptOutputType.INTEGER, keys, member(connectionId),
                            Long.toString(registration.sequence()), Integer.toString(limit), Long.toString(keyTtl.toSeconds()),
                            control.channel(), connectionId, registration.info())
                    .whenComplete((seq, failure) -> {
                        if (failure != null) {
                            return;
                        }
                        if (seq < 0) {
                            local.disconnectConnection(connectionId, Disconnect.REPLACED);
                        }
                    }));
        }
        if (from + BATCH < all.size()) {
            CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new))
                    .whenComplete((done, failure) -> reconcileBatch(all, from + BATCH));
        }
    }

    @Override
    public void unregistered(String user, String connectionId) {
        registrations.remove(connectionId);
        redis.commands().zrem(userKey(user, "conns"), RedisKeys.tag(instance) + " " + RedisKeys.tag(connectionId));
        redis.commands().hdel(userKey(user, "presence"), connectionId);
    }

    @Override
    public CompletableFuture<List<ConnectionInfo>> connections(String user) {
        CompletableFuture<List<ConnectionInfo>> here = local.connections(user);
        return redis.commands().hgetall(userKey(user, "presence")).toCompletableFuture()
                .thenCompose(entries -> alive(user, entries).thenCombine(here, (remote, mine) -> {
                    List<ConnectionInfo> all = new ArrayList<>(mine);
                    all.addAll(remote);
                    return all;
                }))
                .exceptionallyCompose(failure -> {
                    metrics.clusterFallback();
                    return here;
                });
    }

    /** Entries of other instances whose liveness key still exists; those of dead instances are deleted. */
    private CompletableFuture<List<ConnectionInfo>> alive(String user, Map<String, String> entries) {
        Map<String, CompletableFuture<Long>> instances = new HashMap<>();
        for (String value : entries.values()) {
            String owner = value.split(" ", 2)[0];
            if (!owner.equals(instance)) {
                instances.computeIfAbsent(owner, id -> redis.commands().exists(instanceKey(id)).toCompletableFuture());
            }
        }
        return CompletableFuture.allOf(instances.values().toArray(CompletableFuture[]::new)).thenApply(done -> {
            List<ConnectionInfo> remote = new ArrayList<>();
            entries.forEach((connectionId, value) -> {
                String[] parts = value.split(" ");
                if (parts[0].equals(instance) || parts.length < 3) {
                    return;
                }
                if (instances.get(parts[0]).join() == 0) {
                    // a dead instance's connection: not listed, and removed now
                    redis.commands().hdel(userKey(user, "presence"), connectionId);
                    redis.commands().zrem(userKey(user, "conns"), RedisKeys.tag(parts[0]) + " " + RedisKeys.tag(connectionId));
                    return;
                }
                remote.add(new ConnectionInfo(connectionId, user, parts[1], Instant.ofEpochMilli(Long.parseLong(parts[2])), List.of()));
            });
            return remote;
        });
    }

    /** Closes this instance's connections at once (Redis or not), then announces it to the others. */
    @Override
    public CompletableFuture<Integer> disconnect(String user, Disconnect disconnect) {
        CompletableFuture<Integer> counted = connections(user).thenApply(List::size);
        local.disconnect(user, disconnect);
        return counted.thenCompose(count -> control.send("disconnect", user, Integer.toString(disconnect.code()), disconnect.reason())
                .thenApply(receivers -> count));
    }

    @Override
    public int active() {
        return local.active() + others.stream().mapToInt(InstanceStats::connections).sum();
    }

    @Override
    public List<InstanceStats> others() {
        return others;
    }

    @Override
    public boolean disconnectConnection(String connectionId, Disconnect disconnect) {
        return local.disconnectConnection(connectionId, disconnect);
    }

    @Override
    public Set<String> users() {
        return local.users();
    }

    /**
     * Every third of the presence TTL: this instance's liveness key (holding its stats), and a fresh
     * view of the other live instances. Instances whose key expired leave the registry set.
     */
    void heartbeat() {
        redis.commands().psetex(instanceKey(instance), presenceTtl.toMillis(), localStats.get().encode());
        redis.commands().sadd(prefix + "instances", instance);
        redis.commands().smembers(prefix + "instances").toCompletableFuture().thenCompose(ids -> {
            List<String> otherIds = ids.stream().filter(id -> !id.equals(instance)).toList();
            List<CompletableFuture<String>> values = otherIds.stream()
                    .map(id -> redis.commands().get(instanceKey(id)).toCompletableFuture()).toList();
            return CompletableFuture.allOf(values.toArray(CompletableFuture[]::new)).thenApply(done -> {
                List<InstanceStats> alive = new ArrayList<>();
                for (int i = 0; i < otherIds.size(); i++) {
                    String value = values.get(i).join();
                    InstanceStats stats = value == null ? null : InstanceStats.decode(otherIds.get(i), value);
                    if (stats == null) {
                        redis.commands().srem(prefix + "instances", otherIds.get(i));
                    } else {
                        alive.add(stats);
                    }
                }
                return List.copyOf(alive);
            });
        }).whenComplete((alive, failure) -> others = failure == null ? alive : List.of());
    }

    /** Graceful exit: this instance's liveness key goes at once (its connections have closed and unregistered). */
    CompletableFuture<Void> leave() {
        return redis.commands().del(instanceKey(instance)).toCompletableFuture()
                .thenCompose(n -> redis.commands().srem(prefix + "instances", instance).toCompletableFuture())
                .thenApply(n -> null);
    }

    /**
     * Every third of the key TTL (at most hourly): keeps the per-user keys of users with connections
     * here from expiring, in batches of {@value #BATCH} users so the command queue never fills.
     */
    void refreshUsers() {
        refreshBatch(List.copyOf(local.users()), 0);
    }

    private void refreshBatch(List<String> users, int from) {
        List<CompletableFuture<?>> batch = new ArrayList<>();
        for (int i = from; i < Math.min(users.size(), from + BATCH); i++) {
            for (String suffix : new String[] {"seq", "conns", "presence"}) {
                batch.add(redis.commands().expire(userKey(users.get(i), suffix), keyTtl.toSeconds()).toCompletableFuture());
            }
        }
        if (from + BATCH < users.size()) {
            CompletableFuture.allOf(batch.toArray(CompletableFuture[]::new))
                    .whenComplete((done, failure) -> refreshBatch(users, from + BATCH));
        }
    }

    /** How often {@link #refreshUsers()} must run. */
    Duration refreshInterval() {
        return Duration.ofMillis(Math.min(Duration.ofHours(1).toMillis(), Math.max(1000, keyTtl.toMillis() / 3)));
    }
}
