package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntSupplier;

/**
 * The broker's meters: health, the canary per shard, Redis connection and command faults, and what
 * a failover cost (publications caught up from history, holes it could not fill, epochs restarted,
 * publishes whose outcome was unknown). Created by {@link GatewayMetrics}, like every meter.
 * Thread-safe.
 */
public final class BrokerMetrics {
    /** More shards than any Redis Cluster we support has masters; a label beyond it goes to "other". */
    static final int MAX_SHARDS = 1024;

    private final MeterRegistry registry;
    private final Timer lag;
    private final Counter outages;
    private final AtomicInteger degraded = new AtomicInteger();
    private final Counter canaryFailures;
    private final ConcurrentMap<String, AtomicInteger> shardDegraded = new ConcurrentHashMap<>();
    private final TaggedCounters connectionEvents;
    private final Counter commandTimeouts;
    private final Counter caughtUp;
    private final TaggedCounters gaps;
    private final Counter epochResets;
    private final TaggedCounters unknownOutcomes;

    BrokerMetrics(MeterRegistry registry) {
        this.registry = registry;
        lag = Timer.builder("portcullis.broker.lag")
                .description("Publish-to-delivery lag through the broker (publisher's clock to receiver's clock)")
                .serviceLevelObjectives(
                        Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
                        Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                        Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(5))
                .register(registry);
        outages = Counter.builder("portcullis.broker.outages")
                .description("Times the broker went from healthy to degraded (Redis down, a command timed out, a shard's canary lost or late)")
                .register(registry);
        Gauge.builder("portcullis.broker.degraded", degraded, AtomicInteger::get)
                .description("1 while the broker is degraded, else 0")
                .register(registry);
        canaryFailures = Counter.builder("portcullis.broker.canary.failures")
                .description("Canary round trips through the broker that were lost or too slow")
                .register(registry);
        connectionEvents = new TaggedCounters(registry, "portcullis.redis.connection.events",
                "Redis node connections lost and restored (once per node and state change)", "event", Set.of("lost", "restored"), 2);
        commandTimeouts = Counter.builder("portcullis.redis.command.timeouts")
                .description("Redis commands that got no answer within broker.redis-timeout")
                .register(registry);
        caughtUp = Counter.builder("portcullis.broker.caught.up")
                .description("Publications read back from a channel's history to fill a hole in this instance's subscription (failover, reconnect)")
                .register(registry);
        gaps = new TaggedCounters(registry, "portcullis.broker.gaps",
                "Holes in a channel that history could not fill; its local subscribers were told (gap)", "reason",
                Set.of("history_trimmed", "epoch_changed", "offsets_reused", "unavailable"), 4);
        epochResets = Counter.builder("portcullis.broker.epoch.resets")
                .description("Channels this instance moved to a new epoch because Redis lost acknowledged publications (offsets went back)")
                .register(registry);
        unknownOutcomes = new TaggedCounters(registry, "portcullis.publish.outcome.unknown",
                "Publishes answered outcome_unknown (sent to Redis, no answer in time), by source", "source", Set.of("api", "client"), 2);
    }

    /**
     * The channels whose subscribers wait for Redis to confirm the subscription: above 0 for more
     * than a moment means Redis is not taking subscriptions (it stays bounded by the channels wanted).
     */
    public void subscriptionsWaiting(IntSupplier channels) {
        Gauge.builder("portcullis.broker.subscriptions.waiting", channels, IntSupplier::getAsInt)
                .description("Channels whose local subscribers wait for Redis to confirm the subscription")
                .strongReference(true) // the supplier is a method reference nothing else holds
                .register(registry);
    }

    public void lag(Duration value) {
        lag.record(value.isNegative() ? Duration.ZERO : value);
    }

    /** The broker's health changed; a change to degraded counts one outage. */
    public void degraded(boolean value) {
        if (degraded.getAndSet(value ? 1 : 0) == 0 && value) {
            outages.increment();
        }
    }

    public void canaryFailure() {
        canaryFailures.increment();
    }

    /**
     * One shard's state (a shard is a slot range in a cluster, {@code all} otherwise), as the gauge
     * {@code portcullis_broker_shard_degraded{shard}}.
     */
    public void shardDegraded(String shard, boolean value) {
        AtomicInteger gauge = shardDegraded.get(shard);
        if (gauge == null) {
            String label = shardDegraded.size() < MAX_SHARDS ? shard : "other";
            gauge = shardDegraded.computeIfAbsent(label, name -> {
                AtomicInteger created = new AtomicInteger();
                Gauge.builder("portcullis.broker.shard.degraded", created, AtomicInteger::get)
                        .description("1 while a shard's canary is lost or late or its pub/sub connection is down, else 0")
                        .tag("shard", name)
                        .register(registry);
                return created;
            });
        }
        gauge.set(value ? 1 : 0);
    }

    /** @param lost true when a node's connection went down, false when it came back */
    public void connectionEvent(boolean lost) {
        connectionEvents.increment(lost ? "lost" : "restored");
    }

    public void commandTimeout() {
        commandTimeouts.increment();
    }

    public void caughtUp(int publications) {
        if (publications > 0) {
            caughtUp.increment(publications);
        }
    }

    /** @param reason {@code history_trimmed}, {@code epoch_changed}, {@code offsets_reused} or {@code unavailable} */
    public void gap(String reason) {
        gaps.increment(reason);
    }

    public void epochReset() {
        epochResets.increment();
    }

    /** @param source {@code api} or {@code client} */
    public void outcomeUnknown(String source) {
        unknownOutcomes.increment(source);
    }
}
