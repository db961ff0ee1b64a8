package dev.portcullis.bench.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.HdrHistogram.Histogram;

/**
 * The coordinator's worker processes as one: how the connections are shared out among them (one
 * {@link WorkerPlan} each), the command line that starts a child JVM, commands to all of them, and
 * what they report back summed up (counters, latency histograms, the slowest subscriber, their CPU).
 *
 * <p>Its own class because none of this depends on which scenario runs or how a phase is timed:
 * {@link Coordinator} strings scenarios together and {@link PhaseRunner} times phases, both on top
 * of this one view of the workers.
 *
 * <p>Threads: the links are added by the coordinator's thread in {@link #spawn} before any other
 * use; afterwards the list only is read, by that thread and by the coordinator's shutdown hook.
 * The histograms arrive on each link's reader thread ({@link #histogram}) and are read by the
 * coordinator's thread: both maps are guarded by {@code totals}' monitor.
 */
final class WorkerFleet {
    private final Settings s;
    private final List<WorkerLink> links = new ArrayList<>();
    private final Map<String, Histogram> totals = new HashMap<>();
    private final Map<String, Histogram> lastSecond = new HashMap<>();

    WorkerFleet(Settings settings) {
        this.s = settings;
    }

    /** Starts {@code --processes} workers (child JVMs, or threads with {@code --in-process}), each with its share. */
    void spawn(List<String> sources) throws IOException {
        int k = s.processes;
        List<String> command = workerCommand();
        int first = 0;
        for (int i = 0; i < k; i++) {
            int share = s.connections / k + (i < s.connections % k ? 1 : 0);
            WorkerPlan plan = plan(i, first, share, sources);
            first += share;
            String json = Worker.JSON.writeValueAsString(plan);
            links.add(s.inProcess ? WorkerLink.inProcess(i, json, this::histogram) : WorkerLink.spawn(i, command, json, this::histogram));
        }
    }

    private WorkerPlan plan(int index, int first, int share, List<String> sources) {
        int k = s.processes;
        Map<String, Object> claims = new LinkedHashMap<>(s.claims);
        switch (s.scenario) {
            case "fanout", "churn" -> {
                if (!s.autoSubscribe) {
                    claims.put(s.permissionsClaim, Map.of(s.channel, "r"));
                }
            }
            case "inbound" -> claims.put(s.permissionsClaim, Map.of(s.namespace + ":*", s.subscribeRooms ? "rw" : "w"));
            default -> {}
        }
        return new WorkerPlan(index, s.scenario, s.target, s.urls, sources, s.insecure, s.threads, first, share,
                (int) Math.ceil(s.concurrency / (double) k), s.connectTimeout.toMillis(), s.handshakeTimeout.toMillis(),
                s.secret, s.tokensFile == null ? null : s.tokensFile.toString(), s.tokensSkip, s.connections, k, s.userPrefix,
                s.tokenTtl.toSeconds(), claims, s.badToken, s.channel, s.autoSubscribe, s.namespace, s.rooms, s.perConnectionRate,
                s.inFlight, s.payloadBytes, s.subscribeRooms, s.churnRate / k, s.churnHold.toMillis(),
                (int) Math.ceil(s.churnConcurrency / (double) k), s.publishes(), s.deflate);
    }

    /** The same java, the same JVM flags and class path, main class {@code Main load-worker}. */
    List<String> workerCommand() {
        String java = ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        List<String> command = new ArrayList<>();
        command.add(java);
        List<String> inherited = ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
                .filter(a -> !a.startsWith("-agentlib:jdwp") && !a.startsWith("-Xrunjdwp"))
                .toList();
        command.addAll(inherited);
        List<String> extra = s.workerJvmOpts == null || s.workerJvmOpts.isBlank() ? List.of() : List.of(s.workerJvmOpts.trim().split("\\s+"));
        boolean heapGiven = inherited.stream().anyMatch(a -> a.startsWith("-Xmx")) || extra.stream().anyMatch(a -> a.startsWith("-Xmx"));
        if (!heapGiven) {
            command.add("-Xmx1g");
        }
        int feature = Runtime.version().feature();
        if (feature >= 22 && inherited.stream().noneMatch(a -> a.startsWith("--enable-native-access"))) {
            command.add("--enable-native-access=ALL-UNNAMED");
        }
        if (feature >= 23 && inherited.stream().noneMatch(a -> a.startsWith("--sun-misc-unsafe-memory-access"))) {
            command.add("--sun-misc-unsafe-memory-access=allow");
        }
        command.addAll(extra);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("dev.portcullis.bench.Main");
        command.add("load-worker");
        return command;
    }

