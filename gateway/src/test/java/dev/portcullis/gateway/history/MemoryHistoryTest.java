package dev.portcullis.gateway.history;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.config.HistoryConfig;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Issue 6 acceptance 5 and the history's own rules: bounds by size, age, bytes and channel count. */
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
            positions.add(history.append("feed", "{\"n\":" + i + "}", p -> {}));
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
        history.append("feed", "1", p -> {});
        now.addAndGet(6_000);
        history.append("feed", "2", p -> {});
        now.addAndGet(6_000);
        HistoryPage page = history.read("feed", 0, 10).join();
        assertThat(page.publications()).extracting(HistoryPage.Entry::offset).containsExactly(2L);
        assertThat(page.complete()).isFalse();
    }

    @Test
    void channelsWithoutAHistoryRuleStillGetOffsetsButKeepNothing() {
        MemoryHistory history = history(1 << 20, 1000);
        assertThat(history.append("chat:1", "{}", p -> {}).offset()).isEqualTo(1);
        assertThat(history.append("chat:1", "{}", p -> {}).offset()).isEqualTo(2);
        HistoryPage page = history.read("chat:1", 0, 10).join();
        assertThat(page.publications()).isEmpty();
        assertThat(page.complete()).isFalse();
        assertThat(page.position().offset()).isEqualTo(2);
    }

    @Test
    void aDroppedChannelComesBackWithANewEpoch() {
        MemoryHistory history = history(1 << 20, 2, new HistoryConfig.Rule("*", 10, Duration.ofHours(1)));
        Position first = history.append("a", "{}", p -> {});
        history.append("b", "{}", p -> {});
        history.append("c", "{}", p -> {}); // over two channels: "a", the least recently used, goes
        Position again = history.append("a", "{}", p -> {});
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
                history.append("room:" + channel, data, p -> {});
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

    private static long usedHeap() {
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
