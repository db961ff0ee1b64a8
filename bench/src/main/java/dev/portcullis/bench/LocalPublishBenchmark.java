package dev.portcullis.bench;

import dev.portcullis.gateway.broker.LocalBroker;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.HistoryConfig;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import io.netty.buffer.ByteBufAllocator;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * {@code LocalBroker.publish} on the local history: offset, store, encode, hand-off to the index (no
 * subscribers, so the figure is the publish path itself, not socket writes).
 *
 * <p>{@code spread=one}: every thread publishes to one channel (the contended case: before issue 15
 * the encoding ran under the channel's monitor, so two publishers encoded one at a time).
 * {@code spread=many}: each publish goes to the next of 200,000 channels with a 16 MiB budget, so
 * channels are created and evicted all the time (before issue 15 eviction took a table-wide lock on
 * the publishing thread; now it runs on the evictor thread).
 *
 * <p>Run with 1 and 2 threads (2 cores here):
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/portcullis-bench.jar LocalPublishBenchmark -f 1 -wi 2 -w 2s -i 3 -r 3s -t 2
 * </pre>
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "-Xms2g", "-Xmx2g", "-XX:+IgnoreUnrecognizedVMOptions",
    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Benchmark)
public class LocalPublishBenchmark {
    private static final int CHANNELS = 200_000;

    @Param({"one", "many"})
    public String spread;

    private LocalBroker broker;
    private ExecutorService evictor;
    private String[] names;

    @Setup(Level.Trial)
    public void setUp() {
        HistoryConfig config = new HistoryConfig(List.of(new HistoryConfig.Rule("*", 1000, Duration.ofHours(1))),
                16 << 20, 100_000, Duration.ofMinutes(5));
        evictor = Executors.newSingleThreadExecutor();
        broker = new LocalBroker(new SubscriptionIndex(), ByteBufAllocator.DEFAULT, GatewayMetrics.create(), config, 600_000,
                System::currentTimeMillis, evictor);
        names = new String[CHANNELS];
        for (int i = 0; i < CHANNELS; i++) {
            names[i] = "room:" + i;
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        broker.close();
        evictor.shutdownNow();
    }

    /** Each thread's place in the channel list. */
    @State(Scope.Thread)
    public static class Cursor {
        int next = (int) (Thread.currentThread().threadId() * 7919 % CHANNELS);
    }

    @Benchmark
    public Position publish(Cursor cursor) {
        String channel = spread.equals("one") ? FanoutBenchmark.CHANNEL : names[cursor.next++ % CHANNELS];
        return broker.publish(channel, FanoutBenchmark.DATA).join();
    }
}
