package dev.portcullis.gateway.broker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.Subscriber;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.HistoryConfig;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.netty.buffer.PooledByteBufAllocator;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The local broker with the real index and history: ordering under concurrent publishers. */
class LocalBrokerTest {
    private static final int PUBLISHERS = 4;
    private static final int EACH = 5_000;
    private static final int TOTAL = PUBLISHERS * EACH;

    private final ExecutorService loopA = Executors.newSingleThreadExecutor();
    private final ExecutorService loopB = Executors.newSingleThreadExecutor();
    private final ExecutorService publishers = Executors.newFixedThreadPool(PUBLISHERS);
    private final GatewayMetrics metrics = GatewayMetrics.create();

    @AfterEach
    void stop() throws InterruptedException {
        for (ExecutorService executor : List.of(loopA, loopB, publishers)) {
            executor.shutdownNow();
            assertThat(executor.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        }
    }

    /** Records the offsets it is handed, on its own single-threaded executor (a stand-in for one event loop). */
    private static final class Recorder implements Subscriber {
        final ExecutorService loop;
        final List<Long> offsets = new ArrayList<>();
        final CountDownLatch all = new CountDownLatch(TOTAL);

        Recorder(ExecutorService loop) {
            this.loop = loop;
        }

        @Override
        public ExecutorService executor() {
            return loop;
        }

        @Override
        public void deliver(Publication publication) {
            offsets.add(publication.offset());
            all.countDown();
        }

        @Override
        public void flush() {}
    }

    @Test
    void concurrentPublishersOnOneChannelReachEverySubscriberInOffsetOrderWithoutGaps() throws Exception {
        SubscriptionIndex index = new SubscriptionIndex();
        HistoryConfig config = new HistoryConfig(List.of(new HistoryConfig.Rule("alerts", TOTAL, Duration.ofHours(1))),
                64 << 20, 1000, Duration.ofMinutes(5));
        LocalBroker broker = new LocalBroker(index, PooledByteBufAllocator.DEFAULT, metrics, config, 60_000,
                System::currentTimeMillis, Runnable::run);
        Recorder a = new Recorder(loopA);
        Recorder b = new Recorder(loopB);
        loopA.submit(() -> index.subscribe("alerts", a)).get();
        loopB.submit(() -> index.subscribe("alerts", b)).get();

        CyclicBarrier start = new CyclicBarrier(PUBLISHERS);
        Set<Long> acknowledged = ConcurrentHashMap.newKeySet();
        List<Future<?>> done = new ArrayList<>();
        for (int p = 0; p < PUBLISHERS; p++) {
            int publisher = p;
            done.add(publishers.submit(() -> {
                start.await();
                for (int i = 0; i < EACH; i++) {
                    Position position = broker.publish("alerts", "{\"p\":" + publisher + ",\"i\":" + i + "}").join();
                    acknowledged.add(position.offset());
                }
                return null;
            }));
        }
        for (Future<?> publisher : done) {
            publisher.get(30, TimeUnit.SECONDS);
        }
        assertThat(acknowledged).as("every publish got its own offset").hasSize(TOTAL);
        for (Recorder recorder : List.of(a, b)) {
            assertThat(recorder.all.await(30, TimeUnit.SECONDS)).as("every publication delivered").isTrue();
            List<Long> offsets = recorder.loop.submit(() -> List.copyOf(recorder.offsets)).get();
            List<Long> expected = new ArrayList<>();
            for (long offset = 1; offset <= TOTAL; offset++) {
                expected.add(offset);
            }
            assertThat(offsets).as("offset order, no gap, no duplicate").isEqualTo(expected);
        }
        HistoryPage page = broker.history().read("alerts", 0, TOTAL).join();
        assertThat(page.position().offset()).isEqualTo(TOTAL);
        assertThat(page.publications()).extracting(HistoryPage.Entry::offset).isEqualTo(a.loop.submit(() -> List.copyOf(a.offsets)).get());
        broker.close();
    }
}
