package dev.portcullis.gateway.channel;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.transport.EventLoops;
import io.netty.buffer.PooledByteBufAllocator;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryMXBean;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Issue 3 acceptance 5 and 7: complete, ordered fan-out; a slow consumer is cut off and memory stays bounded. */
class FanoutIT {
    private static final Pattern OFFSET = Pattern.compile("\"type\":\"message\",\"channel\":\"([^\"]+)\",\"offset\":(\\d+)");

    /** A JDK WebSocket listener that checks offsets as they arrive instead of keeping the messages. */
    static final class SequenceListener implements WebSocket.Listener {
        final AtomicLong lastOffset = new AtomicLong();
        final AtomicLong received = new AtomicLong();
        final AtomicReference<String> problem = new AtomicReference<>();
        final AtomicInteger closeCode = new AtomicInteger(-1);
        final CompletableFuture<Void> connected = new CompletableFuture<>();
        private final StringBuilder partial = new StringBuilder();
        private volatile boolean reading = true;
        private volatile WebSocket socket;

        @Override
        public void onOpen(WebSocket webSocket) {
            socket = webSocket;
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                if (text.startsWith("{\"type\":\"connected\"")) {
                    connected.complete(null);
                }
                Matcher m = OFFSET.matcher(text);
                if (m.find()) {
                    long offset = Long.parseLong(m.group(2));
                    if (offset != lastOffset.get() + 1) {
                        problem.compareAndSet(null, "expected offset " + (lastOffset.get() + 1) + " got " + offset);
                    }
                    lastOffset.set(offset);
                    received.incrementAndGet();
                }
            }
            if (reading) {
                webSocket.request(1);
            }
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            closeCode.set(statusCode);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
            webSocket.request(1);
            return null;
        }

        /** Stops asking for frames: the JDK client then stops reading the socket (back-pressure). */
        void pause() {
            reading = false;
        }

        void resume() {
            reading = true;
            socket.request(Long.MAX_VALUE);
        }
    }

    private static SequenceListener open(HttpClient http, TestGateway gateway, String user) {
        SequenceListener listener = new SequenceListener();
        http.newWebSocketBuilder().buildAsync(gateway.uri(Tokens.hs256(user)), listener).join();
        listener.connected.orTimeout(10, java.util.concurrent.TimeUnit.SECONDS).join();
        return listener;
    }

    /** Each socket transport the gateway can run on here ({@code server.transport}); io_uring where the kernel allows it. */
    static List<String> transports() {
        List<String> transports = new ArrayList<>(List.of("epoll", "nio"));
        if (EventLoops.Transport.IO_URING.unavailableReason() == null) {
            transports.add("io_uring");
        }
        return transports;
    }

    @ParameterizedTest
    @MethodSource("transports")
    void tenThousandPublicationsReachAHundredSubscribersCompleteAndInOrder(String transport) throws Exception {
        int subscribers = 100;
        int publications = 10_000;
        try (TestGateway gateway = TestGateway.start(Map.of("channels.auto-subscribe", List.of("feed"), "server.transport", transport));
                ExecutorService publishers = Executors.newFixedThreadPool(4)) {
            HttpClient http = HttpClient.newHttpClient();
            List<SequenceListener> listeners = new ArrayList<>();
            for (int i = 0; i < subscribers; i++) {
                listeners.add(open(http, gateway, "feed-" + i));
            }
            List<Future<?>> sent = new ArrayList<>();
            for (int p = 0; p < 4; p++) {
                sent.add(publishers.submit(() -> {
                    for (int i = 0; i < publications / 4; i++) {
                        gateway.publish("feed", "{\"n\":" + i + "}");
                    }
                }));
            }
            for (Future<?> f : sent) {
                f.get();
            }
            await().atMost(Duration.ofSeconds(60)).until(() -> listeners.stream().allMatch(l -> l.received.get() >= publications));
            for (SequenceListener listener : listeners) {
                assertThat(listener.problem.get()).isNull();
                assertThat(listener.received.get()).isEqualTo(publications);
                assertThat(listener.lastOffset.get()).isEqualTo(publications);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("transports")
    void aClientThatReadsNothingIsClosedWith4009AndMemoryStaysBounded(String transport) throws Exception {
        int payloadBytes = 200 * 1024;
        int publications = 512; // 100 MiB
        try (TestGateway gateway = TestGateway.start(Map.of(
                "channels.auto-subscribe", List.of("bulk"), "channels.sanitize-default", "none", "server.transport", transport,
                "admin.max-body-bytes", Integer.toString(payloadBytes + 1024)))) {
            HttpClient http = HttpClient.newHttpClient();
            SequenceListener slow = open(http, gateway, "slow-reader");
            SequenceListener healthy = open(http, gateway, "healthy-reader");
            slow.pause();
            MemoryMXBean memory = ManagementFactory.getMemoryMXBean();
            System.gc();
            long heapBefore = memory.getHeapMemoryUsage().getUsed();

            String payload = "\"" + "x".repeat(payloadBytes) + "\"";
            boolean resumed = false;
            for (int i = 0; i < publications; i++) {
                // Paced by the healthy reader: at most 4 publications (800 KiB, under the 1 MiB outbound
                // limit) ahead of it, so that on a loaded machine it is never mistaken for a slow
                // consumer (it was once, in CI); the paused reader falls behind all the same.
                int published = i;
                await().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(2)).atMost(Duration.ofSeconds(30))
                        .until(() -> healthy.received.get() >= published - 4);
                gateway.publish("bulk", payload);
                // Once it is found slow, the paused reader reads again, soon enough to read the close
                // frame queued behind what it had not read (the gateway then waits for its answer).
                if (!resumed && i % 8 == 7 && gateway.metric("portcullis_slow_consumers_total") >= 1) {
                    slow.resume();
                    resumed = true;
                }
            }
            await().atMost(Duration.ofSeconds(30)).until(() -> gateway.metric("portcullis_slow_consumers_total") >= 1);
            slow.resume();
            await().atMost(Duration.ofSeconds(30)).until(() -> slow.closeCode.get() != -1);
            assertThat(slow.closeCode.get()).isEqualTo(4009);
            assertThat(slow.problem.get()).as("what it did get was in order").isNull();
            assertThat(slow.received.get()).isLessThan(publications);

            await().atMost(Duration.ofSeconds(60)).until(() -> healthy.received.get() >= publications);
            assertThat(healthy.problem.get()).isNull();
            assertThat(healthy.received.get()).as("the other subscriber is unaffected").isEqualTo(publications);

            System.gc();
            long heapGrowth = memory.getHeapMemoryUsage().getUsed() - heapBefore;
            long direct = PooledByteBufAllocator.DEFAULT.metric().usedDirectMemory();
            // 100 MiB went through; what stays is bounded by the outbound limit (1 MiB, twice at most) per
            // connection plus allocator caches: 64 MiB of heap growth and 64 MiB of pooled direct memory.
            assertThat(heapGrowth).isLessThan(64L << 20);
            assertThat(direct).isLessThan(64L << 20);
            assertThat(gateway.metric("portcullis_connections_closed_total{code=\"4009\"}")).isEqualTo(1);
        }
    }
}
