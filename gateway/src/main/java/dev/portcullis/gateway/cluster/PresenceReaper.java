package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.config.ChannelPatterns;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.ValueScanCursor;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes, and announces as leaving, the channel members of an instance taken for dead (see
 * {@link RedisChannelPresence} for when). One script per channel ({@link #REAP}) reads and deletes the
 * dead instance's hash and publishes a {@code leave} per entry: Redis runs scripts one at a time, so
 * of two instances reaping at once one removes and announces, the other finds nothing.
 *
 * <p><b>The reaped marker.</b> An instance is taken for dead when its liveness key expired, which a
 * long pause (GC, a frozen VM) also causes; such an instance lives on with its members in memory and
 * no entries in Redis. Before reaping, and after each channel it removed something from, the reaper
 * sets {@code presence:reaped:<id>}; the instance's own sweep deletes it and, if it was there, writes
 * all its members again (a {@code join} each). Set after each removal too, so that a removal that
 * lands after the owner's rewrite still finds a marker. It expires after {@link #MARKER_TTL}: long
 * enough for any pause an instance comes back from with the same connection (a longer one also drops
 * the TCP connection, and a reconnect rewrites everything anyway), short enough that dead instances'
 * markers do not pile up.
 *
 * <p>Threading: called from the cluster thread and from listings (Lettuce threads); the only state,
 * {@link #reaping}, is concurrent.
 */
final class PresenceReaper {
    private static final Logger log = LoggerFactory.getLogger(PresenceReaper.class);
    /** Channels of a dead instance read per batch while reaping it. */
    private static final int BATCH = 200;
    static final Duration MARKER_TTL = Duration.ofDays(1);

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

    private final RedisScript reapScript = new RedisScript(REAP);
    private final RedisConnection redis;
    private final GatewayMetrics metrics;
    private final PresenceKeys keys;
    private final String self;
    private final ChannelPatterns announced;
    /** Dead instances being reaped now (by this instance), so one sweep does not start a second round. */
    private final Map<String, Boolean> reaping = new ConcurrentHashMap<>();

    PresenceReaper(RedisConnection redis, GatewayMetrics metrics, PresenceKeys keys, String self, ChannelPatterns announced) {
        this.redis = redis;
        this.metrics = metrics;
        this.keys = keys;
        this.self = self;
        this.announced = announced;
    }

    /** Removes every channel entry of {@code dead}, batch by batch, then its channel set. At most one round per instance at a time. */
    CompletableFuture<Void> reap(String dead) {
        if (reaping.putIfAbsent(dead, Boolean.TRUE) != null) {
            return CompletableFuture.completedFuture(null);
        }
        mark(dead);
        CompletableFuture<Void> done = new CompletableFuture<>();
        reapBatch(dead, ScanCursor.INITIAL, done);
        return done.whenComplete((ok, failure) -> reaping.remove(dead));
    }

    private void reapBatch(String dead, ScanCursor cursor, CompletableFuture<Void> done) {
        redis.commands().sscan(keys.channelsOf(dead), cursor, ScanArgs.Builder.limit(BATCH)).toCompletableFuture()
                .thenCompose((ValueScanCursor<String> page) -> CompletableFuture.allOf(page.getValues().stream()
                                .map(channel -> reapChannel(dead, channel)).toArray(CompletableFuture[]::new))
                        .thenApply(all -> page))
                .whenComplete((page, failure) -> {
                    if (failure != null) {
                        done.completeExceptionally(failure);
                    } else if (!page.isFinished()) {
                        reapBatch(dead, page, done);
                    } else {
                        redis.commands().del(keys.channelsOf(dead));
                        redis.commands().srem(keys.withPresence(), dead).whenComplete((n, again) -> done.complete(null));
                    }
                });
    }

    /** Removes {@code dead}'s entries in one channel (a listing met them), with a {@code leave} each. */
    CompletableFuture<Long> reapChannel(String dead, String channel) {
        String[] scriptKeys = {keys.hash(channel, dead), keys.instancesOf(channel)};
        return reapScript.<Long>run(redis.commands(), ScriptOutputType.INTEGER, scriptKeys, dead, announced.matches(channel) ? "1" : "0",
                        keys.pubSub(channel), channel)
                .whenComplete((removed, failure) -> {
                    if (removed != null && removed > 0) {
                        mark(dead);
                        metrics.presence().deadMembersRemoved(removed);
                        log.info("redis: removed {} channel member(s) of dead instance {}", removed, dead);
                    }
                });
    }

    /** Tells {@code dead}, should it be alive after all, that its entries were removed. Not for this instance's own leftovers. */
    private void mark(String dead) {
        if (!dead.equals(self)) {
            redis.commands().set(keys.reaped(dead), "1", SetArgs.Builder.ex(MARKER_TTL));
        }
    }
}
