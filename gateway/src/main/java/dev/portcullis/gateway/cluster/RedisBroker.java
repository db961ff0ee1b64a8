package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.broker.BrokerHealth;
import dev.portcullis.gateway.broker.BrokerUnavailableException;
import dev.portcullis.gateway.broker.PublishOutcomeUnknownException;
import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.BrokerConfig;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.config.HistoryConfig;
import dev.portcullis.gateway.history.Epochs;
import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.BrokerMetrics;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.netty.buffer.ByteBufAllocator;
import java.time.Clock;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
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
 * The script first looks for the publish's idempotency key and returns the first publication's
 * position instead of publishing again (see <b>Outcomes</b>). Every key and the pub/sub channel
 * share the hash tag {@code {<channel>}}, so in Redis Cluster they live on one shard and the script
 * is legal there.
 * The publisher's own subscribers get the publication back through Redis like everyone else:
 * one path, one order. Each stream entry also keeps the publish time, which tells two
 * publications at one offset apart (below).
 *
 * <p><b>Offsets are never reused within an epoch.</b> Redis replicates asynchronously: a failover
 * can lose publications the master had acknowledged, and the promoted replica would hand their
 * offsets out again. Every instance knows the highest position it has published or delivered
 * ({@link ChannelCursors#known}) and the script gets it: if the channel's counter is behind it in
 * the same epoch, the script starts a new epoch (empty history, offset 1) before it publishes.
 * Delivery checks the same from the other side (see {@link ChannelCursors}).
 *
 * <p><b>Outcomes.</b> Every publish carries an idempotency key (the caller's, or a generated one).
 * A publish is refused with {@link BrokerUnavailableException} only when it certainly was not made:
 * the connection was down, so the script was never sent, or Redis answered with an error. When the
 * script was sent and no answer came in time (a stall, a failover; Lettuce may even replay it after
 * reconnecting), the future fails with {@link PublishOutcomeUnknownException} carrying the key: a
 * retry with it publishes at most once, whichever happened.
 *
 * <p><b>Delivery</b> goes through {@link ChannelCursors}: exactly once and in offset order per
 * channel, with holes (an interrupted subscription) filled from the history. Subscriptions follow
 * local interest ({@link RedisSubscriptions}).
 *
 * <p><b>Faults.</b> While Redis is down, commands fail at once (no queue grows), publishing
 * answers {@link BrokerUnavailableException} (the API answers 503), and {@link #health()} is
 * degraded; so is it from the first command that times out until one succeeds again, and while a
 * shard's canary is late ({@link RedisCanaries}).
 */
public final class RedisBroker implements Broker {
    private static final Logger log = LoggerFactory.getLogger(RedisBroker.class);
    /** A channel nobody published to for this long (or its history TTL, if longer) starts a new epoch. */
    private static final long META_TTL_SECONDS = TimeUnit.DAYS.toSeconds(1);
    /**
     * KEYS: the channel's meta hash (offset, epoch), its history stream, the idempotency key.
     * ARGV: pub/sub channel, now (ms), data, meta TTL (s), history size, history TTL (s), a fresh
     * epoch in case the channel has none, idempotency key, idempotency window (ms), the epoch and
     * offset this instance knows the channel reached ("" and 0 when it knows none).
     * Returns "offset epoch", with " reset" when the known position showed lost writes.
     */
    private static final String PUBLISH = """
            local seen = redis.call('GET', KEYS[3])
            if seen then return seen end
            local epoch = redis.call('HGET', KEYS[1], 'epoch')
            local reset = ''
            if epoch and epoch == ARGV[10] and tonumber(redis.call('HGET', KEYS[1], 'offset') or '0') < tonumber(ARGV[11]) then
              epoch = nil
              reset = ' reset'
            end
            if not epoch then
              epoch = ARGV[7]
              redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
              redis.call('DEL', KEYS[2])
            end
            local offset = redis.call('HINCRBY', KEYS[1], 'offset', 1)
            redis.call('EXPIRE', KEYS[1], ARGV[4])
            local size = tonumber(ARGV[5])
            if size > 0 then
              redis.call('XADD', KEYS[2], 'MAXLEN', '~', size, offset .. '-1', 'd', ARGV[3], 't', ARGV[2])
              redis.call('EXPIRE', KEYS[2], ARGV[6])
            end
            redis.call('SPUBLISH', ARGV[1], offset .. ' ' .. epoch .. ' ' .. ARGV[2] .. ' ' .. ARGV[3])
            local result = offset .. ' ' .. epoch
            redis.call('SET', KEYS[3], result, 'PX', ARGV[9])
            return result .. reset
            """;

    private final RedisConnection redis;
    private final RedisScript publishScript;
    private final RedisHistory history;
    private final ChannelCursors cursors;
    private final RedisSubscriptions subscriptions;
    private final BrokerMetrics metrics;
    private final Clock clock;
    private final String prefix;
    private final BrokerConfig config;
    private final GatewayConfig gatewayConfig;
    private final RedisCanaries canaries;
    private final ScheduledExecutorService subscriptionThread;
    private final SubscriptionIndex index;
    private final ByteBufAllocator alloc;
    private volatile boolean closed;

    RedisBroker(RedisConnection redis, SubscriptionIndex index, ByteBufAllocator alloc, GatewayMetrics metrics, Clock clock,
            GatewayConfig gateway, ScheduledExecutorService subscriptionThread) {
        BrokerConfig config = gateway.broker();
        this.redis = redis;
        this.index = index;
        this.alloc = alloc;
        this.publishScript = new RedisScript(PUBLISH, true);
        this.history = new RedisHistory(redis, gateway.history(), config.redisPrefix() + ":");
        this.metrics = metrics.broker();
        this.clock = clock;
        this.config = config;
        this.gatewayConfig = gateway;
        this.prefix = config.redisPrefix() + ":";
        this.subscriptionThread = subscriptionThread;
        redis.metrics(this.metrics);
        this.cursors = new ChannelCursors(new ChannelCursors.Reader() {
            @Override
            public CompletableFuture<HistoryPage> read(String channel, long since, int limit) {
                return history.read(channel, since, limit);
            }

            @Override
            public CompletableFuture<Position> resetEpoch(String channel, String epoch) {
                return history.resetEpoch(channel, epoch);
            }
        }, index, alloc, this.metrics, clock, subscriptionThread);
        this.subscriptions = new RedisSubscriptions(redis, index, cursors, subscriptionThread, prefix, config.redisCluster(),
                2 * config.redisTimeout().toMillis() + 1000);
        this.metrics.subscriptionsWaiting(subscriptions::waitingCount);
        this.canaries = new RedisCanaries(redis, subscriptions, this.metrics, config.instanceId(), config.canaryInterval(),
                config.canaryTimeout());
        redis.addPubSubListener(new RedisPubSubAdapter<>() {
            @Override
            public void smessage(String channel, String message) {
                onMessage(channel, message);
            }

            @Override
            public void message(String channel, String message) {
                onMessage(channel, message);
            }
        });
        subscriptionThread.execute(this::canary); // the canaries' subscriptions start now, their first round after an interval
        long interval = config.canaryInterval().toMillis();
        subscriptionThread.scheduleAtFixedRate(this::canary, interval, interval, TimeUnit.MILLISECONDS);
    }

    @Override
    public CompletableFuture<Position> publish(String channel, String dataJson, String idempotencyKey) {
        if (closed) {
            return CompletableFuture.failedFuture(new BrokerUnavailableException("broker closed"));
        }
        if (!redis.open()) {
            // Not sent at all: certainly not published.
            return CompletableFuture.failedFuture(new BrokerUnavailableException("redis connection down"));
        }
        String key = idempotencyKeyFor(idempotencyKey);
        HistoryConfig.Rule rule = gatewayConfig.history().ruleFor(channel);
        String tag = prefix + "{" + channel + "}:";
        String[] keys = {tag + "meta", tag + "history", tag + "idem:" + RedisKeys.tag(key)};
        Position known = cursors.known(channel);
        CompletableFuture<Position> result = new CompletableFuture<>();
        publishScript.<String>run(redis.commands(), ScriptOutputType.VALUE, keys,
                        subscriptions.pubSubChannel(channel), Long.toString(clock.millis()), dataJson,
                        Long.toString(metaTtlSeconds(rule)), Integer.toString(rule.size()), Long.toString(Math.max(1, rule.ttl().toSeconds())),
                        Epochs.next(), key, Long.toString(gatewayConfig.history().idempotencyWindow().toMillis()),
                        known == null ? "" : known.epoch(), known == null ? "0" : Long.toString(known.offset()))
                .whenComplete((answer, failure) -> {
                    if (failure != null) {
                        result.completeExceptionally(outcome(failure, key));
                        return;
                    }
                    String[] parts = answer.split(" ");
                    Position position = new Position(Long.parseLong(parts[0]), parts[1]);
                    if (parts.length > 2) {
                        metrics.epochReset();
                        cursors.lostWrites(known.epoch(), known.offset());
                    }
                    cursors.published(channel, position);
                    result.complete(position);
                });
        return result;
    }

    /**
     * What a failed publish means. Redis answered with an error, or the command was refused before
     * it was sent: not published. Anything else (a timeout, the connection dropping while the script
     * was in flight) may have published it.
     */
    private static RuntimeException outcome(Throwable failure, String key) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof RedisCommandExecutionException
                || (cause instanceof RedisException && String.valueOf(cause.getMessage()).startsWith("Currently not connected"))) {
            log.debug("publish through redis refused: {}", cause.toString());
            return new BrokerUnavailableException("redis: " + cause.getMessage());
        }
        log.debug("publish through redis without an answer: {}", cause.toString());
        return new PublishOutcomeUnknownException(key, "redis: " + cause.getMessage());
    }

    /** A publish that came without a key gets one: 128 random bits, so a retry with it is safe. */
    @Override
    public String idempotencyKeyFor(String given) {
        if (given != null) {
            return given;
        }
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return "g" + Long.toHexString(random.nextLong() | Long.MIN_VALUE) + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
    }

    @Override
    public CompletableFuture<Void> awaitSubscribed(String channel) {
        return subscriptions.awaitSubscribed(channel);
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
        metrics.degraded(!health.healthy());
        return health;
    }

    /** The most specific reason first: a late canary names its shard (in a cluster, one node may be down and the rest fine). */
    private BrokerHealth currentHealth() {
        if (closed) {
            return BrokerHealth.degraded("redis", "closed");
        }
        String late = canaries.late();
        if (late != null) {
            return BrokerHealth.degraded("redis", late);
        }
        if (!redis.open()) {
            return BrokerHealth.degraded("redis", "redis connection down");
        }
        if (redis.stalled()) {
            return BrokerHealth.degraded("redis", "redis commands time out");
        }
        return BrokerHealth.ok("redis");
    }

    /**
     * {@code "<offset> <epoch> <publishedAtMillis> <data>"} from the publish script, to the channel's
     * cursor; or {@code "e <connection> <event>"}, a join or leave from {@link RedisChannelPresence}
     * on the same pub/sub channel, straight to the local subscribers (no offset, so no cursor).
     */
    private void onMessage(String redisChannel, String message) {
        if (canaries.received(redisChannel)) {
            return;
        }
        String channel = subscriptions.channelOf(redisChannel);
        if (channel == null) {
            return;
        }
        if (message.startsWith("e ")) {
            int space = message.indexOf(' ', 2);
            if (space < 0) {
                log.warn("malformed presence event on {}", redisChannel);
                return;
            }
            Publication event = Publication.event(alloc, channel, message.substring(2, space), message.substring(space + 1));
            try {
                index.publish(event);
            } finally {
                event.release();
            }
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
        cursors.publication(channel, new ChannelCursors.Raw(offset, message.substring(first + 1, second), publishedAt,
                message.substring(third + 1)));
    }

    private void canary() {
        if (closed) {
            return;
        }
        health();
        canaries.tick();
    }

    @Override
    public void close() {
        closed = true;
        subscriptions.close();
    }
}
