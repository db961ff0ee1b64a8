package dev.portcullis.gateway.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.config.HistoryConfig;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 6 acceptance 5 and the history's own rules: bounds by size, age, bytes and channel count;
 * preparing outside the channel's lock with delivery in offset order; eviction off the publish path.
 */
class MemoryHistoryTest {
    private final AtomicLong now = new AtomicLong(1_000_000);

    private MemoryHistory history(int memoryBytes, int maxChannels, HistoryConfig.Rule... rules) {
        return new MemoryHistory(new HistoryConfig(List.of(rules), memoryBytes, maxChannels, Duration.ofMinutes(5)), now::get);
    }

    @Test
    void offsetsIncreaseByOneAndPagesAreOldestFirst() {
        MemoryHistory history = history(1 << 20, 1000, new HistoryConfig.Rule("feed", 3, Duration.ofHours(1)));
        List<Position> positions = new ArrayList<>();
        for (int i = 1; i <= 5; i++) {
            positions.add(history.append("feed", "{\"n\":" + i + "}"));
        }
        assertThat(positions).extracting(Position::offset).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(positions).extracting(Position::epoch).containsOnly(positions.get(0).epoch());
        HistoryPage page = history.read("feed", 2, 10).join();
        assertThat(page.complete()).as("size 3 keeps 3..5, so everything after 2 is there").isTrue();
        assertThat(page.publications()).extracting(HistoryPage.Entry::offset).containsExactly(3L, 4L, 5L);
        assertThat(history.read("feed", 1, 10).join().complete()).as("offset 2 is gone").isFalse();
        assertThat(history.read("feed", 5, 10).join().complete()).as("nothing missed").isTrue();
        assertThat(history.read("feed", 2, 2).join().publications()).extracting(HistoryPage.Entry::offset).containsExactly(3L, 4L);
    }

    @Test
    void entriesExpireByAge() {
        MemoryHistory history = history(1 << 20, 1000, new HistoryConfig.Rule("feed", 100, Duration.ofSeconds(10)));
        history.append("feed", "1");
        now.addAndGet(6_000);
        history.append("feed", "2");
        now.addAndGet(6_000);
        HistoryPage page = history.read("feed", 0, 10).join();
        assertThat(page.publications()).extracting(HistoryPage.Entry::offset).containsExactly(2L);
        assertThat(page.complete()).isFalse();
    }

    @Test
    void channelsWithoutAHistoryRuleStillGetOffsetsButKeepNothing() {
        MemoryHistory history = history(1 << 20, 1000);
        assertThat(history.append("chat:1", "{}").offset()).isEqualTo(1);
        assertThat(history.append("chat:1", "{}").offset()).isEqualTo(2);
        HistoryPage page = history.read("chat:1", 0, 10).join();
        assertThat(page.publications()).isEmpty();
        assertThat(page.complete()).isFalse();
        assertThat(page.position().offset()).isEqualTo(2);
    }

    @Test
    void aDroppedChannelComesBackWithANewEpoch() {
        MemoryHistory history = history(1 << 20, 2, new HistoryConfig.Rule("*", 10, Duration.ofHours(1)));
        Position first = history.append("a", "{}");
        history.append("b", "{}");
        history.append("c", "{}"); // over two channels: "a", the least recently used, goes
        Position again = history.append("a", "{}");
        assertThat(again.epoch()).isNotEqualTo(first.epoch());
        assertThat(again.offset()).isEqualTo(1);
        assertThat(history.channels()).isEqualTo(2);
    }

    @Test
    void aHundredThousandChannelsStayWithinTheConfiguredBytes() {
        int budget = 16 << 20;
        MemoryHistory history = history(budget, 1_000_000, new HistoryConfig.Rule("*", 50, Duration.ofHours(1)));
        String data = "{\"text\":\"" + "x".repeat(180) + "\"}";
        System.gc();
        long heapBefore = usedHeap();
        for (int channel = 0; channel < 100_000; channel++) {
            for (int i = 0; i < 5; i++) {
                history.append("room:" + channel, data);
            }
            assertThat(history.bytes()).isLessThanOrEqualTo(budget);
        }
        System.gc();
        long retained = usedHeap() - heapBefore;
        // 100k channels x 5 x ~200 bytes is ~100 MB of data: the history keeps its 16 MiB budget, and the
        // heap it really retains stays within twice that (object headers the estimate rounds).
        assertThat(history.bytes()).isLessThanOrEqualTo(budget);
        assertThat(retained).isLessThan(2L * budget);
        HistoryPage recent = history.read("room:99999", 0, 10).join();
        assertThat(recent.publications()).hasSize(5);
    }