    private void histogram(String name, Histogram h) {
        synchronized (totals) {
            totals.computeIfAbsent(name, n -> Histograms.empty()).add(h);
            lastSecond.computeIfAbsent(name, n -> Histograms.empty()).add(h);
        }
    }

    /** The whole run's latencies; read once the workers are done. */
    Map<String, Histogram> totals() {
        return totals;
    }

    /** The latencies reported since the previous call (for the progress line's p99). */
    Map<String, Histogram> takeLastSecond() {
        synchronized (totals) {
            Map<String, Histogram> second = new HashMap<>(lastSecond);
            lastSecond.clear();
            return second;
        }
    }

    List<WorkerLink> links() {
        return links;
    }

    int size() {
        return links.size();
    }

    void broadcast(String command) {
        links.forEach(l -> l.send(command));
    }

    boolean allSetUp() {
        return links.stream().allMatch(WorkerLink::setUp);
    }

    boolean allReady() {
        return links.stream().allMatch(WorkerLink::ready);
    }

    /** The first worker's error, or null while none failed. */
    String error() {
        for (WorkerLink link : links) {
            if (link.error() != null) {
                return link.error();
            }
        }
        return null;
    }

    /** Asks every worker to close down, waits for them (at most ~25 s), then lets them go. */
    void stop() {
        for (WorkerLink link : links) {
            if (!link.ended()) {
                link.send("stop");
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (links.stream().anyMatch(l -> !l.done() && !l.ended()) && System.nanoTime() < deadline) {
            Coordinator.sleep(50);
        }
        links.forEach(l -> l.await(5000));
    }

    /** Ctrl-C or SIGTERM: the workers close their connections (briefly), whatever survives is killed. */
    void interrupt() {
        links.forEach(l -> l.send("stop"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (links.stream().anyMatch(l -> !l.ended()) && System.nanoTime() < deadline) {
            try {
                Thread.sleep(50);
            } catch (InterruptedException e) {
                break;
            }
        }
        links.forEach(WorkerLink::kill);
    }

    /** The workers' counters as last reported, summed. */
    Map<String, Long> sumStats() {
        Map<String, Long> sum = new java.util.TreeMap<>();
        for (WorkerLink link : links) {
            link.stats().forEach((k, v) -> sum.merge(k, v, Long::sum));
        }
        return sum;
    }

    /** CPU and memory of this process and of every child worker. */
    ProcStats.Sample generatorSample() {
        ProcStats.Sample sample = ProcStats.of(ProcessHandle.current().pid());
        for (WorkerLink link : links) {
            if (link.child()) {
                sample = sample.plus(ProcStats.of(link.pid()));
            }
        }
        return sample;
    }

    /** The slowest open subscriber across all workers, for the saturating publisher. */
    long slowestOffset() {
        long min = Long.MAX_VALUE;
        for (WorkerLink l : links) {
            long m = l.minOffset();
            if (m != Long.MIN_VALUE) {
                min = Math.min(min, m);
            }
        }
        return min == Long.MAX_VALUE ? -1 : min;
    }

    /** Every worker that still has subscribers has seen offset {@code last}. */
    boolean reached(long last) {
        return links.stream().allMatch(l -> l.minOffset() >= last || !hasSubscribers(l));
    }

    private static boolean hasSubscribers(WorkerLink link) {
        return link.stats().getOrDefault("subscribed", 0L) - link.stats().getOrDefault("lost", 0L) > 0;
    }
}
