package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.config.BrokerConfig;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisChannelHandler;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisConnectionStateListener;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubListener;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.pubsub.api.async.RedisPubSubAsyncCommands;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's two Redis connections, standalone, Sentinel or Cluster alike: one for commands and
 * one for (sharded) pub/sub. Lettuce reconnects both by itself; while a standalone connection is
 * down its commands fail at once ({@code REJECT_COMMANDS}); in a cluster, whose node connections
 * open lazily, they wait in a bounded queue. Every command times out after
 * {@code broker.redis-timeout}: nothing queues without bound. Nothing here blocks but {@link #connect}
 * and {@link #close}.
 */
final class RedisConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisConnection.class);
    /** Commands waiting for a reply on one connection; beyond it they fail rather than pile up. */
    private static final int REQUEST_QUEUE = 65_536;
    /** Commands that may wait for a cluster node connection (opened lazily); each still times out. */
    private static final int CLUSTER_REQUEST_QUEUE = 16_384;

    private final AbstractRedisClient client;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final List<Runnable> onReconnect = new CopyOnWriteArrayList<>();
    private final AutoCloseable commandConnection;

    private RedisConnection(AbstractRedisClient client, RedisClusterAsyncCommands<String, String> commands,
            AutoCloseable commandConnection, StatefulRedisPubSubConnection<String, String> pubSub) {
        this.client = client;
        this.commands = commands;
        this.commandConnection = commandConnection;
        this.pubSub = pubSub;
    }

    /** Connects (blocking, at start-up only). @throws IllegalStateException naming the config key when Redis cannot be reached */
    static RedisConnection connect(BrokerConfig config) {
        Duration timeout = config.redisTimeout();
        SocketOptions socket = SocketOptions.builder().connectTimeout(timeout).keepAlive(true).build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(timeout);
        try {
            if (config.redisCluster()) {
                RedisClusterClient cluster = RedisClusterClient.create(config.redisUrls().stream().map(RedisURI::create).toList());
                // The cluster client opens node connections lazily, so commands must be allowed to wait
                // for a connection being opened: the queue is bounded and every command times out.
                cluster.setOptions(ClusterClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                        .requestQueueSize(CLUSTER_REQUEST_QUEUE)
                        .timeoutOptions(timeouts)
                        .socketOptions(socket)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enablePeriodicRefresh(Duration.ofSeconds(30))
                                .enableAllAdaptiveRefreshTriggers()
                                .build())
                        .build());
                var commandConnection = cluster.connect(StringCodec.UTF8);
                var pubSub = cluster.connectPubSub(StringCodec.UTF8);
                // Sharded subscriptions live on the node connection of each slot's owner; their
                // messages must reach the listeners of the cluster connection.
                pubSub.setNodeMessagePropagation(true);
                return new RedisConnection(cluster, commandConnection.async(), commandConnection, pubSub).listening();
            }
            RedisClient standalone = RedisClient.create(RedisURI.create(config.redisUrls().get(0)));
            standalone.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .requestQueueSize(REQUEST_QUEUE)
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .build());
            var commandConnection = standalone.connect(StringCodec.UTF8);
            var pubSub = standalone.connectPubSub(StringCodec.UTF8);
            return new RedisConnection(standalone, commandConnection.async(), commandConnection, pubSub).listening();
        } catch (RuntimeException e) {
            throw new IllegalStateException("broker.redis-url: cannot connect to Redis: " + e.getMessage(), e);
        }
    }

    private RedisConnection listening() {
        client.addListener(new RedisConnectionStateListener() {
            /**
             * Only pub/sub connections matter here: Redis forgot their subscriptions. Command
             * connections (and the cluster's topology-refresh connections) come and go without
             * needing every channel subscribed again.
             */
            @Override
            public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
                if (connection instanceof StatefulRedisPubSubConnection<?, ?>) {
                    log.info("redis pub/sub connected: {}", address);
                    onReconnect.forEach(Runnable::run);
                }
            }

            @Override
            public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
                log.warn("redis connection lost; reconnecting in the background");
            }
        });
        return this;
    }

    RedisClusterAsyncCommands<String, String> commands() {
        return commands;
    }

    RedisPubSubAsyncCommands<String, String> pubSub() {
        return pubSub.async();
    }

    void addPubSubListener(RedisPubSubListener<String, String> listener) {
        pubSub.addListener(listener);
    }

    /** Called (on a Lettuce thread) whenever a connection is (re)established. */
    void onReconnect(Runnable action) {
        onReconnect.add(action);
    }

    /** Cluster only: re-read which node owns which slot (after a slot moved). */
    void refreshTopology() {
        if (client instanceof RedisClusterClient cluster) {
            cluster.refreshPartitionsAsync();
        }
    }

    boolean open() {
        return pubSub.isOpen() && ((io.lettuce.core.api.StatefulConnection<?, ?>) commandConnection).isOpen();
    }

    @Override
    public void close() {
        try {
            pubSub.close();
            commandConnection.close();
        } catch (Exception e) {
            log.debug("closing redis connections: {}", e.toString());
        }
        client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
}
