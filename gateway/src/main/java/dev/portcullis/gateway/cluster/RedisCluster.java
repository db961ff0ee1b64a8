package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.admission.AttemptGate;
import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.admission.SessionRegistry;
import dev.portcullis.gateway.api.ClusterView;
import dev.portcullis.gateway.api.ConnectionDirectory;
import dev.portcullis.gateway.api.InstanceStats;
import java.util.function.Supplier;
import dev.portcullis.gateway.auth.RevocationStore;
import dev.portcullis.gateway.auth.Revocations;
import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.ChannelPatterns;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.presence.PresenceStore;
import io.netty.buffer.ByteBufAllocator;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Everything that makes several instances one gateway, on one pair of Redis connections: the
 * broker, and the cluster-wide versions of attempt counting, logout, newest-connection-wins,
 * connection presence and channel presence. Every Lettuce type of the project lives in this package. What stays per instance:
 * the global and per-address connection caps (an instance protects itself).
 */
public final class RedisCluster implements AutoCloseable {
    private final RedisConnection redis;
    private final ScheduledExecutorService thread;
    private final RedisBroker broker;
    private final RedisAttempts attempts;
    private final RedisRevocations revocations;
    private final RedisPresence presence;
    private final RedisChannelPresence channelPresence;

    private RedisCluster(RedisConnection redis, ScheduledExecutorService thread, RedisBroker broker, RedisAttempts attempts,
            RedisRevocations revocations, RedisPresence presence, RedisChannelPresence channelPresence) {
        this.channelPresence = channelPresence;
        this.redis = redis;
        this.thread = thread;
        this.broker = broker;
        this.attempts = attempts;
        this.revocations = revocations;
        this.presence = presence;
    }

    /**
     * Connects to Redis (blocking, at start-up).
     *
     * @param local this instance's connections
     * @param localAttempts decides when Redis does not answer
     * @param localRevocations this instance's copy of the logouts
     * @param localStats this instance's figures, published with its heartbeat
     * @throws IllegalStateException naming the config key when Redis cannot be reached
     */
    public static RedisCluster connect(GatewayConfig config, SubscriptionIndex index, ByteBufAllocator alloc,
            GatewayMetrics metrics, Clock clock, ConnectionDirectory local, ConnectAttemptLimiter localAttempts,
            Revocations localRevocations, Supplier<InstanceStats> localStats) {
        RedisConnection redis = RedisConnection.connect(config.broker());
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "portcullis-cluster");
            t.setDaemon(true);
            return t;
        });
        String prefix = config.broker().redisPrefix() + ":";
        RedisControl control = new RedisControl(redis, prefix);
        RedisBroker broker = new RedisBroker(redis, index, alloc, metrics, clock, config, thread);
        RedisAttempts attempts = new RedisAttempts(redis, localAttempts, config.limits().connectAttemptsPerUserPerMinute(), metrics, prefix);
        RedisRevocations revocations = new RedisRevocations(redis, control, localRevocations, metrics, clock, prefix,
                config.auth().maxTokenLifetime());
        RedisPresence presence = new RedisPresence(redis, control, local, metrics, prefix, config.broker().instanceId(),
                config.limits().connectionsPerUser(), config.broker().presenceTtl(), config.auth().maxTokenLifetime(), localStats);
        RedisChannelPresence channelPresence = new RedisChannelPresence(redis, metrics, prefix, config.broker().instanceId(),
                ChannelPatterns.of(config.channels().joinLeave()), thread);
        long beat = Math.max(100, config.broker().presenceTtl().toMillis() / 3);
        thread.scheduleAtFixedRate(presence::heartbeat, 0, beat, TimeUnit.MILLISECONDS);
        channelPresence.start(); // an earlier process of this instance id: its channel members go first
        thread.scheduleAtFixedRate(channelPresence::sweep, beat, beat, TimeUnit.MILLISECONDS);
        long refresh = presence.refreshInterval().toMillis();
        thread.scheduleAtFixedRate(presence::refreshUsers, refresh, refresh, TimeUnit.MILLISECONDS);
        // When Redis is back (pub/sub reconnected), "newest wins" and presence are made whole again.
        redis.onReconnect(() -> thread.schedule(presence::reconcile, 500, TimeUnit.MILLISECONDS));
        redis.onReconnect(() -> thread.schedule(channelPresence::reconcileAll, 500, TimeUnit.MILLISECONDS));
        return new RedisCluster(redis, thread, broker, attempts, revocations, presence, channelPresence);
    }

    public Broker broker() {
        return broker;
    }

    public AttemptGate attempts() {
        return attempts;
    }

    public RevocationStore revocations() {
        return revocations;
    }

    public SessionRegistry registry() {
        return presence;
    }

    public ConnectionDirectory directory() {
        return presence;
    }

    /** Channel presence and join/leave events across the cluster. */
    public PresenceStore channelPresence() {
        return channelPresence;
    }

    public ClusterView view() {
        return presence;
    }

    @Override
    public void close() {
        broker.close();
        thread.shutdownNow();
        try {
            // A heartbeat still running must not rewrite the liveness key after it was deleted.
            thread.awaitTermination(2, TimeUnit.SECONDS);
            presence.leave().get(1, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            // Redis is down or slow: the liveness key expires by itself within the presence TTL
        }
        redis.close();
    }
}
