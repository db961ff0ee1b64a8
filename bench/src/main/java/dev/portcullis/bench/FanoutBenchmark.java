package dev.portcullis.bench;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.Subscriber;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocket08FrameEncoder;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.AuxCounters;
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
 * Outbound fan-out of one publication, the way {@code LocalBroker} does it: {@link Publication#encode}
 * once (the gateway's allocator, ~100 bytes of data), {@link SubscriptionIndex#publish}, release; then the
 * per-shard tasks run, writing {@code publication.retainedWireFrame()} (the complete WebSocket frame,
 * encoded once) to every subscriber and flushing each, as the transport's
 * {@code WebSocketHandler.deliver/flush} do.
 *
 * <p>Subscribers are {@link EmbeddedChannel}s with a server-mode {@link WebSocket08FrameEncoder}
 * (what {@code WebSocketServerHandshaker13} installs), spread round-robin over {@code loops} shard
 * executors (a handler-less {@code EmbeddedChannel}'s event loop each; the gateway has one per
 * event loop, i.e. per core). The benchmark thread runs every shard's tasks itself, so the figure
 * is the CPU cost of one publication on one core with no kernel work: the encoded frame bytes are
 * taken from each channel and released instead of being written to a socket (real sockets add a
 * {@code write} system call per subscriber per flush, and TLS adds encryption per subscriber).
 *
 * <p>{@code fanout}: score = publications/s; the secondary result {@code deliveries} = frames/s
 * (publications x subscribers). {@code encodeOnly}: {@link Publication#encode} + release alone.
 *
 * <p>{@code fanoutPreEncoded} is the comparison with the gateway's earlier path (before
 * 2026-11-22 01:30): every subscriber writes a {@code TextWebSocketFrame} of the message, which
 * {@link WebSocket08FrameEncoder} encodes per subscriber (for payloads under 1 KiB it allocates a
 * buffer and copies the payload into it for each). The gateway now writes the frame built once by
 * {@link Publication#encode}, which the encoder passes through.
 *
 * <p>Run (from the repository root, JDK 21+ as {@code java}):
 * <pre>
 * ./mvnw -B -q -pl bench -am package -DskipTests
 * java -jar bench/target/portcullis-bench.jar FanoutBenchmark -f 1 -wi 3 -w 2s -i 5 -r 3s
 * </pre>
 * One size only: {@code -p subscribers=10000}; all subscribers on one shard: {@code -p loops=1}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 3)
@Fork(value = 1, jvmArgsAppend = {
    "-Xms2g", "-Xmx2g", "-XX:+IgnoreUnrecognizedVMOptions",
    "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"})
public class FanoutBenchmark {
    static final String CHANNEL = "chat:room-7";
    static final String EPOCH = "5f3a9c1e";
    /** About 100 bytes of JSON (99), a typical small chat or alert payload. */
    static final String DATA = "{\"type\":\"chat\",\"roomId\":\"6f1c2b1e-8a4d-4c53-9a55-3f0e2d7b9c10\",\"content\":\"Deploy done, all green!\"}";
    /** What {@code Gateway} hands {@code LocalBroker}. */
    static final ByteBufAllocator ALLOC = ByteBufAllocator.DEFAULT; // the gateway's allocator

    /** A channel with {@code subscribers} subscribers spread over {@code loops} shards. */
    @State(Scope.Thread)
    public static class Subscribed {
        @Param({"1", "100", "10000"})
        public int subscribers;

        @Param({"2"})
        public int loops;

        final SubscriptionIndex index = new SubscriptionIndex();
        EmbeddedChannel[] shardLoops;
        EmbeddedChannel[] connections;
        ConnectionSubscriber[] members;
        /** The pre-encoded frame of the publication being fanned out; null on the gateway's path. */
        final FrameHolder current = new FrameHolder();
        long offset;

        @Setup(Level.Trial)
        public void setUp() {
            shardLoops = new EmbeddedChannel[Math.min(loops, subscribers)];
            for (int i = 0; i < shardLoops.length; i++) {
                shardLoops[i] = new EmbeddedChannel();
            }
            connections = new EmbeddedChannel[subscribers];
            members = new ConnectionSubscriber[subscribers];
            for (int i = 0; i < subscribers; i++) {
                connections[i] = new EmbeddedChannel(new WebSocket08FrameEncoder(false));
                members[i] = new ConnectionSubscriber(connections[i], shardLoops[i % shardLoops.length].eventLoop(), current);
                if (!index.subscribe(CHANNEL, members[i])) {
                    throw new IllegalStateException("subscribe failed");
                }
            }
            checkOneDelivery(false);
            checkOneDelivery(true);
        }

        /** One publication reaches every connection as one unmasked text frame holding the message. */
        private void checkOneDelivery(boolean preEncoded) {
            List<Queue<Object>> captured = new ArrayList<>(subscribers);
            for (int i = 0; i < subscribers; i++) {
                captured.add(new ArrayDeque<>());
                members[i].capture = captured.get(i);
            }
            publishOnce(this, preEncoded);
            String expected = "{\"type\":\"message\",\"channel\":\"" + CHANNEL + "\",\"offset\":" + offset + ",\"epoch\":\"" + EPOCH + "\",\"data\":" + DATA + "}";
            for (int i = 0; i < connections.length; i++) {
                ByteBuf wire = ALLOC.buffer();
                Object message;
                while ((message = captured.get(i).poll()) != null) {
                    wire.writeBytes((ByteBuf) message);
                    ReferenceCountUtil.release(message);
                }
                int payload = wire.getUnsignedByte(1) == 126 ? 4 : 2;
                String text = wire.toString(payload, wire.readableBytes() - payload, StandardCharsets.UTF_8);
                boolean ok = wire.getUnsignedByte(0) == 0x81 && text.equals(expected);
                wire.release();
                if (!ok) {
                    throw new IllegalStateException("connection " + i + " received " + text + (preEncoded ? " (pre-encoded)" : ""));
                }
            }
            for (ConnectionSubscriber member : members) {
                member.capture = null;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            for (EmbeddedChannel connection : connections) {
                connection.finishAndReleaseAll();
            }
            for (EmbeddedChannel loop : shardLoops) {
                loop.finishAndReleaseAll();
            }
        }
    }

    /** Frames handed to subscribers, reported as a rate next to publications/s. */
    @State(Scope.Thread)
    @AuxCounters(AuxCounters.Type.OPERATIONS)
    public static class Deliveries {
        public long deliveries;

        @Setup(Level.Iteration)
        public void reset() {
            deliveries = 0;
        }
    }

    @Benchmark
    public int fanout(Subscribed subscribed, Deliveries deliveries) {
        int handed = publishOnce(subscribed, false);
        deliveries.deliveries += handed;
        return handed;
    }

    @Benchmark
    public int fanoutPreEncoded(Subscribed subscribed, Deliveries deliveries) {
        int handed = publishOnce(subscribed, true);
        deliveries.deliveries += handed;
        return handed;
    }

    @Benchmark
    public int encodeOnly() {
        Publication publication = Publication.encode(ALLOC, CHANNEL, 1_234_567L, EPOCH, DATA);
        int size = publication.size();
        publication.release();
        return size;
    }

    /** What {@code LocalBroker.publish} does per publication, then the shard tasks it queued. */
    static int publishOnce(Subscribed subscribed, boolean preEncoded) {
        Publication publication = Publication.encode(ALLOC, CHANNEL, ++subscribed.offset, EPOCH, DATA);
        int handed;
        try {
            if (preEncoded) {
                subscribed.current.frame = frame(publication);
            }
            handed = subscribed.index.publish(publication);
        } finally {
            publication.release();
        }
        for (EmbeddedChannel loop : subscribed.shardLoops) {
            loop.runPendingTasks();
        }
        if (preEncoded) {
            subscribed.current.frame.release();
            subscribed.current.frame = null;
        }
        return handed;
    }

    /** An unmasked final text frame holding the publication's message (RFC 6455 section 5.2). */
    static ByteBuf frame(Publication publication) {
        int length = publication.size();
        ByteBuf frame = ALLOC.directBuffer(10 + length);
        frame.writeByte(0x81);
        if (length <= 125) {
            frame.writeByte(length);
        } else if (length <= 0xFFFF) {
            frame.writeByte(126).writeShort(length);
        } else {
            frame.writeByte(127).writeLong(length);
        }
        ByteBuf payload = publication.retainedFrame();
        frame.writeBytes(payload);
        payload.release();
        return frame;
    }

    /** Set per publication by {@code fanoutPreEncoded}; read by the subscribers on the shard loops. */
    static final class FrameHolder {
        ByteBuf frame;
    }

    /**
     * {@code WebSocketHandler.deliver/flush} without the session: skip a closed or hopelessly
     * backed-up connection, write the shared frame, flush once per batch. Flushing an
     * {@link EmbeddedChannel} queues the encoded bytes; they are released at once, standing in for
     * the socket write.
     */
    static final class ConnectionSubscriber implements Subscriber {
        private final EmbeddedChannel channel;
        private final EventExecutor executor;
        private final FrameHolder preEncoded;
        private boolean unflushed;
        /** Set only while the set-up checks what was written. */
        Queue<Object> capture;

        ConnectionSubscriber(EmbeddedChannel channel, EventExecutor executor, FrameHolder preEncoded) {
            this.channel = channel;
            this.executor = executor;
            this.preEncoded = preEncoded;
        }

        @Override
        public EventExecutor executor() {
            return executor;
        }

        @Override
        public void deliver(Publication publication) {
            if (!channel.isActive() || !channel.isWritable()) {
                return;
            }
            ByteBuf frame = preEncoded.frame;
            Object message = frame == null ? publication.retainedWireFrame() : new TextWebSocketFrame(publication.retainedFrame());
            channel.write(message, channel.voidPromise());
            unflushed = true;
        }

        @Override
        public void flush() {
            if (unflushed) {
                unflushed = false;
                channel.flush();
                Queue<Object> written = channel.outboundMessages();
                Object message;
                while ((message = written.poll()) != null) {
                    if (capture != null) {
                        capture.add(message);
                    } else {
                        ReferenceCountUtil.release(message);
                    }
                }
            }
        }
    }
}
