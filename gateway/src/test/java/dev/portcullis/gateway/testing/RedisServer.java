package dev.portcullis.gateway.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} process on a free loopback port, for integration tests: started per
 * test class, killed (SIGKILL) and restarted on the same port where a test needs a Redis fault.
 * No persistence: a restart starts empty, as a crashed cache would. The same class runs a Sentinel
 * ({@link #startSentinel}), and {@link #stop()}/{@link #resume()} freeze a process without closing
 * its sockets, which is how a hung (GC-paused, swapped-out) Redis looks to its clients.
 */
public final class RedisServer implements AutoCloseable {
    /** How long {@link #cli} waits: a SIGSTOPped server accepts the connection but never answers. */
    private static final Duration CLI_TIMEOUT = Duration.ofSeconds(5);

    private final int port;
    private final Path dir;
    private final List<String> extraArgs;
    private final boolean sentinel;
    private Process process;
    private volatile boolean stopped;

    private RedisServer(int port, List<String> extraArgs, boolean sentinel) throws IOException {
        this.port = port;
        this.extraArgs = extraArgs;
        this.sentinel = sentinel;
        this.dir = Files.createTempDirectory("portcullis-redis-" + port);
    }

    /** A data node; {@code extraArgs} are appended to the command line, e.g. {@code --enable-debug-command local}. */
    public static RedisServer start(String... extraArgs) {
        try {
            return launch(new RedisServer(freePort(), List.of(extraArgs), false));
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server (is the Debian package redis-server installed?)", e);
        }
    }

    /** A data node replicating {@code master} ({@code --replicaof}); returns once it listens, maybe before it has synced. */
    public static RedisServer startReplicaOf(RedisServer master, String... extraArgs) {
        List<String> args = new ArrayList<>(List.of(extraArgs));
        args.addAll(List.of("--replicaof", "127.0.0.1", Integer.toString(master.port())));
        return start(args.toArray(String[]::new));
    }

    /**
     * A Sentinel monitoring {@code 127.0.0.1:masterPort} as {@code masterName}, 1 s down-after, 5 s
     * failover timeout. Its sentinel.conf lives in the temp dir because Sentinel rewrites it with
     * what it learns (replicas, other sentinels, its id), so a {@link #restart()} remembers them.
     */
    public static RedisServer startSentinel(String masterName, int masterPort, int quorum) {
        RedisServer server;
        try {
            server = new RedisServer(freePort(), List.of(), true);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start redis-server --sentinel", e);
        }
        try {
            Files.writeString(server.dir.resolve("sentinel.conf"), String.join("\n",
                    "bind 127.0.0.1",
                    "protected-mode no",
                    "dir " + server.dir,
                    "sentinel monitor " + masterName + " 127.0.0.1 " + masterPort + " " + quorum,
                    "sentinel down-after-milliseconds " + masterName + " 1000",
                    "sentinel failover-timeout " + masterName + " 5000",
                    "sentinel parallel-syncs " + masterName + " 2",
                    ""));
            return launch(server);
        } catch (IOException e) {
            server.close();
            throw new IllegalStateException("cannot start redis-server --sentinel", e);
        }
    }

    private static RedisServer launch(RedisServer server) throws IOException {
        try {
            server.startProcess();
            return server;
        } catch (IOException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    public int port() {
        return port;
    }

    public String url() {
        return "redis://127.0.0.1:" + port;
    }

    public long pid() {
        return process.pid();
    }

    /** True until killed or exited; a SIGSTOPped process is alive (see {@link #isStopped()}). */
    public boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** True between {@link #stop()} and {@link #resume()}: alive, but answers nobody. */
    public boolean isStopped() {
        return stopped && isAlive();
    }

    /** Alive and not stopped: a {@link #cli} call will be answered. */
    public boolean isAnswering() {
        return isAlive() && !stopped;
    }

    /** SIGKILL: no goodbye to clients, as a crash. Works on a stopped process too. */
    public void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            process.waitFor(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        stopped = false;
    }

    /** SIGSTOP: the process freezes with its sockets open, so peers see timeouts, not resets. */
    public void stop() {
        ProcessSignals.stop(pid());
        stopped = true;
    }

    /** SIGCONT after {@link #stop()}. */
    public void resume() {
        ProcessSignals.resume(pid());
        stopped = false;
    }

    /** Starts again on the same port (a data node comes back empty, a Sentinel with its rewritten config). */
    public void restart() {
        if (isAlive()) {
            throw new IllegalStateException("redis on " + port + " is still running: kill() it first");
        }
        try {
            startProcess();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * {@code redis-cli -p <port> args...}: its trimmed output, error replies included (non-tty, so
     * one value a line, nested arrays flattened). Throws if the server does not answer in 5 s.
     */
    public String cli(String... args) {
        return cli(CLI_TIMEOUT, args);
    }

    /**
     * Every key under {@code prefix} (SCAN, so also on a large keyspace) with what it holds as text:
     * strings, hashes, lists, sets, sorted sets and streams (every entry's id, fields and values).
     * For tests that must show something appears nowhere in Redis, e.g. a plaintext that only the
     * clients should ever see: {@code contentsUnder("portcullis").forEach((key, text) -> assertThat(text).doesNotContain(marker))}.
     * Keys are matched by glob, so {@code prefix} must not hold glob characters.
     */
    public Map<String, String> contentsUnder(String prefix) {
        if (prefix.chars().anyMatch(c -> "*?[\\".indexOf(c) >= 0)) {
            throw new IllegalArgumentException("a plain key prefix, no glob characters: " + prefix);
        }
        Map<String, String> contents = new TreeMap<>();
        for (String key : cli("--scan", "--pattern", prefix + "*").lines().filter(line -> !line.isEmpty()).toList()) {
            String type = cli("TYPE", key);
            String text = switch (type) {
                case "string" -> cli("GET", key);
                case "hash" -> cli("HGETALL", key);
                case "list" -> cli("LRANGE", key, "0", "-1");
                case "set" -> cli("SMEMBERS", key);
                case "zset" -> cli("ZRANGE", key, "0", "-1", "WITHSCORES");
                case "stream" -> cli("XRANGE", key, "-", "+");
                case "none" -> ""; // expired or deleted between SCAN and TYPE
                default -> throw new IllegalStateException("key " + key + " has a type this helper does not read: " + type);
            };
            contents.put(key, type + ": " + text);
        }
        return contents;
    }

    String cli(Duration timeout, String... args) {
        List<String> command = new ArrayList<>(List.of("redis-cli", "-h", "127.0.0.1", "-p", Integer.toString(port)));
        command.addAll(List.of(args));
        try {
            Process cli = new ProcessBuilder(command).redirectErrorStream(true).start();
            // read on the side: a frozen server would block a plain readAllBytes() forever
            StringBuilder output = new StringBuilder();
            Thread reader = Thread.ofVirtual().start(() -> {
                try {
                    output.append(new String(cli.getInputStream().readAllBytes()));
                } catch (IOException ignored) {
                    // stream closed by destroyForcibly below
                }
            });
            if (!cli.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                cli.destroyForcibly();
                cli.waitFor(5, TimeUnit.SECONDS);
                throw new IllegalStateException(String.join(" ", command) + ": no answer within " + timeout);
            }
            reader.join();
            return output.toString().trim();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private void startProcess() throws IOException {
        List<String> command;
        if (sentinel) {
            command = new ArrayList<>(List.of("redis-server", dir.resolve("sentinel.conf").toString(), "--sentinel",
                    "--port", Integer.toString(port)));
        } else {
            command = new ArrayList<>(List.of("redis-server", "--port", Integer.toString(port), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", dir.toString(), "--protected-mode", "no"));
        }
        command.addAll(extraArgs);
        Path log = dir.resolve("redis.log");
        stopped = false;
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket probe = new Socket("127.0.0.1", port)) {
                return;
            } catch (IOException notYet) {
                if (!process.isAlive()) {
                    throw new IOException("redis-server exited: " + Files.readString(log));
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    kill();
                    throw new IOException(e);
                }
            }
        }
        kill();
        throw new IOException("redis-server did not listen on " + port + ": " + Files.readString(log));
    }

    interface Condition {
        boolean met();
    }

    /** Polls real state every 50 ms; a probe that throws (node not answering yet) counts as not met. */
    static void await(String what, Duration timeout, Condition condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        RuntimeException last = null;
        while (true) {
            try {
                if (condition.met()) {
                    return;
                }
            } catch (RuntimeException e) {
                last = e;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("timed out after " + timeout + " waiting for " + what, last);
            }
            try {
                TimeUnit.MILLISECONDS.sleep(50);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Kills the process and deletes its temp dir (config, nodes.conf, log). */
    @Override
    public void close() {
        kill();
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        } catch (IOException ignored) {
            // best effort: a leftover temp dir harms nobody
        }
    }
}
