package dev.portcullis.bench.load;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;
import org.HdrHistogram.Histogram;

/**
 * Runs the phases of a scenario and measures them: exact counter snapshots at a phase's edges,
 * the server's and the generator's CPU and memory from {@code /proc} around it, the host's TCP
 * counters, and the progress line every second in between. Also the one place that waits on the
 * workers, so every wait notices a failed worker or publisher ({@link Coordinator.Abort}).
 *
 * <p>Its own class because timing and sampling are the same for every scenario: the scenarios in
 * {@link Coordinator} only say what a phase waits for and what its numbers mean.
 *
 * <p>Threads: used only by the coordinator's thread (the one that called {@link Coordinator#run});
 * the workers' counters and histograms it reads come through {@link WorkerFleet}, which guards them.
 */
final class PhaseRunner {
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Settings s;
    private final WorkerFleet fleet;
    /** The fanout scenarios' publisher once it exists, else null. */
    private final Supplier<Publisher> publisher;
    private final List<Phase> phases = new ArrayList<>();
    private final long runStartNanos = System.nanoTime();
    private Map<String, Long> previousTick = Map.of();
    private ProcStats.Sample previousServer;
    private long previousGenerator;
    private long previousTickNanos;
    private long snapshotSeq;

    PhaseRunner(Settings settings, WorkerFleet fleet, Supplier<Publisher> publisher) {
        this.s = settings;
        this.fleet = fleet;
        this.publisher = publisher;
    }

    /** Every phase run so far, in order. */
    List<Phase> phases() {
        return phases;
    }

    private ProcStats.Sample server() {
        return ProcStats.sum(s.serverPids);
    }

    /**
     * The workers' counters as of now: every worker is asked for an immediate report and answers it
     * (their once-a-second reports would put a phase's boundaries up to a second off).
     */
    private Map<String, Long> snapshot() {
        long seq = ++snapshotSeq;
        fleet.broadcast("report " + seq);
        waitFor("the workers' reports", Duration.ofSeconds(10), () -> fleet.links().stream().allMatch(l -> l.ended() || l.seq() >= seq));
        return fleet.sumStats();
    }

    /** Runs until {@code done} or {@code max}, printing progress every second; records what it cost. */
    Phase phase(String name, Duration max, BooleanSupplier done) {
        Map<String, Long> before = snapshot();
        ProcStats.Sample serverBefore = server();
        ProcStats.Sample generatorBefore = fleet.generatorSample();
        Map<String, Long> tcpBefore = ProcStats.tcp();
        long start = System.nanoTime();
        previousTick = before;
        previousTickNanos = start;
        previousServer = serverBefore;
        previousGenerator = generatorBefore.cpuMs();
        long nextTick = start + SECOND_NANOS;
        long end = start + max.toNanos();
        while (!done.getAsBoolean()) {
            checkHealth();
            long now = System.nanoTime();
            if (now - end >= 0) {
                break;
            }
            if (now - nextTick >= 0) {
                Scan.reanchor();
                progress(name);
                nextTick += SECOND_NANOS;
            }
            Coordinator.sleep(Math.max(1, Math.min(50, TimeUnit.NANOSECONDS.toMillis(Math.min(nextTick, end) - now))));
        }
        Map<String, Long> after = snapshot();
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> tcp = new LinkedHashMap<>();
        ProcStats.tcp().forEach((k, v) -> tcp.put(k, v - tcpBefore.getOrDefault(k, v)));
        Phase phase = new Phase(name, seconds, serverBefore, server(), generatorBefore, fleet.generatorSample(), before, after, tcp);
        phases.add(phase);
        return phase;
    }

    /** A phase of a fixed length. */
    Phase timed(String name, Duration length) {
        return phase(name, length, () -> false);
    }

    private void checkHealth() {
        String error = fleet.error();
        if (error != null) {
            throw new Coordinator.Abort(error);
        }
        Publisher p = publisher.get();
        if (p != null && p.fatal() != null) {
            throw new Coordinator.Abort(p.fatal());
        }
    }

