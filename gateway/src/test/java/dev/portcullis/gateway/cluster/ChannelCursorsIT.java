package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.Subscriber;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.testing.MutableClock;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.Tokens;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link ChannelCursors} against a real Redis: publications are made by the real publish script
 * (so history entries and publish times are what production writes), and pub/sub arrivals are
 * played in the orders a failover produces: a jump, a replay, offsets handed out again.
 */
class ChannelCursorsIT {
    private static final String CHANNEL = "alerts";

    private RedisServer redis;
    private RedisConnection connection;
    private ScheduledExecutorService thread;
    private RedisBroker publisher;
    private RedisHistory history;
    private final MutableClock clock = new MutableClock(Instant.parse("2026-12-07T12:00:00Z"));
    private final List<String> received = new CopyOnWriteArrayList<>();
    private ChannelCursors cursors;
    private SubscriptionIndex index;
    private Subscriber recorder;

    @BeforeEach
    void start() {
        redis = RedisServer.start();
        GatewayConfig config = ConfigLoader.load(Map.of("auth.hmac-secret", Tokens.SECRET, "broker.type", "redis",
                "broker.redis-url", redis.url(), "broker.canary-interval", "1m"));
        connection = RedisConnection.connect(config.broker());
        thread = Executors.newSingleThreadScheduledExecutor();
        GatewayMetrics metrics = GatewayMetrics.create();
        publisher = new RedisBroker(connection, new SubscriptionIndex(), PooledByteBufAllocator.DEFAULT, metrics, clock, config, thread);
        history = new RedisHistory(connection, config.history(), "portcullis:");
        index = new SubscriptionIndex();
        Executor direct = Runnable::run;
        recorder = new Subscriber() {
            @Override
            public Executor executor() {
                return direct;
            }

            @Override
            public void deliver(Publication publication) {
                received.add((publication.isGap() ? "gap " : "") + (publication.channel().equals(CHANNEL) ? "" : publication.channel() + " ")
                        + publication.offset() + "/" + publication.epoch());
            }

            @Override
            public void flush() {}
        };
        index.subscribe(CHANNEL, recorder);
        cursors = new ChannelCursors(new ChannelCursors.Reader() {
            @Override
            public java.util.concurrent.CompletableFuture<HistoryPage> read(String channel, long since, int limit) {
                return history.read(channel, since, limit);
            }

            @Override
            public java.util.concurrent.CompletableFuture<Position> resetEpoch(String channel, String epoch) {
                return history.resetEpoch(channel, epoch);
            }
        }, index, PooledByteBufAllocator.DEFAULT, metrics.broker(), clock, thread);
        cursors.open(CHANNEL);
    }

    @AfterEach
    void stop() {
        publisher.close();
        thread.shutdownNow();
        connection.close();
        redis.close();
    }

    /** Publishes at the given publish time (ms after the clock's start) and returns what pub/sub would carry. */
    private ChannelCursors.Raw publish(long atMillis) throws Exception {
        clock.set(Instant.parse("2026-12-07T12:00:00Z").plusMillis(atMillis));
        Position position = publisher.publish(CHANNEL, "{\"at\":" + atMillis + "}", null).get(5, TimeUnit.SECONDS);
        return new ChannelCursors.Raw(position.offset(), position.epoch(), clock.millis(), "{\"at\":" + atMillis + "}");
    }