    /** A publisher whose publication is still being prepared neither holds others up nor lets them overtake it. */
    @Test
    void preparingRunsOutsideTheLockAndDeliveryStaysInOffsetOrder() throws Exception {
        CountDownLatch preparing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        List<String> delivered = new CopyOnWriteArrayList<>();
        Delivery delivery = (channel, position, data) -> {
            if (position.offset() == 1) {
                preparing.countDown();
                await(release);
            }
            return () -> delivered.add(position.offset() + " on " + Thread.currentThread().getName());
        };
        MemoryHistory history = new MemoryHistory(new HistoryConfig(List.of(new HistoryConfig.Rule("feed", 10, Duration.ofHours(1))),
                1 << 20, 1000, Duration.ofMinutes(5)), now::get, delivery, Runnable::run);
        CompletableFuture<Position> slow = CompletableFuture.supplyAsync(() -> history.append("feed", "1"),
                r -> new Thread(r, "slow-publisher").start());
        assertThat(preparing.await(10, TimeUnit.SECONDS)).isTrue();
        Position second = CompletableFuture.supplyAsync(() -> history.append("feed", "2")).get(10, TimeUnit.SECONDS);
        assertThat(second.offset()).as("not held up by the first one's preparing").isEqualTo(2);
        assertThat(history.read("feed", 0, 10).join().publications()).as("both stored at once").hasSize(2);
        assertThat(delivered).as("2 waits for 1").isEmpty();
        release.countDown();
        assertThat(slow.get(10, TimeUnit.SECONDS).offset()).isEqualTo(1);
        assertThat(delivered).containsExactly("1 on slow-publisher", "2 on slow-publisher");
    }

    @Test
    void evictionRunsOnTheEvictorAndSparesAChannelStillHandingOff() throws Exception {
        Queue<Runnable> evictor = new ConcurrentLinkedQueue<>();
        CountDownLatch preparing = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        Delivery delivery = (channel, position, data) -> {
            if (channel.equals("a")) {
                preparing.countDown();
                await(release);
            }
            return () -> {};
        };
        MemoryHistory history = new MemoryHistory(new HistoryConfig(List.of(new HistoryConfig.Rule("*", 10, Duration.ofHours(1))),
                1 << 20, 3, Duration.ofMinutes(5)), now::get, delivery, evictor::add);
        CompletableFuture<Position> inFlight = CompletableFuture.supplyAsync(() -> history.append("a", "{}"));
        assertThat(preparing.await(10, TimeUnit.SECONDS)).isTrue();
        history.append("b", "{}");
        history.append("c", "{}");
        history.append("d", "{}");
        history.append("e", "{}");
        assertThat(history.channels()).as("the publishers only asked for an eviction").isEqualTo(5);
        assertThat(evictor).as("one eviction at a time").hasSize(1);
        evictor.poll().run();
        // The clock hand spares every channel once (all were just used), then drops in table order:
        // "a" is still handing off, so "b" and "c" go.
        assertThat(history.channels()).isEqualTo(3);
        assertThat(history.read("b", 0, 10).join().position().offset()).as("b starts again").isZero();
        release.countDown();
        Position a = inFlight.get(10, TimeUnit.SECONDS);
        Position next = history.append("a", "{}");
        assertThat(next.epoch()).isEqualTo(a.epoch());
        assertThat(next.offset()).isEqualTo(2);
    }

    /** The clock sweep: a channel published to since the hand passed it is spared once; an idle one goes. */
    @Test
    void aChannelUsedSinceTheHandPassedGetsASecondChance() {
        Queue<Runnable> evictor = new ConcurrentLinkedQueue<>();
        MemoryHistory history = new MemoryHistory(new HistoryConfig(List.of(new HistoryConfig.Rule("*", 10, Duration.ofHours(1))),
                1 << 20, 4, Duration.ofMinutes(5)), now::get, Delivery.NONE, evictor::add);
        for (String channel : List.of("a", "b", "c", "d", "e")) {
            history.append(channel, "{}");
        }
        evictor.poll().run(); // every flag cleared on the first pass; "a" goes on the second
        assertThat(history.channels()).isEqualTo(4);
        Position b = history.append("b", "{}"); // used again after the hand passed it
        Position c = history.read("c", 0, 1).join().position();
        history.append("f", "{}");
        evictor.poll().run(); // the hand goes on from "b": spared, "c" is not
        assertThat(history.read("b", 0, 10).join().position()).isEqualTo(b);
        assertThat(history.read("c", 0, 10).join().position().epoch()).isNotEqualTo(c.epoch());
    }

    private static void await(CountDownLatch latch) {
        try {
            if (!latch.await(10, TimeUnit.SECONDS)) {
                throw new AssertionError("not released");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private static long usedHeap() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
