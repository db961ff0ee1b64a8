package dev.portcullis.bench.load;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;

/**
 * The coordinator's end of one worker: a child JVM ({@code java ... load-worker}) talking over its
 * stdin/stdout, or (for tests and debugging) a {@link Worker} on a thread of this JVM over pipes.
 * A reader thread keeps the worker's latest report here; see {@link Worker} for the line protocol.
 */
final class WorkerLink {
    final int index;
    private final Process process;
    private final Thread thread;
    private final PrintStream toWorker;
    private final BiConsumer<String, org.HdrHistogram.Histogram> histograms;
    private volatile Map<String, Long> stats = Map.of();
    private volatile Map<String, Long> loss;
    private volatile boolean setUp;
    private volatile boolean ready;
    private volatile boolean done;
    private volatile boolean ended;
    private volatile String error;
    /** The slowest subscriber's offset, {@link Long#MIN_VALUE} before any report. */
    private volatile long minOffset = Long.MIN_VALUE;
    /** The last {@code report} request the worker answered. */
    private volatile long seq;

    private WorkerLink(int index, Process process, Thread thread, OutputStream toWorker, java.io.InputStream fromWorker,
            BiConsumer<String, org.HdrHistogram.Histogram> histograms) {
        this.index = index;
        this.process = process;
        this.thread = thread;
        this.toWorker = new PrintStream(toWorker, true, StandardCharsets.UTF_8);
        this.histograms = histograms;
        Thread reader = new Thread(() -> read(fromWorker), "load-link-" + index);
        reader.setDaemon(true);
        reader.start();
    }

    static WorkerLink spawn(int index, List<String> command, String planJson,
            BiConsumer<String, org.HdrHistogram.Histogram> histograms) throws IOException {
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        WorkerLink link = new WorkerLink(index, process, null, process.getOutputStream(), process.getInputStream(), histograms);
        link.send(planJson);
        return link;
    }

    static WorkerLink inProcess(int index, String planJson, BiConsumer<String, org.HdrHistogram.Histogram> histograms)
            throws IOException {
        PipedOutputStream commands = new PipedOutputStream();
        PipedInputStream workerIn = new PipedInputStream(commands, 1 << 16);
        PipedInputStream reports = new PipedInputStream(1 << 20);
        PipedOutputStream workerOut = new PipedOutputStream(reports);
        PrintStream workerPrint = new PrintStream(workerOut, true, StandardCharsets.UTF_8);
        Thread thread = new Thread(() -> {
            Worker.run(new BufferedReader(new InputStreamReader(workerIn, StandardCharsets.UTF_8)), workerPrint);
            workerPrint.close();
        }, "load-worker-" + index);
        thread.setDaemon(true);
        thread.start();
        WorkerLink link = new WorkerLink(index, null, thread, commands, reports, histograms);
        link.send(planJson);
        return link;
    }

    private void read(java.io.InputStream fromWorker) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(fromWorker, StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                handle(line);
            }
        } catch (IOException e) {
            // the worker is gone: ended says so
        }
        ended = true;
        if (!done && error == null) {
            error = "worker " + index + " ended unexpectedly" + exitCode();
        }
    }

    private String exitCode() {
        if (process == null) {
            return "";
        }
        try {
            return process.waitFor(2, TimeUnit.SECONDS) ? " (exit code " + process.exitValue() + ")" : "";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "";
        }
    }

    private void handle(String line) {
        int space = line.indexOf(' ');
        String head = space < 0 ? line : line.substring(0, space);
        String rest = space < 0 ? "" : line.substring(space + 1);
        switch (head) {
            case "@stats" -> {
                Map<String, Long> pairs = pairs(rest);
                Long n = pairs.remove("seq");
                stats = pairs;
                if (n != null) {
                    seq = n;
                }
            }
            case "@hist" -> {
                int sep = rest.indexOf(' ');
                histograms.accept(rest.substring(0, sep), Histograms.decode(rest.substring(sep + 1)));
            }
            case "@min" -> minOffset = Long.parseLong(rest.trim());
            case "@setup" -> setUp = true;
            case "@ready" -> ready = true;
            case "@loss" -> loss = pairs(rest);
            case "@done" -> done = true;
            case "@error" -> {
                error = "worker " + index + ": " + rest;
                System.err.println(error);
            }
            default -> System.err.println("[worker " + index + "] " + line);
        }
    }

    static Map<String, Long> pairs(String text) {
        Map<String, Long> map = new HashMap<>();
        for (String pair : text.trim().split(" ")) {
            int eq = pair.indexOf('=');
            if (eq > 0) {
                map.put(pair.substring(0, eq), Long.parseLong(pair.substring(eq + 1)));
            }
        }
        return map;
    }

    void send(String command) {
        toWorker.println(command);
    }

    long pid() {
        return process == null ? ProcessHandle.current().pid() : process.pid();
    }

    boolean child() {
        return process != null;
    }

    Map<String, Long> stats() {
        return stats;
    }

    Map<String, Long> loss() {
        return loss;
    }

    boolean setUp() {
        return setUp;
    }

    boolean ready() {
        return ready;
    }

    boolean done() {
        return done;
    }

    boolean ended() {
        return ended;
    }

    String error() {
        return error;
    }

    long seq() {
        return seq;
    }

    long minOffset() {
        return minOffset;
    }

    /** Waits for the worker to exit after {@code stop}; kills a child that does not. */
    void await(long millis) {
        try {
            if (process != null) {
                if (!process.waitFor(millis, TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                }
            } else if (thread != null) {
                thread.join(millis);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        toWorker.close();
    }

    void kill() {
        if (process != null) {
            process.destroyForcibly();
        } else {
            toWorker.close();
        }
    }
}
