package dev.portcullis.gateway.history;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.gateway.config.HistoryConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The snapshot file of the local history: a clean round trip, today's bounds on load, and files that must not be used. */
class HistorySnapshotTest {
    private static final HistoryConfig.Rule ALERTS = new HistoryConfig.Rule("alerts", 100, Duration.ofHours(1));
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    @TempDir
    Path dir;

    private MemoryHistory history(int memoryBytes, int maxChannels, HistoryConfig.Rule... rules) {
        return new MemoryHistory(new HistoryConfig(List.of(rules), memoryBytes, maxChannels, Duration.ofMinutes(5)), now::get);
    }

    private static List<String> data(HistoryPage page) {
        return page.publications().stream().map(HistoryPage.Entry::dataJson).toList();
    }

    @Test
    void aCleanSnapshotKeepsEpochsOffsetsAndPublicationsAndIsConsumedByTheLoad() throws Exception {
        Path file = dir.resolve("history.snapshot");
        MemoryHistory before = history(1 << 20, 1000, ALERTS);
        for (int i = 1; i <= 5; i++) {
            before.append("alerts", "{\"n\":" + i + "}");
        }
        Position chat = null;
        for (int i = 1; i <= 3; i++) {
            chat = before.append("chat:1", "{}"); // no history rule: only the offset is kept
        }
        String epoch = before.read("alerts", 0, 1).join().position().epoch();
        HistorySnapshot.save(file, before);
        assertThatThrownBy(() -> before.append("alerts", "{}")).as("sealed: nothing after the snapshot").isInstanceOf(IllegalStateException.class);

        MemoryHistory after = history(1 << 20, 1000, ALERTS);
        assertThat(HistorySnapshot.load(file, after)).isEqualTo(new HistorySnapshot.Loaded(HistorySnapshot.Outcome.RESTORED, 2));
        assertThat(file).as("consumed: a crash later cannot bring it back").doesNotExist();
        HistoryPage page = after.read("alerts", 2, 10).join();
        assertThat(page.position()).isEqualTo(new Position(5, epoch));
        assertThat(page.complete()).isTrue();
        assertThat(data(page)).containsExactly("{\"n\":3}", "{\"n\":4}", "{\"n\":5}");
        assertThat(after.append("alerts", "{\"n\":6}")).as("offsets continue in the same epoch").isEqualTo(new Position(6, epoch));
        assertThat(after.append("chat:1", "{}")).isEqualTo(new Position(4, chat.epoch()));

        MemoryHistory again = history(1 << 20, 1000, ALERTS);
        assertThat(HistorySnapshot.load(file, again).outcome()).isEqualTo(HistorySnapshot.Outcome.NONE);
        assertThat(again.read("alerts", 0, 10).join().position().epoch()).as("a new epoch").isNotEqualTo(epoch);
    }

