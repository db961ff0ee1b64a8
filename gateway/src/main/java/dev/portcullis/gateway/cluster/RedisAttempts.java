package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.admission.AttemptGate;
import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.lettuce.core.ScriptOutputType;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Connection attempts per user per minute, counted across instances: one Lua script keeps a
 * GCRA token bucket (the same arithmetic as the local limiter: {@code N} per minute, bursts of
 * {@code N}) in one key per user, on Redis's clock so instances with skewed clocks agree. If Redis
 * does not answer, the local limiter decides (counted as a cluster fallback): a Redis outage must
 * not lock every user out, and each instance still enforces the limit for what it sees.
 */
final class RedisAttempts implements AttemptGate {
    private static final String GCRA = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local interval = tonumber(ARGV[1])
            local tolerance = tonumber(ARGV[2])
            local tat = tonumber(redis.call('GET', KEYS[1]) or now)
            if tat < now then tat = now end
            local ahead = tat - now
            if ahead > tolerance then return ahead - tolerance end
            redis.call('SET', KEYS[1], tat + interval, 'PX', interval + tolerance + 1000)
            return 0
            """;

    private final RedisConnection redis;
    /** The same arithmetic without the {@code SET}: what the next attempt would get. */
    private static final String PEEK = """
            local t = redis.call('TIME')
            local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
            local tolerance = tonumber(ARGV[2])
            local tat = tonumber(redis.call('GET', KEYS[1]) or now)
            if tat < now then tat = now end
            local ahead = tat - now
            if ahead > tolerance then return ahead - tolerance end
            return 0
            """;

    private final RedisScript gcra = new RedisScript(GCRA);
    private final RedisScript peek = new RedisScript(PEEK);
    private final ConnectAttemptLimiter local;
    private final GatewayMetrics metrics;
    private final String prefix;
    private final long intervalMillis;
    private final long toleranceMillis;
    private final boolean unlimited;

    RedisAttempts(RedisConnection redis, ConnectAttemptLimiter local, int perMinute, GatewayMetrics metrics, String prefix) {
        this.redis = redis;
        this.local = local;
        this.metrics = metrics;
        this.prefix = prefix;
        this.unlimited = perMinute == 0;
        this.intervalMillis = unlimited ? 0 : TimeUnit.MINUTES.toMillis(1) / perMinute;
        this.toleranceMillis = intervalMillis * Math.max(0, perMinute - 1);
    }

    @Override
    public CompletableFuture<ConnectAttemptLimiter.Decision> attempt(String user) {
        return run(gcra, user, false);
    }

    @Override
    public CompletableFuture<ConnectAttemptLimiter.Decision> peek(String user) {
        return run(peek, user, true);
    }

    private CompletableFuture<ConnectAttemptLimiter.Decision> run(RedisScript script, String user, boolean peeking) {
        if (unlimited) {
            return CompletableFuture.completedFuture(ConnectAttemptLimiter.Allowed.INSTANCE);
        }
        String[] keys = {prefix + "{" + RedisKeys.tag(user) + "}:attempts"};
        return script.<Long>run(redis.commands(), ScriptOutputType.INTEGER, keys,
                        Long.toString(intervalMillis), Long.toString(toleranceMillis))
                .handle((waitMillis, failure) -> {
                    if (failure != null) {
                        metrics.clusterFallback();
                        return peeking ? local.wouldAllow(user) : local.tryAttempt(user);
                    }
                    return waitMillis == 0
                            ? ConnectAttemptLimiter.Allowed.INSTANCE
                            : new ConnectAttemptLimiter.Rejected(Duration.ofMillis(waitMillis));
                });
    }
}
