package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.netty.buffer.ByteBufAllocator;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Everything that makes several instances one gateway, on one Redis connection pair: the broker,
 * and the cluster-wide versions of newest-connection-wins, attempt counting, logout and presence.
 * Every Lettuce type of the project lives in this package.
 */
public final class RedisCluster implements AutoCloseable {
    private final RedisConnection redis;
    private final ScheduledExecutorService thread;
    private final RedisBroker broker;

    private RedisCluster(RedisConnection redis, ScheduledExecutorService thread, RedisBroker broker) {
        this.redis = redis;
        this.thread = thread;
        this.broker = broker;
    }

    /** Connects to Redis (blocking, at start-up). @throws IllegalStateException naming the key when it cannot */
    public static RedisCluster connect(GatewayConfig config, SubscriptionIndex index, ByteBufAllocator alloc,
            GatewayMetrics metrics, Clock clock) {
        RedisConnection redis = RedisConnection.connect(config.broker());
        ScheduledExecutorService thread = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "portcullis-cluster");
            t.setDaemon(true);
            return t;
        });
        RedisBroker broker = new RedisBroker(redis, index, alloc, metrics, clock, config.broker(), thread);
        return new RedisCluster(redis, thread, broker);
    }

    public Broker broker() {
        return broker;
    }

    @Override
    public void close() {
        broker.close();
        thread.shutdownNow();
        try {
            thread.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        redis.close();
    }
}
