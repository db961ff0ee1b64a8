package dev.portcullis.bench;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.Subscriber;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.EventExecutor;
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
 * Cost of one connection joining and leaving a channel that already has {@code subscribers}
 * members: {@link SubscriptionIndex#subscribe} then {@link SubscriptionIndex#unsubscribe} of the
 * same subscriber, on one shard (the worst case for a shard's copy-on-write member array). A
 * channel in {@code channels.auto-subscribe} has every connection of the gateway as a member, so
 * this is paid on every connect and disconnect.
 *
 * <p>Run (from the repository root, JDK 21+ as {@code java}):
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/portcullis-bench.jar SubscriptionChurnBenchmark -f 1 -wi 3 -w 2s -i 5 -r 3s
 * </pre>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "-Xms1g", "-Xmx1g", "-XX:+IgnoreUnrecognizedVMOptions",
    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class SubscriptionChurnBenchmark {
    private static final String CHANNEL = "alerts";

    @Param({"100", "10000"})
    public int subscribers;

    private final SubscriptionIndex index = new SubscriptionIndex();
    private EmbeddedChannel loop;
    private Subscriber joining;

    @Setup(Level.Trial)
    public void setUp() {
        loop = new EmbeddedChannel();
        for (int i = 0; i < subscribers; i++) {
            index.subscribe(CHANNEL, new Idle(loop.eventLoop()));
        }
        joining = new Idle(loop.eventLoop());
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        loop.finishAndReleaseAll();
    }

    @Benchmark
    public boolean joinAndLeave() {
        return index.subscribe(CHANNEL, joining) & index.unsubscribe(CHANNEL, joining);
    }

    /** A member that is never published to here. */
    private record Idle(EventExecutor executor) implements Subscriber {
        @Override
        public void deliver(Publication publication) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void flush() {}
    }
}