    /** Waits for {@code condition}; aborts the run after {@code max} or when a worker or the publisher failed. */
    void waitFor(String what, Duration max, BooleanSupplier condition) {
        long end = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            checkHealth();
            if (System.nanoTime() - end >= 0) {
                throw new Coordinator.Abort("timed out waiting for " + what);
            }
            Coordinator.sleep(20);
        }
    }

    private void progress(String phase) {
        if (!s.progress) {
            return;
        }
        long now = System.nanoTime();
        double dt = Math.max(1e-3, (now - previousTickNanos) / 1e9);
        Map<String, Long> stats = fleet.sumStats();
        ProcStats.Sample server = server();
        long generator = fleet.generatorSample().cpuMs();
        Map<String, Histogram> second = fleet.takeLastSecond();
        StringBuilder line = new StringBuilder(160);
        line.append(String.format("[%6.1fs] %-8s", (now - runStartNanos) / 1e9, phase));
        long open = stats.getOrDefault("opened", 0L) - stats.getOrDefault("lost", 0L) - stats.getOrDefault("closed", 0L);
        if (s.scenario.equals("reject")) {
            line.append(String.format(" attempts %,d/%,d  401/s %,.0f", stats.getOrDefault("attempts", 0L), s.connections,
                    rate(stats, "rejected", dt)));
        } else {
            line.append(String.format(" connected %,d/%,d  handshakes/s %,.0f", open, s.connections,
                    rate(stats, "opened", dt)));
        }
        String latencyName = switch (s.scenario) {
            case "fanout", "churn" -> Histograms.DELIVERY;
            case "inbound" -> Histograms.ACK;
            default -> Histograms.HANDSHAKE;
        };
        switch (s.scenario) {
            case "fanout", "churn" -> {
                line.append(String.format("  deliveries/s %,.0f", rate(stats, "deliveries", dt)));
                Publisher p = publisher.get();
                if (p != null) {
                    line.append(String.format("  published %,d", p.published()));
                }
                if (s.scenario.equals("churn")) {
                    line.append(String.format("  churn/s %,.0f", rate(stats, "churn_opened", dt)));
                }
            }
            case "inbound" -> line.append(String.format("  accepted/s %,.0f  rate-limited %,d", rate(stats, "accepted", dt),
                    stats.getOrDefault("rate_limited", 0L)));
            default -> {}
        }
        Histogram h = second.get(latencyName);
        if (h != null && h.getTotalCount() > 0) {
            line.append("  p99 ").append(Histograms.pretty(h.getValueAtPercentile(99)));
        }
        line.append(String.format("  errors %,d  lost %,d", errors(stats), stats.getOrDefault("lost", 0L)));
        line.append(String.format("  gen-cpu %.0f%%", (generator - previousGenerator) / dt / 10));
        if (!s.serverPids.isEmpty()) {
            line.append(String.format("  server-cpu %.0f%% rss %,dMB", (server.cpuMs() - previousServer.cpuMs()) / dt / 10,
                    server.rssKb() / 1024));
        }
        System.out.println(line);
        previousTick = stats;
        previousTickNanos = now;
        previousServer = server;
        previousGenerator = generator;
    }

    private double rate(Map<String, Long> stats, String key, double seconds) {
        return (stats.getOrDefault(key, 0L) - previousTick.getOrDefault(key, 0L)) / seconds;
    }

    /** Everything that went wrong, except what the scenario expects (401s in {@code reject}). */
    static long errors(Map<String, Long> stats) {
        long n = 0;
        for (var e : stats.entrySet()) {
            String k = e.getKey();
            if (k.startsWith("fail.") || k.startsWith("error.") || k.startsWith("status.") && !k.equals("status.401")) {
                n += e.getValue();
            }
        }
        return n;
    }
}
