package dev.portcullis.bench;

import dev.portcullis.gateway.channel.FrameDeflater;
import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.metrics.CompressionMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
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
 * What permessage-deflate costs the gateway in user CPU, apart from the kernel's share:
 * {@code compress} is the once-per-publication price ({@link FrameDeflater#deflate} of a publication's
 * message, the event loop's deflater reset each time), to be divided by the compressing subscribers
 * that share it; {@code plainFrame} and {@code sharedCompressedFrame} are the per-delivery step,
 * taking the plain or the (already compressed) shared frame for one write. {@code bytes} picks the
 * message: about 100, 300 (the JSON alert of the load figures) or 1,000 bytes of data, to place
 * {@link FrameDeflater#MIN_PAYLOAD_BYTES}.
 *
 * <pre>
 * java -jar bench/target/portcullis-bench.jar DeflateBenchmark -f 1 -wi 3 -w 1s -i 5 -r 1s
 * </pre>
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms512m", "-Xmx512m", "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
@State(Scope.Thread)
public class DeflateBenchmark {
    static final String ALERT = "{\"severity\":\"high\",\"title\":\"Disk usage above threshold on db-7\",\"host\":\"db-7.eu-west\","
            + "\"metric\":\"disk.used.percent\",\"value\":93.4,\"threshold\":90,\"since\":\"2026-12-07T20:41:03Z\","
            + "\"runbook\":\"https://runbooks.example.com/disk-usage\",\"tags\":[\"storage\",\"database\",\"production\"],\"ack\":false}";

    @Param({"100", "300", "1000"})
    public int bytes;

    private Publication publication;
    private ByteBuf payload;
    private final CompressionMetrics metrics = CompressionMetrics.detached();

    @Setup(Level.Trial)
    public void setUp() {
        String data = bytes <= 100 ? FanoutBenchmark.DATA : bytes <= 300 ? ALERT : "[" + ALERT + "," + ALERT + "," + ALERT + "]";
        publication = Publication.encode(ByteBufAllocator.DEFAULT, "alerts", 123456, "e1a2b3c4", data);
        payload = publication.retainedFrame();
        publication.retainedDeflatedWireFrame(metrics).release(); // compressed once, as in the gateway
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        payload.release();
        publication.release();
    }

    @Benchmark
    public int compress() {
        ByteBuf frame = FrameDeflater.deflate(ByteBufAllocator.DEFAULT, payload);
        if (frame == null) {
            return 0;
        }
        int size = frame.readableBytes();
        frame.release();
        return size;
    }

    @Benchmark
    public int plainFrame() {
        ByteBuf frame = publication.retainedWireFrame();
        int size = frame.readableBytes();
        frame.release();
        return size;
    }

    @Benchmark
    public int sharedCompressedFrame() {
        ByteBuf frame = publication.retainedDeflatedWireFrame(metrics);
        int size = frame.readableBytes();
        frame.release();
        return size;
    }
}