    private void awaitReceived(String... expected) {
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(received).containsExactly(expected));
    }

    @Test
    void aJumpIsFilledFromHistoryInOrderAndReplaysAreDropped() throws Exception {
        ChannelCursors.Raw first = publish(1000);
        String epoch = first.epoch();
        ChannelCursors.Raw[] more = {publish(2000), publish(3000), publish(4000), publish(5000)};
        cursors.publication(CHANNEL, first);
        cursors.publication(CHANNEL, more[3]); // 2-4 were lost on the way
        cursors.publication(CHANNEL, more[1]); // a replay
        cursors.publication(CHANNEL, more[3]); // a replay of the last one
        awaitReceived("1/" + epoch, "2/" + epoch, "3/" + epoch, "4/" + epoch, "5/" + epoch);
        Thread.sleep(300);
        assertThat(received).hasSize(5);
    }

    /**
     * Concurrent publishers' clocks are not in offset order: offset 3 can carry an earlier publish time
     * than offset 2. Filling a hole after it must not take that for reused offsets (CI caught this:
     * a spurious new epoch and a gap for a first subscriber).
     */
    @Test
    void publishTimesOutOfOffsetOrderAreNotMistakenForReusedOffsets() throws Exception {
        ChannelCursors.Raw one = publish(1000);
        ChannelCursors.Raw two = publish(5000);
        ChannelCursors.Raw three = publish(2000);
        publish(6000);
        ChannelCursors.Raw five = publish(7000);
        String epoch = one.epoch();
        cursors.publication(CHANNEL, one);
        cursors.publication(CHANNEL, two);
        cursors.publication(CHANNEL, three);
        cursors.publication(CHANNEL, five);
        awaitReceived("1/" + epoch, "2/" + epoch, "3/" + epoch, "4/" + epoch, "5/" + epoch);
        assertThat(history.read(CHANNEL, Long.MAX_VALUE - 1, 1).get(5, TimeUnit.SECONDS).position().epoch()).isEqualTo(epoch);
    }

    /**
     * A failover lost offsets 4 and 5 (the promoted replica never had them) and a publisher that did
     * not know handed 4 out again: the cursor sees the history behind what it delivered, starts a new
     * epoch in Redis and tells its subscribers with a gap; the old epoch's reuse is never delivered.
     */
    @Test
    void reusedOffsetsStartANewEpochAndAGap() throws Exception {
        String epoch = publish(1000).epoch();
        for (long at = 2000; at <= 5000; at += 1000) {
            publish(at);
        }
        for (HistoryPage.Entry entry : history.read(CHANNEL, 0, 10).get(5, TimeUnit.SECONDS).publications()) {
            cursors.publication(CHANNEL, new ChannelCursors.Raw(entry.offset(), epoch, entry.publishedAt(), entry.dataJson()));
        }
        awaitReceived("1/" + epoch, "2/" + epoch, "3/" + epoch, "4/" + epoch, "5/" + epoch);
        // What an asynchronous replica promoted in a failover looks like: offsets 4 and 5 are gone.
        redis.cli("HSET", "portcullis:{alerts}:meta", "offset", "3");
        redis.cli("XDEL", "portcullis:{alerts}:history", "4-1", "5-1");
        redis.cli("DEL", "portcullis:{alerts}:idem:x");
        ChannelCursors.Raw reused = new ChannelCursors.Raw(4, epoch, clock.millis() + 60_000, "{\"reused\":true}");
        redis.cli("EVAL", "redis.call('HINCRBY', KEYS[1], 'offset', 1) "
                + "redis.call('XADD', KEYS[2], '4-1', 'd', ARGV[1], 't', ARGV[2])", "2",
                "portcullis:{alerts}:meta", "portcullis:{alerts}:history", reused.data(), Long.toString(reused.publishedAt()));
        cursors.publication(CHANNEL, reused);
        await().atMost(Duration.ofSeconds(10)).until(() -> received.size() == 6);
        String newEpoch = history.read(CHANNEL, Long.MAX_VALUE - 1, 1).get(5, TimeUnit.SECONDS).position().epoch();
        assertThat(newEpoch).isNotEqualTo(epoch);
        assertThat(received.get(5)).isEqualTo("gap 0/" + newEpoch);
        cursors.publication(CHANNEL, new ChannelCursors.Raw(5, epoch, clock.millis() + 61_000, "{\"old\":true}"));
        ChannelCursors.Raw next = publish(70_000);
        assertThat(next.epoch()).isEqualTo(newEpoch);
        assertThat(next.offset()).isEqualTo(1);
        cursors.publication(CHANNEL, next);
        awaitReceived("1/" + epoch, "2/" + epoch, "3/" + epoch, "4/" + epoch, "5/" + epoch, "gap 0/" + newEpoch, "1/" + newEpoch);
    }

    /** The publish-side check: a publisher that knows the channel reached offset 5 starts a new epoch when Redis says 3. */
    @Test
    void aPublisherThatKnowsAHigherOffsetStartsANewEpoch() throws Exception {
        String epoch = publish(1000).epoch();
        for (long at = 2000; at <= 5000; at += 1000) {
            publish(at);
        }
        redis.cli("HSET", "portcullis:{alerts}:meta", "offset", "3");
        ChannelCursors.Raw after = publish(6000);
        assertThat(after.epoch()).isNotEqualTo(epoch);
        assertThat(after.offset()).isEqualTo(1);
        assertThat(history.read(CHANNEL, 0, 10).get(5, TimeUnit.SECONDS).publications()).extracting(HistoryPage.Entry::offset)
                .containsExactly(1L);
    }

    /**
     * A channel that keeps no history, subscribed again after an interruption in which nothing was
     * published: nothing is missing, so no gap (the check of the last offset's entry finds no entry
     * in a channel without history, which is not a hole).
     */
    @Test
    void aChannelWithoutHistoryMissedNothingAndGetsNoGap() throws Exception {
        String quiet = "quiet:1";
        index.subscribe(quiet, recorder);
        cursors.open(quiet);
        Position first = publisher.publish(quiet, "{\"n\":1}", null).get(5, TimeUnit.SECONDS);
        cursors.publication(quiet, new ChannelCursors.Raw(first.offset(), first.epoch(), clock.millis(), "{\"n\":1}"));
        cursors.resubscribed(quiet, true);
        Thread.sleep(500);
        assertThat(received).containsExactly("quiet:1 1/" + first.epoch());
        Position second = publisher.publish(quiet, "{\"n\":2}", null).get(5, TimeUnit.SECONDS);
        publisher.publish(quiet, "{\"n\":3}", null).get(5, TimeUnit.SECONDS);
        cursors.resubscribed(quiet, true); // two were published while "away", and there is no history to read them from
        await().atMost(Duration.ofSeconds(5)).until(() -> received.size() == 2);
        assertThat(received.get(1)).isEqualTo("gap quiet:1 3/" + second.epoch());
    }
}
