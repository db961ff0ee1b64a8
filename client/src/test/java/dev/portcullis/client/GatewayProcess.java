package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A gateway as a real process: {@code java -jar portcullis.jar serve --config <yaml>}, as it runs in
 * production, so that it can be killed with SIGKILL or stopped with SIGTERM. Its output goes to a
 * log file next to the config (and the last lines into failure messages); its ports come from its
 * "listening" log line. Tokens are HS256 with {@link GatewayFixture#SECRET}, the backend API key is
 * {@link GatewayFixture#API_KEY}.
 */
final class GatewayProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening: ws://[^ ]*:(\\d+)/ws .*admin http://[^ ]*:(\\d+)");
    private static final HttpClient HTTP = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    final String name;
    private final Process process;
    private final Path log;
    private final Deque<String> tail = new ArrayDeque<>();
    private final CompletableFuture<int[]> ports = new CompletableFuture<>();

    private GatewayProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        Thread.ofPlatform().daemon().name("gateway-" + name + "-output").start(this::readOutput);
    }

    /**
     * The shaded gateway jar, built by the gateway module's {@code package} phase. The Maven reactor
     * builds gateway (all phases up to the one asked for) before client, which depends on it, so in
     * {@code ./mvnw verify} from the root it exists before these integration tests run.
     */
    static Path jar() {
        String configured = System.getProperty("portcullis.jar");
        Path jar = configured != null ? Path.of(configured) : Path.of("..", "gateway", "target", "portcullis.jar");
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("the gateway jar " + jar.toAbsolutePath().normalize() + " does not exist. It is built in the"
                    + " gateway module's package phase: run ./mvnw verify from the project root (the reactor builds gateway before"
                    + " client), or ./mvnw -pl gateway package before running the client's integration tests alone");
        }
        return jar;
    }

    /**
     * A gateway config for a cluster on {@code redisUrl}: the {@code alerts} channel keeps
     * {@code historySize} publications, and no admission limit gets in the way of a test that
     * reconnects hundreds of clients at once.
     */
    static String clusterConfig(String instance, int port, String redisUrl, int historySize, Duration drain) {
        return """
                server: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: 0, api-keys: ["%s"]}
                auth: {hmac-secret: "%s"}
                channels: {auto-subscribe-personal: false}
                history: {channels: ["alerts=%d/1h"]}
                broker: {type: redis, redis-url: "%s", instance-id: %s}
                limits:
                  connections-per-user: 0
                  connect-attempts-per-user-per-minute: 0
                  connections-per-ip: 0
                  max-connections: 0
                  messages-per-minute: 0
                shutdown: {drain-timeout: %dms}
                """.formatted(port, GatewayFixture.API_KEY, GatewayFixture.SECRET, historySize, redisUrl, instance, drain.toMillis());
    }

    /** Starts the process; {@link #awaitListening} waits until it serves. */
    static GatewayProcess launch(String name, Path dir, String yaml) {
        try {
            Path config = dir.resolve(name + ".yaml");
            Files.writeString(config, yaml);
            String java = ProcessHandle.current().info().command().orElse("java");
            ProcessBuilder builder = new ProcessBuilder(List.of(java, "-XX:+IgnoreUnrecognizedVMOptions", "--enable-native-access=ALL-UNNAMED",
                    "--sun-misc-unsafe-memory-access=allow", "-jar", jar().toString(), "serve", "--config", config.toString()))
                    .redirectErrorStream(true);
            builder.environment().put("PORTCULLIS_SERVER_WARMUP", "off"); // a test gateway need not wait for the JIT
            Process process = builder.start();
            return new GatewayProcess(name, process, dir.resolve(name + ".log"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for the "listening" log line; fails with the process's output if it does not come. */
    GatewayProcess awaitListening(Duration timeout) {
        try {
            ports.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return this;
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("gateway " + name + " did not report its ports (alive: " + process.isAlive() + "); output:\n" + tail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    int port() {
        return ports.join()[0];
    }

    int adminPort() {
        return ports.join()[1];
    }

    URI uri() {
        return URI.create("ws://127.0.0.1:" + port() + "/ws");
    }

    /** SIGKILL: no goodbye to anyone. Returns once the process is gone. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            throw new AssertionError("gateway " + name + " survived SIGKILL");
        }
    }

    /** SIGTERM: a graceful shutdown (drain). {@code Process.destroy()} would also close our end of its output. */
    void terminate() {
        process.toHandle().destroy();
    }

    /** Waits for the process to end; its exit code. */
    int awaitExit(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("gateway " + name + " did not exit within " + timeout + "; output:\n" + tail());
        }
        return process.exitValue();
    }

    /**
     * Publishes {@code dataJson} to {@code channel} through this instance's backend API with an
     * idempotency key (so that a retry elsewhere cannot publish twice); completes with the offset.
     */
    CompletableFuture<Long> publish(String channel, String dataJson, String idempotencyKey) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort() + "/api/publish"))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + GatewayFixture.API_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"channel\":\"" + channel + "\",\"data\":" + dataJson
                        + ",\"idempotencyKey\":\"" + idempotencyKey + "\"}"))
                .build();
        return HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
            if (response.statusCode() != 200) {
                throw new IllegalStateException(name + " answered publish with " + response.statusCode() + " " + response.body());
            }
            try {
                JsonNode answer = Frames.JSON.readTree(response.body());
                return answer.path("offset").asLong();
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** The last lines of the output, for failure messages. */
    String tail() {
        synchronized (tail) {
            return String.join("\n", tail);
        }
    }

    private void readOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                BufferedWriter out = Files.newBufferedWriter(log)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.write(line);
                out.newLine();
                synchronized (tail) {
                    tail.addLast(line);
                    if (tail.size() > 60) {
                        tail.removeFirst();
                    }
                }
                if (!ports.isDone()) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        out.flush();
                        ports.complete(new int[] {Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2))});
                    }
                }
            }
        } catch (IOException ended) {
            // the process is gone
        } finally {
            ports.completeExceptionally(new IllegalStateException("gateway " + name + " ended its output"));
        }
    }

    /** Forcibly, if it is still running: for finally blocks. */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
