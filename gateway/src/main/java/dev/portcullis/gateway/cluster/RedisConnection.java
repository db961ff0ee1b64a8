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
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.event.command.CommandFailedEvent;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandSucceededEvent;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.Delay;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.pubsub.RedisPubSubListener;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.lettuce.core.pubsub.api.async.RedisPubSubAsyncCommands;
import java.net.SocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import dev.portcullis.gateway.metrics.BrokerMetrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's two Redis connections, standalone, Sentinel or Cluster alike: one for commands and
 * one for (sharded) pub/sub. Lettuce reconnects both by itself; while a standalone connection is
 * down its commands fail at once ({@code REJECT_COMMANDS}); in a cluster, whose node connections
 * open lazily, they wait in a bounded queue. Every command times out after
 * {@code broker.redis-timeout}: nothing queues without bound. Nothing here blocks but {@link #connect}
 * and {@link #close}.
 *
 * <p><b>Failover.</b> Reconnect attempts back off with full jitter from 50 ms to at most 1 s
 * (Lettuce's default grows to 30 s, which after a failover of a few seconds would leave the gateway
 * waiting long after Redis is back). A Sentinel URL is resolved again through the sentinels at every
 * attempt, so a reconnect after a failover reaches the promoted master. In a cluster, topology
 * refreshes are triggered by MOVED, ASK, persistent reconnects and unknown nodes at most once a
 * second, and run every {@value #CLUSTER_REFRESH_SECONDS} s regardless.
 *
 * <p><b>What an operator sees.</b> A node's connections going down or coming back are logged once
 * per node and change (not once per connection and attempt) and counted in
 * {@code portcullis_redis_connection_events_total}. A command that times out is counted and makes
 * {@link #stalled()} true until a command succeeds again, so readiness turns degraded on the first
 * timeout rather than waiting for the canary.
 */
final class RedisConnection implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RedisConnection.class);
    /** Commands waiting for a reply on one connection; beyond it they fail rather than pile up. */
    private static final int REQUEST_QUEUE = 65_536;
    /** Commands that may wait for a cluster node connection (opened lazily); each still times out. */
    private static final int CLUSTER_REQUEST_QUEUE = 16_384;
    static final int CLUSTER_REFRESH_SECONDS = 5;

    private final AbstractRedisClient client;
    private final RedisClusterAsyncCommands<String, String> commands;
    private final StatefulRedisPubSubConnection<String, String> pubSub;
    private final AutoCloseable commandConnection;
    private final ClientResources resources;
    private final Watch watch;

    private RedisConnection(AbstractRedisClient client, ClientResources resources, Watch watch,
            RedisClusterAsyncCommands<String, String> commands, AutoCloseable commandConnection,
            StatefulRedisPubSubConnection<String, String> pubSub) {
        this.client = client;
        this.watch = watch;
        this.resources = resources;
        this.commands = commands;
        this.commandConnection = commandConnection;
        this.pubSub = pubSub;
    }

    /** Connects (blocking, at start-up only). @throws IllegalStateException naming the config key when Redis cannot be reached */
    static RedisConnection connect(BrokerConfig config) {
        ClientResources resources = ClientResources.builder()
                .reconnectDelay(Delay.fullJitter(Duration.ofMillis(50), Duration.ofSeconds(1), 2, TimeUnit.MILLISECONDS))
                .build();
        try {
            return connect(config, resources);
        } catch (RuntimeException e) {
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw e;
        }
    }

    private static RedisConnection connect(BrokerConfig config, ClientResources resources) {
        Duration timeout = config.redisTimeout();
        Watch watch = new Watch();
        SocketOptions socket = SocketOptions.builder().connectTimeout(timeout).keepAlive(true).build();
        TimeoutOptions timeouts = TimeoutOptions.enabled(timeout);
        try {
            if (config.redisCluster()) {
                RedisClusterClient cluster = RedisClusterClient.create(resources, config.redisUrls().stream().map(RedisURI::create).toList());
                // The cluster client opens node connections lazily, so commands must be allowed to wait
                // for a connection being opened: the queue is bounded and every command times out.
                cluster.setOptions(ClusterClientOptions.builder()
                        .autoReconnect(true)
                        .disconnectedBehavior(ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS)
                        .requestQueueSize(CLUSTER_REQUEST_QUEUE)
                        .timeoutOptions(timeouts)
                        .socketOptions(socket)
                        .topologyRefreshOptions(ClusterTopologyRefreshOptions.builder()
                                .enablePeriodicRefresh(Duration.ofSeconds(CLUSTER_REFRESH_SECONDS))
                                .enableAllAdaptiveRefreshTriggers()
                                .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
                                .refreshTriggersReconnectAttempts(3)
                                .closeStaleConnections(true)
                                .build())
                        .build());
                cluster.addListener((CommandListener) watch);
                cluster.addListener((RedisConnectionStateListener) watch);
                var commandConnection = cluster.connect(StringCodec.UTF8);
                var pubSub = cluster.connectPubSub(StringCodec.UTF8);
                // Sharded subscriptions live on the node connection of each slot's owner; their
                // messages must reach the listeners of the cluster connection.
                pubSub.setNodeMessagePropagation(true);
                return new RedisConnection(cluster, resources, watch, commandConnection.async(), commandConnection, pubSub);
            }
            RedisClient standalone = RedisClient.create(resources, RedisURI.create(config.redisUrls().get(0)));
            standalone.setOptions(ClientOptions.builder()
                    .autoReconnect(true)
                    .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                    .requestQueueSize(REQUEST_QUEUE)
                    .timeoutOptions(timeouts)
                    .socketOptions(socket)
                    .build());
            standalone.addListener((CommandListener) watch);
            standalone.addListener((RedisConnectionStateListener) watch);
            var commandConnection = standalone.connect(StringCodec.UTF8);
            var pubSub = standalone.connectPubSub(StringCodec.UTF8);
            return new RedisConnection(standalone, resources, watch, commandConnection.async(), commandConnection, pubSub);
        } catch (RuntimeException e) {
            throw new IllegalStateException("broker.redis-url: cannot connect to Redis: " + e.getMessage(), e);
        }
    }

    void metrics(BrokerMetrics metrics) {
        watch.metrics = metrics;
    }

    /** True from a command timeout until the next command succeeds: Redis is stalled or unreachable. */
    boolean stalled() {
        return watch.stalled();
    }

    /**
     * Watches the connections and every command's outcome: which node each connection reached, nodes
     * going down and coming back (logged once per node and change), pub/sub reconnects (which must
     * resubscribe), and commands timing out. Registered before the connections open: Lettuce only
     * wraps commands for command listeners that exist when a connection is made, and only tells
     * state listeners about connections made after they were added.
     */
    private static final class Watch implements CommandListener, RedisConnectionStateListener {
        static final long STALL_HOLD_MILLIS = 1000;
        private final List<Runnable> onReconnect = new CopyOnWriteArrayList<>();
        /** The node each connection last reached, and the nodes seen down. Guarded by {@code this}. */
        private final Map<RedisChannelHandler<?, ?>, String> connectionNodes = new WeakHashMap<>();
        private final Set<String> nodesDown = new HashSet<>();
        /** Nanos of the last command timeout; 0 when none. */
        private volatile long lastTimeoutNanos;
        /** A stall is being reported (logged as started, not yet as over). */
        private volatile boolean stalled;
        private volatile BrokerMetrics metrics;

        /**
         * From a timeout until a command succeeds at least {@value #STALL_HOLD_MILLIS} ms after the
         * last timeout: in a cluster one dead node times out while the others answer, and the state
         * must not flip with every command.
         */
        boolean stalled() {
            return stalled;
        }

        @Override
        public void commandFailed(CommandFailedEvent event) {
            if (event.getCause() instanceof RedisCommandTimeoutException) {
                lastTimeoutNanos = System.nanoTime();
                if (!stalled) {
                    stalled = true;
                    log.warn("redis: a command got no answer within broker.redis-timeout; the broker is degraded until commands are answered again");
                }
                BrokerMetrics m = metrics;
                if (m != null) {
                    m.commandTimeout();
                }
            }
        }

        @Override
        public void commandSucceeded(CommandSucceededEvent event) {
            if (stalled && System.nanoTime() - lastTimeoutNanos > TimeUnit.MILLISECONDS.toNanos(STALL_HOLD_MILLIS)) {
                stalled = false;
                log.info("redis: commands are answered again");
            }
        }

        /**
         * Only pub/sub connections matter for resubscribing: Redis forgot their subscriptions.
         * Command connections (and the cluster's topology-refresh connections) come and go without
         * needing every channel subscribed again.
         */
        @Override
        public void onRedisConnected(RedisChannelHandler<?, ?> connection, SocketAddress address) {
            nodeUp(connection, String.valueOf(address));
            if (connection instanceof StatefulRedisPubSubConnection<?, ?>) {
                onReconnect.forEach(Runnable::run);
            }
        }

        @Override
        public void onRedisDisconnected(RedisChannelHandler<?, ?> connection) {
            nodeDown(connection);
        }

        /** A connection reached a node: the node is up; logged when it was down before. */
        private synchronized void nodeUp(RedisChannelHandler<?, ?> connection, String node) {
            connectionNodes.put(connection, node);
            if (nodesDown.remove(node)) {
                log.info("redis: {} is reachable again", node);
                count(false);
            }
        }

        /**
         * A connection dropped. A connection we (or Lettuce, after a topology refresh) closed on
         * purpose is not a fault. Otherwise its node is down until one of its connections connects
         * again: one WARN per node and outage, however many connections and reconnect attempts.
         */
        private synchronized void nodeDown(RedisChannelHandler<?, ?> connection) {
            if (connection.isClosed()) {
                connectionNodes.remove(connection);
                return;
            }
            String node = connectionNodes.get(connection);
            if (node != null && nodesDown.add(node)) {
                log.warn("redis: lost the connection to {}; reconnecting in the background (every 50 ms to 1 s)", node);
                count(true);
            }
        }

        private void count(boolean lost) {
            BrokerMetrics m = metrics;
            if (m != null) {
                m.connectionEvent(lost);
            }
        }
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
        watch.onReconnect.add(action);
    }

    /** Cluster only: re-read which node owns which slot (after a slot moved). */
    void refreshTopology() {
        if (client instanceof RedisClusterClient cluster) {
            cluster.refreshPartitionsAsync();
        }
    }

    /**
     * The node id of the master that owns {@code slot} now, by the client's last topology refresh
     * ({@code null} while no master does); {@code ""} outside a cluster, where one master owns all.
     */
    String masterOf(int slot) {
        if (client instanceof RedisClusterClient cluster) {
            RedisClusterNode node = cluster.getPartitions().getMasterBySlot(slot);
            return node == null ? null : node.getNodeId();
        }
        return "";
    }

    /**
     * The shards now: each master's slot ranges ({@code "0-5460"}, stable across a failover, so a
     * good name for a shard) and the master's address; {@code {"all": ""}} outside a cluster.
     */
    Map<String, String> shards() {
        if (!(client instanceof RedisClusterClient cluster)) {
            return Map.of("all", "");
        }
        Map<String, String> shards = new java.util.TreeMap<>();
        for (RedisClusterNode node : cluster.getPartitions()) {
            List<Integer> slots = node.getSlots();
            if ((node.is(RedisClusterNode.NodeFlag.UPSTREAM) || node.is(RedisClusterNode.NodeFlag.MASTER)) && !slots.isEmpty()) {
                shards.put(ranges(slots), node.getUri().getHost() + ":" + node.getUri().getPort());
            }
        }
        return shards;
    }

    /** {@code [0, 1, 2, 7]} as {@code "0-2,7"}. */
    static String ranges(List<Integer> slots) {
        List<Integer> sorted = slots.stream().sorted().toList();
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < sorted.size(); i++) {
            int first = sorted.get(i);
            while (i + 1 < sorted.size() && sorted.get(i + 1) == sorted.get(i) + 1) {
                i++;
            }
            out.append(out.isEmpty() ? "" : ",").append(first == sorted.get(i) ? Integer.toString(first) : first + "-" + sorted.get(i));
        }
        return out.toString();
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
        resources.shutdown(0, 2, TimeUnit.SECONDS);
    }
}
