package dev.portcullis.gateway.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shaded gateway jar ({@code target/portcullis.jar}, built in the package phase) running as a
 * real process, started through {@code bash} so a test can set limits first (e.g. {@code ulimit -n}).
 * Its output is collected line by line; {@link #port()} is the WebSocket port it reported.
 */
public final class GatewayProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening: wss?://[^ ]*:(\\d+)/ws .*admin https?://[^ ]*:(\\d+)");

    private final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();
    private final Thread reader;
    private int port;
    private int adminPort;

    private GatewayProcess(Process process) {
        this.process = process;
        this.reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                in.lines().forEach(lines::add);
            } catch (IOException ignored) {
                // the process ended
            }
        }, "gateway-output");
        reader.setDaemon(true);
        reader.start();
    }

    /**
     * Starts the jar with {@code yaml} as its configuration file (in {@code dir}), after the shell
     * commands in {@code shellPrefix} (may be empty), and waits for it to report its ports.
     */
    public static GatewayProcess start(Path dir, String yaml, String shellPrefix) throws IOException, InterruptedException {
        return start(dir, yaml, shellPrefix, List.of(), Map.of());
    }

    /**
     * As {@link #start(Path, String, String)}, with extra JVM options (before {@code -jar}) and
     * environment variables. {@code server.warmup} is off unless {@code env} sets
     * {@code PORTCULLIS_SERVER_WARMUP}: a test gateway need not wait for the JIT.
     */
    public static GatewayProcess start(Path dir, String yaml, String shellPrefix, List<String> jvmOptions, Map<String, String> env)
            throws IOException, InterruptedException {
        Path jar = Path.of("target", "portcullis.jar").toAbsolutePath();
        if (!Files.exists(jar)) {
            throw new AssertionError("the shaded jar is built in the package phase, before integration tests: " + jar);
        }
        Path config = dir.resolve("portcullis.yaml");
        Files.writeString(config, yaml);
        String java = ProcessHandle.current().info().command().orElse("java");
        String command = (shellPrefix.isBlank() ? "" : shellPrefix + " && ")
                + "exec '" + java + "' --enable-native-access=ALL-UNNAMED " + String.join(" ", jvmOptions.stream().map(o -> "'" + o + "'").toList())
                + " -jar '" + jar + "' serve --config '" + config + "'";
        ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true);
        builder.environment().put("PORTCULLIS_SERVER_WARMUP", "off");
        builder.environment().putAll(env);
        Process process = builder.start();
        GatewayProcess gateway = new GatewayProcess(process);
        try {
            gateway.awaitListening();
        } catch (AssertionError | InterruptedException e) {
            process.destroyForcibly();
            throw e;
        }
        return gateway;
    }

    private void awaitListening() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline) {
            String line = lines.poll(200, TimeUnit.MILLISECONDS);
            if (line != null) {
                seen.add(line);
                Matcher m = LISTENING.matcher(line);
                if (m.find()) {
                    port = Integer.parseInt(m.group(1));
                    adminPort = Integer.parseInt(m.group(2));
                    return;
                }
            } else if (!process.isAlive()) {
                break;
            }
        }
        throw new AssertionError("gateway did not report its ports; output:\n" + String.join("\n", seen));
    }

    public int port() {
        return port;
    }

    public int adminPort() {
        return adminPort;
    }

    public Process process() {
        return process;
    }

    /** Its admin listener. */
    public AdminApi admin() {
        return new AdminApi(adminPort);
    }

    /**
     * SIGTERM (a graceful shutdown), then waits up to {@code within} for the process to end.
     *
     * @return its exit status
     */
    public int terminate(Duration within) throws InterruptedException {
        process.toHandle().destroy(); // SIGTERM (Process.destroy would also close our end of its output)
        return awaitExit(within);
    }

    /** SIGSTOP: the gateway freezes with its sockets open (a long GC pause, a frozen VM); {@link #resume()} thaws it. */
    public void stop() {
        ProcessSignals.stop(process.pid());
    }

    /** SIGCONT after {@link #stop()}. */
    public void resume() {
        ProcessSignals.resume(process.pid());
    }

    /** SIGKILL: the process dies at once, as in a crash, with no chance to write anything. */
    public int kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        return awaitExit(Duration.ofSeconds(10));
    }

    private int awaitExit(Duration within) throws InterruptedException {
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("the gateway process did not end within " + within + "; output:\n" + String.join("\n", output()));
        }
        awaitOutputEnd();
        return process.exitValue();
    }

    /** Every line of output so far, the start-up lines included. */
    public List<String> output() {
        lines.drainTo(seen);
        return List.copyOf(seen);
    }

    /** Waits up to {@code wait} for a line of output containing {@code fragment} (lines seen before count too). */
    public String awaitLine(String fragment, java.time.Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        for (String line : output()) {
            if (line.contains(fragment)) {
                return line;
            }
        }
        while (System.nanoTime() < deadline) {
            String line = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (line != null) {
                seen.add(line);
                if (line.contains(fragment)) {
                    return line;
                }
            }
        }
        throw new AssertionError("no line with '" + fragment + "' within " + wait + "; output:\n" + String.join("\n", output()));
    }

    /** Waits for the output reader to reach the end of the output (after the process ended). */
    public void awaitOutputEnd() throws InterruptedException {
        reader.join(5_000);
    }

    @Override
    public void close() {
        process.destroyForcibly();
    }
}