    @Test
    void loadingKeepsTodaysRulesAgeAndBudget() throws Exception {
        Path file = dir.resolve("history.snapshot");
        MemoryHistory before = history(1 << 20, 1000, ALERTS, new HistoryConfig.Rule("room:*", 100, Duration.ofHours(1)));
        for (int i = 1; i <= 10; i++) {
            before.append("alerts", "{\"n\":" + i + "}");
        }
        now.addAndGet(Duration.ofMinutes(40).toMillis());
        for (int i = 11; i <= 20; i++) {
            before.append("alerts", "{\"n\":" + i + "}");
        }
        String data = "{\"text\":\"" + "x".repeat(90) + "\"}"; // 101 bytes: 165 counted per entry
        for (int room = 0; room < 10; room++) {
            now.incrementAndGet(); // the snapshot lists channels by their last publish, newest first
            for (int i = 0; i < 3; i++) {
                before.append("room:" + room, data);
            }
        }
        List<String> epochs = java.util.stream.IntStream.range(0, 10)
                .mapToObj(room -> before.read("room:" + room, 0, 1).join().position().epoch()).toList();
        String alertsEpoch = before.read("alerts", 0, 1).join().position().epoch();
        HistorySnapshot.save(file, before);

        now.addAndGet(Duration.ofMinutes(30).toMillis()); // the first ten alerts are 70 minutes old now
        // Today's budget: 3701 bytes. A room counts 172 + 3 x 165 = 667: rooms 9..5 take 3335,
        // room 4 its 172 and its newest entry (3672), and nothing else fits.
        MemoryHistory after = history(3701, 1000, ALERTS, new HistoryConfig.Rule("room:*", 100, Duration.ofHours(1)));
        HistorySnapshot.Loaded loaded = HistorySnapshot.load(file, after);
        assertThat(loaded).isEqualTo(new HistorySnapshot.Loaded(HistorySnapshot.Outcome.RESTORED, 6));
        assertThat(after.bytes()).isEqualTo(3672);
        for (int room = 9; room >= 5; room--) {
            HistoryPage page = after.read("room:" + room, 0, 10).join();
            assertThat(page.position()).isEqualTo(new Position(3, epochs.get(room)));
            assertThat(page.publications()).hasSize(3);
        }
        HistoryPage partly = after.read("room:4", 0, 10).join();
        assertThat(partly.position()).isEqualTo(new Position(3, epochs.get(4)));
        assertThat(partly.publications()).as("the newest that fit, never a gap").extracting(HistoryPage.Entry::offset).containsExactly(3L);
        assertThat(partly.complete()).isFalse();
        for (int room = 0; room < 4; room++) {
            assertThat(after.read("room:" + room, 0, 10).join().position().epoch()).isNotEqualTo(epochs.get(room));
        }
        assertThat(after.read("alerts", 0, 10).join().position().epoch()).as("least recently used: did not fit").isNotEqualTo(alertsEpoch);

        // With room for everything: today's size and age rules still apply.
        MemoryHistory before2 = history(1 << 20, 1000, ALERTS);
        for (int i = 1; i <= 10; i++) {
            before2.append("alerts", "{\"n\":" + i + "}");
        }
        now.addAndGet(Duration.ofMinutes(40).toMillis());
        for (int i = 11; i <= 20; i++) {
            before2.append("alerts", "{\"n\":" + i + "}");
        }
        String epoch2 = before2.read("alerts", 0, 1).join().position().epoch();
        HistorySnapshot.save(file, before2);
        now.addAndGet(Duration.ofMinutes(30).toMillis());
        MemoryHistory after2 = history(1 << 20, 1000, new HistoryConfig.Rule("alerts", 5, Duration.ofHours(1)));
        HistorySnapshot.load(file, after2);
        HistoryPage page = after2.read("alerts", 0, 100).join();
        assertThat(page.position()).isEqualTo(new Position(20, epoch2));
        assertThat(page.publications()).extracting(HistoryPage.Entry::offset).containsExactly(16L, 17L, 18L, 19L, 20L);
        assertThat(after2.read("alerts", 15, 100).join().complete()).isTrue();
        assertThat(after2.read("alerts", 14, 100).join().complete()).isFalse();

        MemoryHistory before3 = history(1 << 20, 1000, ALERTS);
        before3.append("alerts", "{}");
        now.addAndGet(Duration.ofMinutes(30).toMillis());
        HistorySnapshot.save(file, before3); // 30 minutes old: written
        now.addAndGet(Duration.ofMinutes(31).toMillis());
        MemoryHistory after3 = history(1 << 20, 1000, ALERTS);
        HistorySnapshot.load(file, after3);
        assertThat(after3.bytes()).as("expired while the gateway was down: not restored")
                .isEqualTo(MemoryHistory.CHANNEL_OVERHEAD + 2 * "alerts".length());
        assertThat(after3.read("alerts", 0, 10).join().publications()).isEmpty();

        MemoryHistory before4 = history(1 << 20, 1000, ALERTS);
        for (int room = 0; room < 5; room++) {
            now.incrementAndGet();
            before4.append("room:" + room, "{}");
        }
        HistorySnapshot.save(file, before4);
        MemoryHistory after4 = history(1 << 20, 3, ALERTS);
        assertThat(HistorySnapshot.load(file, after4).channels()).as("today's history.max-channels").isEqualTo(3);
        assertThat(after4.channels()).isEqualTo(3);
        assertThat(after3.read("alerts", 0, 10).join().position().offset()).isEqualTo(1);
    }

    @Test
    void aCorruptOrForeignFileIsNeverServedAndNeverStopsTheStart() throws Exception {
        Path file = dir.resolve("history.snapshot");
        MemoryHistory source = history(1 << 20, 1000, ALERTS);
        for (int i = 1; i <= 20; i++) {
            source.append("alerts", "{\"n\":" + i + "}");
        }
        String epoch = source.read("alerts", 0, 1).join().position().epoch();
        HistorySnapshot.save(file, source);
        byte[] sound = Files.readAllBytes(file);

        byte[] flipped = sound.clone();
        flipped[flipped.length / 2] ^= 0x01; // a bit in the middle of some data
        byte[] newerVersion = sound.clone();
        newerVersion[7] = 2;
        byte[] hugeCount = sound.clone();
        hugeCount[16] = 0x7f;
        for (byte[] bad : List.of(flipped, java.util.Arrays.copyOf(sound, sound.length - 3), newerVersion, hugeCount,
                "hello".getBytes(), new byte[0], concat(sound, new byte[] {0}))) {
            Files.write(file, bad);
            MemoryHistory history = history(1 << 20, 1000, ALERTS);
            assertThat(HistorySnapshot.load(file, history)).isEqualTo(new HistorySnapshot.Loaded(HistorySnapshot.Outcome.CORRUPT, 0));
            assertThat(history.channels()).isZero();
            HistoryPage page = history.read("alerts", 0, 10).join();
            assertThat(page.position().epoch()).isNotEqualTo(epoch);
            assertThat(page.publications()).isEmpty();
            assertThat(file).as("moved aside, not read again").doesNotExist();
            assertThat(dir.resolve("history.snapshot.corrupt")).hasBinaryContent(bad);
        }
        Files.write(file, sound);
        assertThat(HistorySnapshot.load(file, history(1 << 20, 1000, ALERTS)).outcome())
                .as("the sound file still loads").isEqualTo(HistorySnapshot.Outcome.RESTORED);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] both = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, both, a.length, b.length);
        return both;
    }
}
