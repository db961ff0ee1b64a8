package dev.portcullis.gateway.testing;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The shaded gateway jar running as a real process, as in production ({@code java -jar portcullis.jar
 * serve --config <yaml>}), so that a test can send it real signals: SIGTERM (a graceful drain),
 * SIGKILL (a crash), SIGSTOP/SIGCONT (a freeze), SIGHUP. It is started through {@code bash} so a
 * test can set limits first (e.g. {@code ulimit -n}); {@code exec} makes the JVM that process.
 *
 * <p>Two ways to start one: {@link #start(Path, String, String)} writes the config and returns once
 * the gateway serves; {@link #launcher(Path)} gives a {@link Launcher} for the rest: a name (several
 * gateways in one directory, e.g. a cluster), JVM options, environment, and {@link Launcher#launch}
 * that returns at once, so that several gateways start side by side and {@link #awaitListening}
 * waits for each. Its ports come from its "listening" log line.
 *
 * <p>Its output (stdout and stderr) goes line by line to {@code <name>.log} next to its config, so
 * that a failed run can be read in full, and is kept in memory for {@link #output()} and
 * {@link #awaitLine}, up to {@link #MAX_LINES} lines: past that {@link #output()} fails rather than
 * answer with part of it. Failure messages carry the last lines.
 *
 * <p>Threads: one daemon thread per process reads its output and alone writes the log file; the
 * lines in memory are guarded by their list's monitor and the ports are a future, so every method
 * may be called from any thread (a publisher thread reads {@link #adminPort()} while the test thread
 * stops the process).
 */
public final class GatewayProcess implements AutoCloseable {
    /** Lines of output kept in memory; a test gateway writes far fewer (the log file has them all). */
    public static final int MAX_LINES = 100_000;
    /** How long {@link #start} and {@link Launcher#start} wait for the gateway to serve. */
    public static final Duration START_TIMEOUT = Duration.ofSeconds(30);
    private static final int TAIL_LINES = 60;
    private static final Pattern LISTENING = Pattern.compile("listening: (wss?)://[^ ]*:(\\d+)/ws .*admin https?://[^ ]*:(\\d+)");

    /** What the "listening" line said. */
    private record Listening(String scheme, int port, int adminPort) {}

    private final String name;
    private final Process process;
    private final Path log;
    private final Thread reader;
    private final CompletableFuture<Listening> listening = new CompletableFuture<>();
    /** Guarded by its own monitor, which is notified on each line and at the end of the output. */
    private final List<String> lines = new ArrayList<>();
    private int dropped; // guarded by lines
    private boolean ended; // guarded by lines

    private GatewayProcess(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
        this.reader = Thread.ofPlatform().daemon().name("gateway-" + name + "-output").start(this::readOutput);
    }

    /**
     * Starts the jar with {@code yaml} as its configuration file (in {@code dir}), after the shell
     * commands in {@code shellPrefix} (may be empty), and waits for it to report its ports.
     */
    public static GatewayProcess start(Path dir, String yaml, String shellPrefix) {
        return launcher(dir).shell(shellPrefix).start(yaml);
    }

    /** As {@link #start(Path, String, String)}, with extra JVM options and environment (see {@link Launcher}). */
    public static GatewayProcess start(Path dir, String yaml, String shellPrefix, List<String> jvmOptions, Map<String, String> env) {
        return launcher(dir).shell(shellPrefix).jvmOptions(jvmOptions).env(env).start(yaml);
    }

    /** A launcher for a gateway whose config, log and other files go in {@code dir}. */
    public static Launcher launcher(Path dir) {
        return new Launcher(dir);
    }

    /**
     * The shaded jar: the {@code portcullis.jar} system property (the client module's failsafe sets
     * it to the gateway module's jar), else {@code target/portcullis.jar} (the gateway module's own
     * integration tests). It is built in the gateway module's package phase.
     */
    private static Path jar() {
        String configured = System.getProperty("portcullis.jar");
        Path jar = (configured != null ? Path.of(configured) : Path.of("target", "portcullis.jar")).toAbsolutePath().normalize();
        if (!Files.isRegularFile(jar)) {
            throw new AssertionError("the gateway jar " + jar + " does not exist. It is built in the gateway module's package phase,"
                    + " before integration tests: run ./mvnw verify from the project root (the reactor builds gateway before client),"
                    + " or ./mvnw -pl gateway -am install before running the client's integration tests alone");
        }
        return jar;
    }

    /**
     * How to start a gateway process; {@link #launch} and {@link #start} may be called more than once
     * (with a new {@link #name} each time when the processes run side by side).
     */
    public static final class Launcher {
        private final Path dir;
        private String name = "portcullis";
        private String shellPrefix = "";
        private List<String> jvmOptions = List.of();
        private Map<String, String> env = Map.of();

        private Launcher(Path dir) {
            this.dir = dir;
        }

        /** Names the process in failure messages and its files: {@code <name>.yaml}, {@code <name>.log}. Default "portcullis". */
        public Launcher name(String name) {
            this.name = name;
            return this;
        }

        /** Shell commands to run before the JVM, in the same shell (e.g. {@code ulimit -n 256}); empty for none. */
        public Launcher shell(String shellPrefix) {
            this.shellPrefix = shellPrefix;
            return this;
        }

        /** JVM options, before {@code -jar}. */
        public Launcher jvmOptions(List<String> jvmOptions) {
            this.jvmOptions = List.copyOf(jvmOptions);
            return this;
        }

        /**
         * Environment variables on top of this JVM's. {@code server.warmup} is off unless they set
         * {@code PORTCULLIS_SERVER_WARMUP}: a test gateway need not wait for the JIT.
         */
        public Launcher env(Map<String, String> env) {
            this.env = Map.copyOf(env);
            return this;
        }

        /** Writes {@code yaml} to {@code <name>.yaml} and starts the process; {@link #awaitListening} waits until it serves. */
        public GatewayProcess launch(String yaml) {
            try {
                Path config = dir.resolve(name + ".yaml");
                Files.writeString(config, yaml);
                String java = ProcessHandle.current().info().command().orElse("java");
                String command = (shellPrefix.isBlank() ? "" : shellPrefix + " && ")
                        + "exec '" + java + "' --enable-native-access=ALL-UNNAMED " + String.join(" ", jvmOptions.stream().map(o -> "'" + o + "'").toList())
                        + " -jar '" + jar() + "' serve --config '" + config + "'";
                ProcessBuilder builder = new ProcessBuilder("bash", "-c", command).redirectErrorStream(true);
                builder.environment().put("PORTCULLIS_SERVER_WARMUP", "off");
                builder.environment().putAll(env);
                return new GatewayProcess(name, builder.start(), dir.resolve(name + ".log"));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        /** {@link #launch}, then waits up to {@link #START_TIMEOUT} for it to serve; kills it if it does not. */
        public GatewayProcess start(String yaml) {
            GatewayProcess gateway = launch(yaml);
            try {
                return gateway.awaitListening(START_TIMEOUT);
            } catch (AssertionError e) {
                gateway.close();
                throw e;
            }
        }
    }

    /** Waits up to {@code timeout} for the "listening" log line; fails with the last lines of output if it does not come. */
    public GatewayProcess awaitListening(Duration timeout) {
        try {
            listening.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return this;
        } catch (ExecutionException | TimeoutException e) {
            throw new AssertionError("gateway " + name + " did not report its ports within " + timeout + " (alive: " + process.isAlive()
                    + "); output:\n" + tail(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    private Listening listening() {
        Listening ports = listening.getNow(null);
        if (ports == null) {
            throw new IllegalStateException("gateway " + name + " has not reported its ports yet: call awaitListening first");
        }
        return ports;
    }

    public String name() {
        return name;
    }

    /** The WebSocket port it reported. */
    public int port() {
        return listening().port();
    }

    public int adminPort() {
        return listening().adminPort();
    }

    /** Its WebSocket endpoint ({@code wss} when it serves TLS). */
    public URI uri() {
        return URI.create(listening().scheme() + "://127.0.0.1:" + port() + "/ws");
    }

    public Process process() {
        return process;
    }

    /** Its admin listener. */
    public AdminApi admin() {
        return new AdminApi(adminPort());
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

    /** SIGKILL: the process dies at once, as in a crash, with no chance to write anything or say goodbye to anyone. */
    public int kill() throws InterruptedException {
        process.toHandle().destroyForcibly();
        return awaitExit(Duration.ofSeconds(10));
    }

    private int awaitExit(Duration within) throws InterruptedException {
        if (!process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("gateway " + name + " did not end within " + within + "; output:\n" + tail());
        }
        awaitOutputEnd();
        return process.exitValue();
    }

    /**
     * Every line of output so far, the start-up lines included.
     *
     * @throws AssertionError when it wrote more than {@link #MAX_LINES} lines (see its log file)
     */
    public List<String> output() {
        synchronized (lines) {
            if (dropped > 0) {
                throw new AssertionError("gateway " + name + " wrote more than " + MAX_LINES + " lines; " + dropped
                        + " are only in " + log);
            }
            return List.copyOf(lines);
        }
    }

    /** Waits up to {@code wait} for a line of output containing {@code fragment} (lines seen before count too). */
    public String awaitLine(String fragment, Duration wait) throws InterruptedException {
        long deadline = System.nanoTime() + wait.toNanos();
        synchronized (lines) {
            int next = 0;
            while (true) {
                for (; next < lines.size(); next++) {
                    if (lines.get(next).contains(fragment)) {
                        return lines.get(next);
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || ended) { // no line can come after the end of the output
                    break;
                }
                TimeUnit.NANOSECONDS.timedWait(lines, left);
            }
        }
        throw new AssertionError("no line with '" + fragment + "' within " + wait + " from gateway " + name + "; output:\n" + tail());
    }

    /** Waits for the output reader to reach the end of the output (after the process ended). */
    public void awaitOutputEnd() throws InterruptedException {
        reader.join(5_000);
    }

    /** The last lines of output, for failure messages (all of them are in the log file). */
    public String tail() {
        synchronized (lines) {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - TAIL_LINES), lines.size()));
        }
    }

    private void readOutput() {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
                BufferedWriter out = Files.newBufferedWriter(log)) {
            for (String line = in.readLine(); line != null; line = in.readLine()) {
                out.write(line);
                out.newLine();
                synchronized (lines) {
                    if (lines.size() < MAX_LINES) {
                        lines.add(line);
                    } else {
                        dropped++;
                    }
                    lines.notifyAll();
                }
                if (!listening.isDone()) {
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        out.flush();
                        listening.complete(new Listening(m.group(1), Integer.parseInt(m.group(2)), Integer.parseInt(m.group(3))));
                    }
                }
            }
        } catch (IOException ended) {
            // the process is gone (or the log file could not be written: the lines in memory still tell)
        } finally {
            synchronized (lines) {
                ended = true;
                lines.notifyAll();
            }
            listening.completeExceptionally(new IllegalStateException("gateway " + name + " ended its output"));
        }
    }

    /** SIGKILL if it is still running, and waits (up to 10 s) for it to end: for finally blocks and try-with-resources. */
    @Override
    public void close() {
        process.destroyForcibly();
        try {
            if (process.waitFor(10, TimeUnit.SECONDS)) {
                awaitOutputEnd();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
