package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.broker.BrokerHealth;
import dev.portcullis.gateway.broker.BrokerUnavailableException;
import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.BrokerConfig;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.config.HistoryConfig;
import dev.portcullis.gateway.history.Epochs;
import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.SlotHash;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.netty.buffer.ByteBufAllocator;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publications through Redis, so that every instance delivers them.
 *
 * <p><b>Publish.</b> One Lua script takes the channel's next offset (in its meta hash, with its
 * epoch), appends the publication to the channel's history stream ({@code XADD} with the offset as
 * id, {@code MAXLEN ~ size}, TTL) and {@code SPUBLISH}es {@code "<offset> <epoch> <publishedAtMillis>
 * <data>"}, all in one atomic step: the order in which Redis delivers publications of a channel is
 * their offset order, and no instance sees a publication without its offset or before it is in the
 * history. An epoch is created with the meta hash; when Redis loses it (restart without
 * persistence, expiry) the next publication starts a new epoch at offset 1 and an empty stream.
 * With an idempotency key the script first looks for the key and returns the first publication's
 * position instead of publishing again. Every key and the pub/sub channel share the hash tag
 * {@code {<channel>}}, so in Redis Cluster they live on one shard and the script is legal there.
 * The publisher's own subscribers get the publication back through Redis like everyone else:
 * one path, one order.
 *
 * <p><b>Subscribe, and why it scales to 100k channels.</b> Sharded pub/sub ({@code SSUBSCRIBE},
 * Redis 7) routes a publication only to the shard that owns its channel's slot and from there only
 * to the connections subscribed to that channel: nothing is broadcast to every node as classic
 * {@code PUBLISH} is in a cluster. Each instance subscribes only to channels that have local
 * subscribers: the {@link SubscriptionIndex} reports a channel's first and last local subscriber,
 * and one thread batches the resulting {@code SSUBSCRIBE}/{@code SUNSUBSCRIBE} (up to
 * {@value #BATCH} channels per command, grouped by slot in a cluster, where one command may only
 * name channels of one slot). Redis keeps a channel subscription as one dictionary
 * entry per (channel, connection), and each instance holds one pub/sub connection per shard, so
 * 100k channels cost 100k small entries spread over the shards and no per-message work for
 * channels nobody here listens to. After a reconnect (Redis restart, failover, slot move with
 * topology refresh) every wanted channel is subscribed again, in batches.
 *
 * <p><b>Faults.</b> While Redis is down, commands fail at once (no queue grows), publishing
 * answers {@link BrokerUnavailableException} (the API answers 503), and {@link #health()} is
 * degraded. An end-to-end canary publishes to this instance's private channel every
 * {@code broker.canary-interval}; a canary not back within {@code broker.canary-timeout} also
 * marks the broker degraded, which catches pub/sub that silently stopped delivering while the
 * command connection still answers.
 */
public final class RedisBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);
    static final int BATCH = 500;
    /** A channel nobody published to for this long (or its history TTL, if longer) starts a new epoch. */
    private static final long META_TTL_SECONDS = TimeUnit.DAYS.toSeconds(1);
    /**
     * KEYS: the channel's meta hash (offset, epoch), its history stream, the idempotency key.
     * ARGV: pub/sub channel, now (ms), data, meta TTL (s), history size, history TTL (s), a fresh
     * epoch in case the channel has none, idempotency key or "", idempotency window (ms).
     * Returns "offset epoch".
     */
    private static final String PUBLISH = """
            if ARGV[8] ~= '' then
              local seen = redis.call('GET', KEYS[3])
              if seen then return seen end
            end
            local epoch = redis.call('HGET', KEYS[1], 'epoch')
            if not epoch then
              epoch = ARGV[7]
              redis.call('HSET', KEYS[1], 'epoch', epoch)
              redis.call('DEL', KEYS[2])
            end
            local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
            redis.call('EXPIRE', KEYS[1], ARGV[4])
            local size = tonumber(ARGV[5])
            if size > 0 then
              redis.call('XADD', KEYS[2], 'MAXLEN', '~', size, offset .. '-1', 'd', ARGV[3])
              redis.call('EXPIRE', KEYS[2], ARGV[6])
            end
            redis.call('SPUBLISH', ARGV[1], offset .. ' ' .. epoch .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])
            local result = offset .. ' ' .. epoch
            if ARGV[8] ~= '' then redis.call('SET', KEYS[3], result, 'PX', ARGV[9]) end
            return result
            """;

    private final RedisConnection redis;
    private final RedisScript publishScript;
    private final RedisHistory history;
    private final SubscriptionIndex index;
    private final ByteBufAllocator alloc;
    private final GatewayMetrics metrics;
    private final Clock clock;
    private final String prefix;
    private final BrokerConfig config;
    private final GatewayConfig gatewayConfig;
    private final String canaryChannel;
    private final ScheduledExecutorService subscriptionThread;
    private final Set<String> dirty = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean flushScheduled = new AtomicBoolean();
    /** Channels subscribed in Redis; touched only on {@code subscriptionThread}. */
    private final Set<String> subscribed = new HashSet<>();
    /** Channels whose SSUBSCRIBE Redis confirmed (any thread reads; changes follow Redis's answers). */
    private final Set<String> confirmed = ConcurrentHashMap.newKeySet();
    /** Subscribers waiting for a channel's confirmation. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();
    /** Channels we asked Redis to unsubscribe, so that their SUNSUBSCRIBE is not taken for a slot move. */
    private final Set<String> unsubscribing = ConcurrentHashMap.newKeySet();
    private volatile long canarySentNanos;
    private volatile long canaryReceivedNanos = System.nanoTime();
    private volatile boolean closed;

    RedisBroker(RedisConnection redis, SubscriptionIndex index, ByteBufAllocator alloc, GatewayMetrics metrics, Clock clock,
            GatewayConfig gateway, ScheduledExecutorService subscriptionThread) {
        BrokerConfig config = gateway.broker();
        this.redis = redis;
        this.publishScript = new RedisScript(PUBLISH, true);
        this.history = new RedisHistory(redis, gateway.history(), config.redisPrefix() + ":");
        this.index = index;
        this.alloc = alloc;
        this.metrics = metrics;
        this.clock = clock;
        this.config = config;
        this.gatewayConfig = gateway;
        this.prefix = config.redisPrefix() + ":";
        this.canaryChannel = prefix + "{canary-" + config.instanceId() + "}";
        this.subscriptionThread = subscriptionThread;
        redis.addPubSubListener(new RedisPubSubAdapter<>() {
            @Override
            public void smessage(String channel, String message) {
                onMessage(channel, message);
            }

            @Override
            public void message(String channel, String message) {
                onMessage(channel, message);
            }

            /**
             * Redis also sends SUNSUBSCRIBE by itself when a slot moves to another shard (Lettuce
             * does not resubscribe then): a channel still wanted is subscribed again, after a
             * topology refresh so the command goes to the slot's new owner.
             */
            @Override
            public void sunsubscribed(String channel, long count) {
                if (closed || channel.equals(canaryChannel)) {
                    if (!closed && channel.equals(canaryChannel)) {
                        subscriptionThread.schedule(() -> redis.pubSub().ssubscribe(canaryChannel), 200, TimeUnit.MILLISECONDS);
                    }
                    return;
                }
                String name = channelOf(channel);
                if (name != null && !unsubscribing.remove(name)) {
                    confirmed.remove(name);
                    subscriptionThread.execute(() -> subscribed.remove(name));
                    redis.refreshTopology();
                    subscriptionThread.schedule(() -> channelChanged(name), 200, TimeUnit.MILLISECONDS);
                }
            }
        });
        redis.onReconnect(this::resubscribeAll);
        index.listener(this::channelChanged);
        redis.pubSub().ssubscribe(canaryChannel);
        long interval = config.canaryInterval().toMillis();
        subscriptionThread.scheduleAtFixedRate(this::canary, interval, interval, TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletableFuture<Position> publish(String channel, String dataJson, String idempotencyKey) {
        if (closed) {
            return CompletableFuture.failedFuture(new BrokerUnavailableException("broker closed"));
        }
        HistoryConfig.Rule rule = gatewayConfig.history().ruleFor(channel);
        String tag = prefix + "{" + channel + "}:";
        String[] keys = {tag + "meta", tag + "history", tag + "idem:" + (idempotencyKey == null ? "" : RedisKeys.tag(idempotencyKey))};
        CompletableFuture<Position> result = new CompletableFuture<>();
        publishScript.<String>run(redis.commands(), ScriptOutputType.VALUE, keys,
                        pubSubChannel(channel), Long.toString(clock.millis()), dataJson,
                        Long.toString(metaTtlSeconds(rule)), Integer.toString(rule.size()), Long.toString(Math.max(1, rule.ttl().toSeconds())),
                        Epochs.next(), idempotencyKey == null ? "" : idempotencyKey,
                        Long.toString(gatewayConfig.history().idempotencyWindow().toMillis()))
                .whenComplete((answer, failure) -> {
                    if (failure != null) {
                        log.debug("publish through redis failed: {}", failure.toString());
                        result.completeExceptionally(new BrokerUnavailableException("redis: " + failure.getMessage()));
                    } else {
                        int space = answer.indexOf(' ');
                        result.complete(new Position(Long.parseLong(answer.substring(0, space)), answer.substring(space + 1)));
                    }
                });
        return result;
    }

    @Override
    public CompletableFuture<Void> awaitSubscribed(String channel) {
        if (confirmed.contains(channel)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> future = waiting.computeIfAbsent(channel, c -> new CompletableFuture<>());
        if (confirmed.contains(channel) && waiting.remove(channel, future)) {
            future.complete(null); // confirmed between the check and the registration
        }
        long timeout = 2 * config.redisTimeout().toMillis() + 1000;
        return future.copy().orTimeout(timeout, TimeUnit.MILLISECONDS);
    }

    private void confirm(List<String> redisChannels) {
        for (String redisChannel : redisChannels) {
            String name = channelOf(redisChannel);
            if (name != null) {
                confirmed.add(name);
                CompletableFuture<Void> future = waiting.remove(name);
                if (future != null) {
                    future.complete(null);
                }
            }
        }
    }

    static long metaTtlSeconds(HistoryConfig.Rule rule) {
        return Math.max(META_TTL_SECONDS, rule.ttl().toSeconds());
    }

    @Override
    public History history() {
        return history;
    }

    /** Also records the state in the metrics, so an outage is counted whoever notices it first. */
    @Override
    public BrokerHealth health() {
        BrokerHealth health = currentHealth();
        metrics.brokerDegraded(!health.healthy());
        return health;
    }

    private BrokerHealth currentHealth() {
        if (closed) {
            return BrokerHealth.degraded("redis", "closed");
        }
        if (!redis.open()) {
            return BrokerHealth.degraded("redis", "redis connection down");
        }
        // Judged on the last canary that came back, not on the last one sent: a new canary every
        // interval must not keep resetting the clock of a pub/sub connection that stopped delivering.
        long allowed = config.canaryInterval().toNanos() + config.canaryTimeout().toNanos();
        if (canarySentNanos != 0 && System.nanoTime() - canaryReceivedNanos > allowed) {
            return BrokerHealth.degraded("redis", "canary not back within " + config.canaryTimeout());
        }
        return BrokerHealth.ok("redis");
    }

    String pubSubChannel(String channel) {
        return prefix + "{" + channel + "}";
    }

    private void onMessage(String redisChannel, String message) {
        if (redisChannel.equals(canaryChannel)) {
            canaryReceivedNanos = System.nanoTime();
            return;
        }
        String channel = channelOf(redisChannel);
        if (channel == null) {
            return;
        }
        int first = message.indexOf(' ');
        int second = message.indexOf(' ', first + 1);
        int third = message.indexOf(' ', second + 1);
        if (first < 0 || second < 0 || third < 0) {
            log.warn("malformed publication on {}", redisChannel);
            return;
        }
        long offset;
        long publishedAt;
        try {
            offset = Long.parseLong(message, 0, first, 10);
            publishedAt = Long.parseLong(message, second + 1, third, 10);
        } catch (NumberFormatException e) {
            log.warn("malformed publication on {}", redisChannel);
            return;
        }
        String epoch = message.substring(first + 1, second);
        metrics.brokerLag(Duration.ofMillis(clock.millis() - publishedAt));
        Publication publication = Publication.encode(alloc, channel, offset, epoch, message.substring(third + 1));
        try {
            metrics.delivered(index.publish(publication));
        } finally {
            publication.release();
        }
    }

    /** The gateway channel of a Redis pub/sub channel of ours, or null. */
    private String channelOf(String redisChannel) {
        if (!redisChannel.startsWith(prefix + "{") || !redisChannel.endsWith("}")) {
            return null;
        }
        return redisChannel.substring(prefix.length() + 1, redisChannel.length() - 1);
    }

    private void channelChanged(String channel) {
        if (closed) {
            return; // shutting down: Redis forgets this connection's subscriptions anyway
        }
        dirty.add(channel);
        if (flushScheduled.compareAndSet(false, true)) {
            try {
                subscriptionThread.execute(this::flush);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                flushScheduled.set(false);
            }
        }
    }

    /** Brings Redis subscriptions in line with the local index, in batches. Runs on the subscription thread. */
    private void flush() {
        flushScheduled.set(false);
        List<String> subscribe = new ArrayList<>();
        List<String> unsubscribe = new ArrayList<>();
        for (String channel : List.copyOf(dirty)) {
            dirty.remove(channel);
            boolean wanted = index.subscribers(channel) > 0;
            if (wanted && subscribed.add(channel)) {
                subscribe.add(pubSubChannel(channel));
            } else if (!wanted && subscribed.remove(channel)) {
                unsubscribing.add(channel);
                unsubscribe.add(pubSubChannel(channel));
            }
        }
        send(subscribe, true);
        send(unsubscribe, false);
    }

    /** In a cluster one SSUBSCRIBE may only name channels of one slot, so batches are formed per slot. */
    private void send(List<String> channels, boolean subscribe) {
        if (!config.redisCluster()) {
            sendBatches(channels, subscribe);
            return;
        }
        java.util.Map<Integer, List<String>> bySlot = new java.util.HashMap<>();
        for (String channel : channels) {
            bySlot.computeIfAbsent(SlotHash.getSlot(channel), slot -> new ArrayList<>()).add(channel);
        }
        bySlot.values().forEach(slotChannels -> sendBatches(slotChannels, subscribe));
    }

    private void sendBatches(List<String> channels, boolean subscribe) {
        for (int from = 0; from < channels.size(); from += BATCH) {
            List<String> batch = List.copyOf(channels.subList(from, Math.min(channels.size(), from + BATCH)));
            String[] names = batch.toArray(String[]::new);
            var command = subscribe ? redis.pubSub().ssubscribe(names) : redis.pubSub().sunsubscribe(names);
            if (!subscribe) {
                batch.forEach(redisChannel -> confirmed.remove(channelOf(redisChannel)));
            }
            command.whenComplete((ok, failure) -> {
                if (failure != null) {
                    log.warn("{} of {} channels failed (retrying): {}", subscribe ? "ssubscribe" : "sunsubscribe", names.length,
                            failure.toString());
                    retry(batch, subscribe);
                } else if (subscribe) {
                    confirm(batch);
                }
            });
        }
    }

    /** A failed (un)subscribe: forget the assumed state and try again in a second. */
    private void retry(List<String> redisChannels, boolean subscribe) {
        if (closed) {
            return;
        }
        List<String> names = redisChannels.stream().map(this::channelOf).filter(java.util.Objects::nonNull).toList();
        subscriptionThread.schedule(() -> {
            for (String name : names) {
                if (subscribe) {
                    subscribed.remove(name);
                } else {
                    subscribed.add(name);
                    unsubscribing.remove(name);
                }
                channelChanged(name);
            }
        }, 1, TimeUnit.SECONDS);
    }

    /** After a reconnect: every channel with local subscribers again (Redis forgot, or the slot moved). */
    private void resubscribeAll() {
        confirmed.clear();
        subscriptionThread.execute(() -> {
            subscribed.clear();
            dirty.addAll(index.channelNames());
            redis.pubSub().ssubscribe(canaryChannel);
            flush();
        });
    }

    private void canary() {
        if (closed) {
            return;
        }
        long sent = canarySentNanos;
        if (sent != 0 && canaryReceivedNanos - sent < 0) {
            metrics.canaryFailure();
        }
        health();
        canarySentNanos = System.nanoTime();
        redis.commands().spublish(canaryChannel, "canary").whenComplete((n, failure) -> {
            if (failure == null && n != null && n == 0) {
                // nobody listens on our canary channel: the pub/sub connection lost its subscription
                redis.pubSub().ssubscribe(canaryChannel);
            }
        });
    }

    @Override
    public void close() {
        closed = true;
    }
}
