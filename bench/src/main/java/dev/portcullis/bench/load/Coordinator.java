package dev.portcullis.bench.load;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.HdrHistogram.Histogram;

/**
 * The {@code load} command's parent process: checks the settings ({@link Preflight}), spawns the
 * workers, drives the scenario's phases (ramp, hold, publish, drain...), prints a progress line
 * every second, samples the server's and its own CPU and memory around every phase, and hands the
 * outcome to {@link Report}.
 *
 * <p>This class is one piece because the phases share all of its state (the workers, the running
 * totals, the histograms); each scenario is one short method that strings phases together.
 */
final class Coordinator {
    /** Exit codes: the run completed and its checks passed / it completed but a check failed / it could not run. */
    static final int OK = 0;
    static final int FAILED_CHECKS = 3;
    static final int ERROR = 1;
    static final int USAGE = 2;
    private static final long SECOND_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Settings s;
    private final List<Target> targets = new ArrayList<>();
    private final List<String> sources = new ArrayList<>();
    private Target admin;
    private final List<WorkerLink> links = new ArrayList<>();
    private final Map<String, Histogram> totals = new HashMap<>();
    private final Map<String, Histogram> lastSecond = new HashMap<>();
    private final List<Phase> phases = new ArrayList<>();
    private final Map<String, Object> results = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private Publisher publisher;
    private final long runStartNanos = System.nanoTime();
    private Map<String, Long> previousTick = Map.of();
    private ProcStats.Sample previousServer;
    private long previousGenerator;
    private long previousTickNanos;
    private long snapshotSeq;

    /** One stretch of the run with the same activity, and what it cost. */
    record Phase(String name, double seconds, ProcStats.Sample serverBefore, ProcStats.Sample serverAfter,
            ProcStats.Sample generatorBefore, ProcStats.Sample generatorAfter, Map<String, Long> before, Map<String, Long> after,
            Map<String, Long> tcp) {
        long generatorCpuMs() {
            return generatorAfter.cpuMs() - generatorBefore.cpuMs();
        }

        long generatorUserMs() {
            return generatorAfter.userMs() - generatorBefore.userMs();
        }

        long serverUserMs() {
            return serverAfter.userMs() - serverBefore.userMs();
        }

        long delta(String key) {
            return after.getOrDefault(key, 0L) - before.getOrDefault(key, 0L);
        }

        long serverCpuMs() {
            return serverAfter.cpuMs() - serverBefore.cpuMs();
        }

        /** The kernel's part of {@link #serverCpuMs()}: system calls, and on loopback the TCP stack of both ends' sends. */
        long serverSystemMs() {
            return serverCpuMs() - serverUserMs();
        }
    }

    /** Stops the run with a message (a worker failed, the publisher was refused...). */
    static final class Abort extends RuntimeException {
        Abort(String message) {
            super(message);
        }
    }

    Coordinator(Settings settings) {
        this.s = settings;
    }

    int run() {
        try {
            Preflight.Checked checked = Preflight.check(s);
            targets.addAll(checked.targets());
            sources.addAll(checked.sources());
            admin = checked.admin();
            Preflight.reach(checked);
        } catch (IllegalArgumentException e) {
            System.err.println("portcullis-bench: " + e.getMessage());
            return USAGE;
        } catch (IllegalStateException e) {
            System.err.println("portcullis-bench: " + e.getMessage());
            return ERROR;
        }
        Thread killer = new Thread(() -> {
            // Ctrl-C or SIGTERM: the workers close their connections (briefly), whatever survives is killed.
            System.err.println("portcullis-bench: interrupted; stopping the workers");
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
        });
        Runtime.getRuntime().addShutdownHook(killer);
        boolean completed = false;
        try {
            spawn();
            switch (s.scenario) {
                case "connect" -> connect();
                case "fanout" -> fanout(false);
                case "churn" -> fanout(true);
                case "inbound" -> inbound();
                case "reject" -> reject();
                default -> throw new IllegalArgumentException("unknown scenario " + s.scenario);
            }
            completed = true;
        } catch (Abort | IllegalStateException e) {
            problems.add("aborted: " + e.getMessage());
            System.err.println("portcullis-bench: " + e.getMessage());
        } catch (IOException e) {
            problems.add("aborted: " + e);
            System.err.println("portcullis-bench: " + e);
        } finally {
            stopWorkers();
            if (publisher != null) {
                publisher.close();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException e) {
                // shutting down already
            }
        }
        Report report = new Report(s, sumStats(), totals, phases, results, problems, links.size(), publisher);
        report.print();
        try {
            report.write();
        } catch (IOException e) {
            System.err.println("portcullis-bench: cannot write --out " + s.out + ": " + e.getMessage());
            return ERROR;
        }
        if (!completed) {
            return ERROR;
        }
        return report.passed() ? OK : FAILED_CHECKS;
    }

