package dev.portcullis.bench;

import com.sun.net.httpserver.HttpServer;
import dev.portcullis.bench.load.ProcStats;
import dev.portcullis.gateway.auth.TokenMinter;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a publish hook costs: the gateway jar runs as a real process twice, once without a hook and
 * once with {@code hooks.publish} pointing at a backend in this process (the JDK's HTTP server,
 * answering {@code {"result":"accept"}} at once), and {@code connections} WebSocket clients publish
 * in a closed loop (send, wait for the {@code ack}, send the next) to channels nobody subscribes to,
 * so the figure is the publish path alone: decode, rate limit, permission, sanitise, [hook], broker,
 * ack. Reported per run: acks per second, ack latency p50/p90/p99/p99.9 (from send to ack, on this
 * machine's loopback), and the gateway process's CPU (user + system from {@code /proc}) per
 * publication. The backend and the clients run in this process, not in the gateway's, so their CPU
 * is not counted; the kernel's loopback TCP work is counted where it runs.
 *
 * <p>Run (from the repository root, after {@code ./portcullis build}):
 * <pre>
 * java -jar bench/target/portcullis-bench.jar hooks --connections 4 --warmup 5 --seconds 10
 * </pre>
 */
public final class HookCost {
    private static final String SECRET = "bench-secret-0123456789-0123456789-0123456789";
    private static final String HOOK_SECRET = "bench-hook-secret-0123456789-0123456789";
    private static final Pattern LISTENING = Pattern.compile("listening: ws://127\\.0\\.0\\.1:(\\d+)/ws");

    private HookCost() {}

    /** {@code --jar PATH --connections N --warmup S --seconds S --heap SIZE}. */
    static int run(String[] args) throws Exception {
        String jar = "gateway/target/portcullis.jar";
        int connections = 4;
        int warmup = 5;
        int seconds = 10;
        String heap = "256m";
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--jar" -> jar = args[i + 1];
                case "--connections" -> connections = Integer.parseInt(args[i + 1]);
                case "--warmup" -> warmup = Integer.parseInt(args[i + 1]);
                case "--seconds" -> seconds = Integer.parseInt(args[i + 1]);
                case "--heap" -> heap = args[i + 1];
                default -> {
                    System.err.println("unknown option " + args[i] + "; options: --jar --connections --warmup --seconds --heap");
                    return 2;
                }
            }
        }
        if (args.length % 2 != 0) {
            System.err.println("options come in pairs: --jar --connections --warmup --seconds --heap");
            return 2;
        }
        System.out.printf("hooks: %d connections, closed loop, %d s warm-up + %d s measured per run, gateway -Xmx%s, load %s%n",
                connections, warmup, seconds, heap, Files.readString(Path.of("/proc/loadavg")).trim());
        Result without = measure(jar, heap, false, connections, warmup, seconds);
        Result with = measure(jar, heap, true, connections, warmup, seconds);
        System.out.printf("added by the hook: p50 %+.0f us, p99 %+.0f us, gateway CPU %+.1f us per publication%n",
                with.p50us() - without.p50us(), with.p99us() - without.p99us(), with.cpuUsPerMessage() - without.cpuUsPerMessage());
        return 0;
    }

    record Result(long messages, double perSecond, double p50us, double p99us, double cpuUsPerMessage) {}

    private static Result measure(String jar, String heap, boolean hook, int connections, int warmup, int seconds) throws Exception {
        AtomicLong hookCalls = new AtomicLong();
        HttpServer backend = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        ExecutorService backendThreads = Executors.newFixedThreadPool(2);
        backend.setExecutor(backendThreads);
        byte[] accept = "{\"result\":\"accept\"}".getBytes(StandardCharsets.UTF_8);
        backend.createContext("/publish", exchange -> {
            try (exchange) {
                exchange.getRequestBody().readAllBytes();
                hookCalls.incrementAndGet();
                exchange.getResponseHeaders().set("Content-Type", "application/json");
                exchange.sendResponseHeaders(200, accept.length);
                try (OutputStream out = exchange.getResponseBody()) {
                    out.write(accept);
                }
            }
        });
        backend.start();
        Path config = Files.createTempFile("portcullis-hooks-bench", ".yaml");
        StringBuilder yaml = new StringBuilder("""
                server: { host: 127.0.0.1, port: 0 }
                admin: { host: 127.0.0.1, port: 0 }
                auth: { hmac-secret: %s }
                limits: { messages-per-minute: 0, connections-per-ip: 0, connect-attempts-per-user-per-minute: 0 }
                channels: { auto-subscribe-personal: "false" }
                log: { level: info }
                """.formatted(SECRET));
        if (hook) {
            yaml.append("hooks: { secret: ").append(HOOK_SECRET).append(", publish: [\"room:*=http://127.0.0.1:")
                    .append(backend.getAddress().getPort()).append("/publish\"] }\n");
        }
        Files.writeString(config, yaml);
        Process gateway = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xms" + heap, "-Xmx" + heap, "-XX:+IgnoreUnrecognizedVMOptions", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-jar", jar, "serve", "--config", config.toString())
                .redirectErrorStream(true).start();
        try {
            int port = awaitPort(gateway);
            List<Client> clients = new ArrayList<>();
            Recorder latency = new Recorder(3);
            HttpClient http = HttpClient.newHttpClient();
            for (int i = 0; i < connections; i++) {
                String token = TokenMinter.hs256(SECRET, "bench-" + i, Instant.now(), Duration.ofHours(1),
                        Map.of("channels", Map.of("room:*", "rw")));
                clients.add(new Client(http, URI.create("ws://127.0.0.1:" + port + "/ws?token=" + token), "room:bench-" + i, latency));
            }
            clients.forEach(Client::next);
            Thread.sleep(warmup * 1000L); // a benchmark's warm-up, not a test wait
            latency.reset();
            long[] cpu0 = ProcStats.cpu(gateway.pid());
            long acks0 = clients.stream().mapToLong(c -> c.acks.get()).sum();
            long t0 = System.nanoTime();
            Thread.sleep(seconds * 1000L);
            long[] cpu1 = ProcStats.cpu(gateway.pid());
            long acks1 = clients.stream().mapToLong(c -> c.acks.get()).sum();
            double elapsed = (System.nanoTime() - t0) / 1e9;
            Histogram h = latency.getIntervalHistogram();
            clients.forEach(Client::stop);
            long messages = acks1 - acks0;
            double cpuMs = (cpu1[0] + cpu1[1]) - (cpu0[0] + cpu0[1]);
            Result result = new Result(messages, messages / elapsed, h.getValueAtPercentile(50) / 1000.0,
                    h.getValueAtPercentile(99) / 1000.0, cpuMs * 1000 / Math.max(1, messages));
            System.out.printf("%-12s %8d acks %9.0f/s  latency us p50 %6.0f p90 %6.0f p99 %6.0f p99.9 %6.0f  gateway CPU %6.1f us/publication"
                            + " (user %d ms, system %d ms)  hook calls %d%n",
                    hook ? "with hook" : "without hook", messages, result.perSecond(), result.p50us(),
                    h.getValueAtPercentile(90) / 1000.0, result.p99us(), h.getValueAtPercentile(99.9) / 1000.0,
                    result.cpuUsPerMessage(), cpu1[0] - cpu0[0], cpu1[1] - cpu0[1], hookCalls.get());
            return result;
        } finally {
            gateway.destroy();
            gateway.waitFor(20, TimeUnit.SECONDS);
            gateway.destroyForcibly();
            backend.stop(0);
            backendThreads.shutdownNow();
            Files.deleteIfExists(config);
        }
    }

    /** Reads the gateway's output until its "listening" line; the rest is drained on a thread. */
    private static int awaitPort(Process gateway) throws IOException {
        BufferedReader out = new BufferedReader(new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        for (String line; (line = out.readLine()) != null && System.nanoTime() < deadline; ) {
            Matcher m = LISTENING.matcher(line);
            if (m.find()) {
                Thread drain = new Thread(() -> {
                    try {
                        out.lines().forEach(l -> { });
                    } catch (java.io.UncheckedIOException e) {
                        // the gateway stopped and its output closed
                    }
                }, "gateway-output");
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(m.group(1));
            }
        }
        throw new IOException("the gateway did not print its listening line (exit " + (gateway.isAlive() ? "-" : gateway.exitValue()) + ")");
    }

    /** One connection publishing in a closed loop: the next publish goes out when the last ack arrived. */
    private static final class Client implements WebSocket.Listener {
        final AtomicLong acks = new AtomicLong();
        private final String channel;
        private final Recorder latency;
        private final WebSocket socket;
        private final StringBuilder partial = new StringBuilder();
        private volatile boolean running = true;
        private long sentAt;
        private long n;

        Client(HttpClient http, URI uri, String channel, Recorder latency) {
            this.channel = channel;
            this.latency = latency;
            this.socket = http.newWebSocketBuilder().buildAsync(uri, this).join();
        }

        void next() {
            n++;
            sentAt = System.nanoTime();
            socket.sendText("{\"type\":\"publish\",\"id\":" + n + ",\"channel\":\"" + channel
                    + "\",\"data\":{\"type\":\"chat\",\"n\":" + n + ",\"content\":\"Deploy finished, dashboards look green.\"}}", true);
        }

        void stop() {
            running = false;
            socket.abort();
        }

        @Override
        public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                if (text.contains("\"type\":\"ack\"")) {
                    latency.recordValue(System.nanoTime() - sentAt);
                    acks.incrementAndGet();
                    if (running) {
                        next();
                    }
                } else if (text.contains("\"type\":\"error\"")) {
                    System.err.println("error from the gateway: " + text);
                    running = false;
                }
            }
            ws.request(1);
            return CompletableFuture.completedFuture(null);
        }
    }
}
