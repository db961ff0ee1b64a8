package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.RevocationStore;
import dev.portcullis.gateway.auth.Revocations;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Logouts for the whole cluster. The cutoff (epoch seconds) is stored in Redis under the user's key
 * with a TTL of {@code auth.max-token-lifetime}, so an instance started later still refuses the old
 * tokens, and announced on the control channel so every instance's local copy learns it at once.
 * A check asks the local copy first (a revoked token never needs Redis) and Redis otherwise; if Redis
 * does not answer, the local copy decides (counted as a cluster fallback).
 */
final class RedisRevocations implements RevocationStore {
    private final RedisConnection redis;
    private final RedisControl control;
    private final Revocations local;
    private final GatewayMetrics metrics;
    private final Clock clock;
    private final String prefix;
    private final Duration ttl;

    RedisRevocations(RedisConnection redis, RedisControl control, Revocations local, GatewayMetrics metrics, Clock clock,
            String prefix, Duration ttl) {
        this.redis = redis;
        this.control = control;
        this.local = local;
        this.metrics = metrics;
        this.clock = clock;
        this.prefix = prefix;
        this.ttl = ttl;
        control.on("revoke", arguments -> local.remember(arguments[0], Long.parseLong(arguments[1])));
    }

    private String key(String user) {
        return prefix + "{" + RedisKeys.tag(user) + "}:revoked";
    }

    @Override
    public CompletableFuture<Void> revoke(String user) {
        long cutoff = clock.instant().getEpochSecond();
        local.remember(user, cutoff);
        return redis.commands().setex(key(user), ttl.toSeconds(), Long.toString(cutoff)).toCompletableFuture()
                .thenCompose(ok -> control.send("revoke", user, Long.toString(cutoff)))
                .thenApply(receivers -> null);
    }

    @Override
    public CompletableFuture<Boolean> revoked(Principal principal) {
        if (local.revokedNow(principal)) {
            return CompletableFuture.completedFuture(true);
        }
        return redis.commands().get(key(principal.subject())).toCompletableFuture().handle((cutoff, failure) -> {
            if (failure != null) {
                metrics.clusterFallback();
                return false;
            }
            if (cutoff == null) {
                return false;
            }
            local.remember(principal.subject(), Long.parseLong(cutoff));
            return local.revokedNow(principal);
        });
    }
}