    // ---- workers ------------------------------------------------------------------------------

    private void spawn() throws IOException {
        int k = s.processes;
        List<String> command = workerCommand();
        int first = 0;
        for (int i = 0; i < k; i++) {
            int share = s.connections / k + (i < s.connections % k ? 1 : 0);
            WorkerPlan plan = plan(i, first, share);
            first += share;
            String json = Worker.JSON.writeValueAsString(plan);
            links.add(s.inProcess ? WorkerLink.inProcess(i, json, this::histogram) : WorkerLink.spawn(i, command, json, this::histogram));
        }
        if (s.progress) {
            System.out.printf("portcullis-bench %s: %,d connections over %d worker process%s (%s), %d URL(s)%s%n", s.scenario,
                    s.connections, k, k == 1 ? "" : "es", s.inProcess ? "in-process" : "child JVMs", targets.size(),
                    sources.isEmpty() ? "" : ", source addresses " + sources.get(0) + ".." + sources.get(sources.size() - 1));
        }
        waitFor("worker start-up", Duration.ofMinutes(2), () -> links.stream().allMatch(WorkerLink::setUp));
    }

    private WorkerPlan plan(int index, int first, int share) {
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

    private void broadcast(String command) {
        links.forEach(l -> l.send(command));
    }

    private void stopWorkers() {
        for (WorkerLink link : links) {
            if (!link.ended()) {
                link.send("stop");
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (links.stream().anyMatch(l -> !l.done() && !l.ended()) && System.nanoTime() < deadline) {
            sleep(50);
        }
        links.forEach(l -> l.await(5000));
    }

    Map<String, Long> sumStats() {
        Map<String, Long> sum = new java.util.TreeMap<>();
        for (WorkerLink link : links) {
            link.stats().forEach((k, v) -> sum.merge(k, v, Long::sum));
        }
        return sum;
    }

    // ---- phases -------------------------------------------------------------------------------

    private ProcStats.Sample server() {
        return ProcStats.sum(s.serverPids);
    }

    private ProcStats.Sample generator() {
        ProcStats.Sample sample = ProcStats.of(ProcessHandle.current().pid());
        for (WorkerLink link : links) {
            if (link.child()) {
                sample = sample.plus(ProcStats.of(link.pid()));
            }
        }
        return sample;
    }

    /**
     * The workers' counters as of now: every worker is asked for an immediate report and answers it
     * (their once-a-second reports would put a phase's boundaries up to a second off).
     */
    private Map<String, Long> snapshot() {
        long seq = ++snapshotSeq;
        broadcast("report " + seq);
        waitFor("the workers' reports", Duration.ofSeconds(10), () -> links.stream().allMatch(l -> l.ended() || l.seq() >= seq));
        return sumStats();
    }

    /** Runs until {@code done} or {@code max}, printing progress every second; records what it cost. */
    private Phase phase(String name, Duration max, BooleanSupplier done) {
        Map<String, Long> before = snapshot();
        ProcStats.Sample serverBefore = server();
        ProcStats.Sample generatorBefore = generator();
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
            sleep(Math.max(1, Math.min(50, TimeUnit.NANOSECONDS.toMillis(Math.min(nextTick, end) - now))));
        }
        Map<String, Long> after = snapshot();
        double seconds = (System.nanoTime() - start) / 1e9;
        Map<String, Long> tcp = new LinkedHashMap<>();
        ProcStats.tcp().forEach((k, v) -> tcp.put(k, v - tcpBefore.getOrDefault(k, v)));
        Phase phase = new Phase(name, seconds, serverBefore, server(), generatorBefore, generator(), before, after, tcp);
        phases.add(phase);
        return phase;
    }

    /** A phase of a fixed length. */
    private Phase timed(String name, Duration length) {
        return phase(name, length, () -> false);
    }

    private void checkHealth() {
        for (WorkerLink link : links) {
            if (link.error() != null) {
                throw new Abort(link.error());
            }
        }
        if (publisher != null && publisher.fatal() != null) {
            throw new Abort(publisher.fatal());
        }
    }

    private void waitFor(String what, Duration max, BooleanSupplier condition) {
        long end = System.nanoTime() + max.toNanos();
        while (!condition.getAsBoolean()) {
            checkHealth();
            if (System.nanoTime() - end >= 0) {
                throw new Abort("timed out waiting for " + what);
            }
            sleep(20);
        }
    }

    private void progress(String phase) {
        if (!s.progress) {
            return;
        }
        long now = System.nanoTime();
        double dt = Math.max(1e-3, (now - previousTickNanos) / 1e9);
        Map<String, Long> stats = sumStats();
        ProcStats.Sample server = server();
        long generator = generator().cpuMs();
        Map<String, Histogram> second;
        synchronized (totals) {
            second = new HashMap<>(lastSecond);
            lastSecond.clear();
        }
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
                if (publisher != null) {
                    line.append(String.format("  published %,d", publisher.published()));
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

    // ---- scenarios ----------------------------------------------------------------------------

    /** Opens every connection at bounded concurrency; fails the run if none opened. */
    private Phase ramp() {
        broadcast("go");
        Phase ramp = phase("connect", s.rampTimeout, () -> links.stream().allMatch(WorkerLink::ready));
        if (!links.stream().allMatch(WorkerLink::ready)) {
            problems.add("connection set-up did not finish within --ramp-timeout " + s.rampTimeout);
            broadcast("stop-launching");
            waitFor("the workers to stop launching", Duration.ofSeconds(30), () -> links.stream().allMatch(WorkerLink::ready));
        }
        return ramp;
    }

    private void connect() {
        Phase ramp = ramp();
        long opened = ramp.after().getOrDefault("opened", 0L);
        results.put("target", s.connections);
        results.put("opened", opened);
        results.put("failed", ramp.after().getOrDefault("failed", 0L));
        results.put("rampSeconds", round(ramp.seconds()));
        results.put("handshakesPerSecond", round(opened / Math.max(1e-9, ramp.seconds())));
        if (opened < s.connections) {
            problems.add(String.format("%,d of %,d connections did not open", s.connections - opened, s.connections));
        }
        boolean measured = !s.serverPids.isEmpty() && opened > 0;
        if (measured) {
            results.put("serverCpuMsPer1000Handshakes", round(ramp.serverCpuMs() * 1000.0 / opened));
            results.put("serverUserCpuMsPer1000Handshakes", round(ramp.serverUserMs() * 1000.0 / opened));
            results.put("serverSystemCpuMsPer1000Handshakes", round(ramp.serverSystemMs() * 1000.0 / opened));
            results.put("serverRssKbBefore", ramp.serverBefore().rssKb());
            results.put("serverRssKbAfterConnect", ramp.serverAfter().rssKb());
            results.put("serverRssKbPerConnectionAfterConnect",
                    round((ramp.serverAfter().rssKb() - ramp.serverBefore().rssKb()) / (double) opened));
        }
        if (opened == 0) {
            return;
        }
        Phase hold = timed("hold", s.hold);
        if (measured) {
            results.put("serverRssKbAfterHold", hold.serverAfter().rssKb());
            results.put("serverRssKbPerConnection", round((hold.serverAfter().rssKb() - ramp.serverBefore().rssKb()) / (double) opened));
            results.put("serverCpuMsDuringHold", hold.serverCpuMs());
        }
        results.put("holdSeconds", round(hold.seconds()));
        results.put("lostDuringHold", hold.delta("lost"));
        results.put("pingsAnsweredDuringHold", hold.delta("pings"));
        results.put("stillOpenAfterHold", hold.after().getOrDefault("opened", 0L) - hold.after().getOrDefault("lost", 0L));
        if (hold.delta("lost") > 0) {
            problems.add(String.format("%,d connections were lost during the hold", hold.delta("lost")));
        }
    }

    private void fanout(boolean churn) {
        Phase ramp = ramp();
        long subscribers = ramp.after().getOrDefault("subscribed", 0L);
        if (subscribers == 0) {
            throw new Abort("no subscriber could subscribe to " + s.channel + "; see the errors above");
        }
        if (subscribers < s.connections) {
            problems.add(String.format("%,d of %,d subscribers did not subscribe", s.connections - subscribers, s.connections));
        }
        double rate = s.deliveryRate > 0 ? s.deliveryRate / subscribers : s.rate;
        try {
            publisher = new Publisher(admin, s.target, s.apiKey, s.channel, s.payloadBytes, s.alertPayload, s.insecure);
        } catch (javax.net.ssl.SSLException e) {
            throw new IllegalStateException("TLS set-up for the admin API failed: " + e.getMessage());
        }
        publisher.connect(s.publishers);
        long total = s.warmup.toNanos() + s.duration.toNanos();
        broadcast("measure " + (Scan.wallMicros() + s.warmup.toNanos() / 1000));
        publisher.start(rate, total, s.window, this::slowestOffset);
        if (churn) {
            broadcast("churn-start");
        }
        if (!s.warmup.isZero()) {
            timed("warmup", s.warmup);
        }
        Phase publish = phase(churn ? "churn" : "publish", s.duration.plusSeconds(30), publisher::finished);
        if (churn) {
            broadcast("churn-stop");
        }
        long last = publisher.lastOffset();
        Phase drain = phase("drain", s.drain, () -> last < 0 || links.stream()
                .allMatch(l -> l.minOffset() >= last || !hasSubscribers(l)));
        long first = publisher.firstOffset();
        long missing = 0;
        long duplicates = 0;
        long complete = 0;
        if (first >= 0) {
            broadcast("range " + first + " " + last);
            waitFor("the loss count", Duration.ofSeconds(30), () -> links.stream().allMatch(l -> l.loss() != null));
            for (WorkerLink l : links) {
                missing += l.loss().getOrDefault("missing", 0L);
                duplicates += l.loss().getOrDefault("duplicates", 0L);
                complete += l.loss().getOrDefault("complete", 0L);
            }
        }
        long published = publisher.published();
        long deliveries = publish.delta("deliveries");
        results.put("subscribers", subscribers);
        results.put("publicationsPerSecondAsked", rate == 0 ? "saturate" : round(rate));
        results.put("published", published);
        results.put("publishSeconds", round(publish.seconds()));
        results.put("publicationsPerSecond", round(published / Math.max(1e-9, publish.seconds() + s.warmup.toMillis() / 1000.0)));
        results.put("deliveriesDuringPublish", deliveries);
        results.put("deliveriesPerSecond", round(deliveries / Math.max(1e-9, publish.seconds())));
        results.put("deliveriesTotal", drain.after().getOrDefault("deliveries", 0L));
        if (deliveries > 0) {
            results.put("frameBytesPerDelivery", round(publish.delta("delivery_bytes") / (double) deliveries));
        }
        results.put("expectedDeliveries", published * subscribers);
        results.put("missing", missing);
        results.put("duplicates", duplicates);
        results.put("subscribersWithEverything", complete);
        results.put("lossRatio", published * subscribers == 0 ? 0 : missing / (double) (published * subscribers));
        results.put("drainSeconds", round(drain.seconds()));
        results.put("publishFailures", publisher.failures());
        results.put("connectionsLost", drain.after().getOrDefault("lost", 0L));
        if (!s.serverPids.isEmpty() && deliveries > 0) {
            results.put("serverCpuSecondsPerMillionDeliveries", round(publish.serverCpuMs() / 1000.0 / (deliveries / 1e6)));
            results.put("serverUserCpuSecondsPerMillionDeliveries", round(publish.serverUserMs() / 1000.0 / (deliveries / 1e6)));
            results.put("serverSystemCpuSecondsPerMillionDeliveries", round(publish.serverSystemMs() / 1000.0 / (deliveries / 1e6)));
            results.put("serverCpuPercentDuringPublish", round(publish.serverCpuMs() / 10.0 / Math.max(1e-9, publish.seconds())));
            results.put("serverRssKbAfterPublish", publish.serverAfter().rssKb());
        }
        if (churn) {
            results.put("churnRateAsked", s.churnRate);
            results.put("churnOpened", publish.delta("churn_opened"));
            results.put("churnClosed", publish.delta("churn_closed"));
            results.put("churnFailed", publish.delta("churn_failed"));
            results.put("churnSkipped", publish.delta("churn_skipped"));
            results.put("churnPerSecond", round(publish.delta("churn_opened") / Math.max(1e-9, publish.seconds())));
            if (publish.delta("churn_failed") > 0) {
                problems.add(String.format("%,d churning connections failed", publish.delta("churn_failed")));
            }
        }
        if (missing > 0) {
            problems.add(String.format("%,d deliveries missing (loss %.4f%%)", missing, 100.0 * missing / Math.max(1, published * subscribers)));
        }
        if (duplicates > 0) {
            problems.add(String.format("%,d duplicate or out-of-order deliveries", duplicates));
        }
        if (published == 0) {
            problems.add("nothing was published");
        }
    }

    private static boolean hasSubscribers(WorkerLink link) {
        return link.stats().getOrDefault("subscribed", 0L) - link.stats().getOrDefault("lost", 0L) > 0;
    }

    /** The slowest open subscriber across all workers, for the saturating publisher. */
    private long slowestOffset() {
        long min = Long.MAX_VALUE;
        for (WorkerLink l : links) {
            long m = l.minOffset();
            if (m != Long.MIN_VALUE) {
                min = Math.min(min, m);
            }
        }
        return min == Long.MAX_VALUE ? -1 : min;
    }

    private void inbound() {
        Phase ramp = ramp();
        long opened = ramp.after().getOrDefault("opened", 0L);
        if (opened == 0) {
            throw new Abort("no connection opened; see the errors above");
        }
        if (opened < s.connections) {
            problems.add(String.format("%,d of %,d connections did not open", s.connections - opened, s.connections));
        }
        broadcast("send");
        Phase send = timed("inbound", s.duration);
        broadcast("quiet");
        Phase settle = phase("settle", Duration.ofSeconds(3), () -> false);
        long accepted = send.delta("accepted");
        results.put("connections", opened);
        results.put("sent", send.delta("sent"));
        results.put("accepted", accepted);
        results.put("acceptedPerSecond", round(accepted / Math.max(1e-9, send.seconds())));
        results.put("rateLimited", settle.after().getOrDefault("rate_limited", 0L));
        results.put("roomDeliveries", settle.after().getOrDefault("room_deliveries", 0L));
        results.put("seconds", round(send.seconds()));
        if (!s.serverPids.isEmpty() && accepted > 0) {
            results.put("serverCpuSecondsPerMillionAccepted", round(send.serverCpuMs() / 1000.0 / (accepted / 1e6)));
            results.put("serverCpuPercent", round(send.serverCpuMs() / 10.0 / Math.max(1e-9, send.seconds())));
        }
        long rateLimited = settle.after().getOrDefault("rate_limited", 0L);
        if (rateLimited > 0) {
            problems.add(String.format("%,d messages were refused as rate_limited", rateLimited));
        }
        long lost = settle.after().getOrDefault("lost", 0L);
        if (lost > 0) {
            problems.add(String.format("%,d connections were lost", lost));
        }
        if (accepted == 0) {
            problems.add("no message was accepted");
        }
    }

    private void reject() {
        broadcast("go");
        Phase phase = phase("reject", s.duration, () -> links.stream().allMatch(WorkerLink::ready));
        if (!links.stream().allMatch(WorkerLink::ready)) {
            broadcast("stop-launching");
            waitFor("the last handshakes", Duration.ofSeconds(30), () -> links.stream().allMatch(WorkerLink::ready));
        }
        Map<String, Long> after = sumStats();
        long attempts = after.getOrDefault("attempts", 0L);
        long rejected = after.getOrDefault("rejected", 0L);
        Map<String, Long> other = new java.util.TreeMap<>();
        after.forEach((k, v) -> {
            if (k.startsWith("fail.") || k.startsWith("status.") && !k.equals("status.401")) {
                other.put(k, v);
            }
        });
        results.put("attempts", attempts);
        results.put("rejected401", rejected);
        results.put("notRejected401", attempts - rejected);
        results.put("otherOutcomes", other);
        results.put("seconds", round(phase.seconds()));
        results.put("rejectionsPerSecond", round(phase.delta("rejected") / Math.max(1e-9, phase.seconds())));
        if (!s.serverPids.isEmpty() && rejected > 0) {
            results.put("serverCpuMsPer1000Rejections", round(phase.serverCpuMs() * 1000.0 / Math.max(1, phase.delta("rejected"))));
        }
        if (attempts != rejected) {
            problems.add(String.format("%,d of %,d bad-token handshakes were not answered 401: %s", attempts - rejected, attempts, other));
        }
    }

    static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Abort("interrupted");
        }
    }
}
