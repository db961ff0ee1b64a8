package dev.portcullis.bench.load;

import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.HdrHistogram.Histogram;

/**
 * The end of a run: one summary line, the checks that failed with a hint on their likely cause,
 * and the JSON result file ({@code --out}).
 */
final class Report {
    private final Settings s;
    private final Map<String, Long> counters;
    private final Map<String, Histogram> histograms;
    private final List<Phase> phases;
    private final Map<String, Object> results;
    private final List<String> problems;
    private final int processes;
    private final Publisher publisher;
    private final Set<String> hints = new LinkedHashSet<>();

    Report(Settings s, Map<String, Long> counters, Map<String, Histogram> histograms, List<Phase> phases,
            Map<String, Object> results, List<String> problems, int processes, Publisher publisher) {
        this.s = s;
        this.counters = counters;
        this.histograms = histograms;
        this.phases = phases;
        this.results = results;
        this.problems = problems;
        this.processes = processes;
        this.publisher = publisher;
        hints();
    }

    /** {@code /proc/loadavg}'s first three fields: how busy the (shared) machine was. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    boolean passed() {
        return problems.isEmpty();
    }

    /** Likely causes of what went wrong, from the failure counters and the kernel's. */
    private void hints() {
        long overflows = phases.stream().mapToLong(p -> p.tcp().getOrDefault("ListenOverflows", 0L)).sum();
        long synRetrans = phases.stream().mapToLong(p -> p.tcp().getOrDefault("TCPSynRetrans", 0L)).sum();
        if (overflows > 0 || synRetrans > 0) {
            hints.add(String.format("the kernel counted %,d accept-queue overflows and %,d SYN retransmissions (machine-wide, /proc/net/netstat):"
                    + " SYNs were dropped and retried after 1 s, 3 s...; handshake latencies near those values are that, not the"
                    + " gateway's work; lower --concurrency or check the gateway's accept loop", overflows, synRetrans));
        }
        counters.forEach((key, value) -> {
            if (value == 0) {
                return;
            }
            switch (key) {
                case "fail.emfile" -> hints.add("EMFILE (too many open files): a process may hold 20,000 files on this machine, so a worker"
                        + " holds at most ~19,000 sockets; use more --processes (and check the gateway's own limit too)");
                case "fail.no_ports" -> hints.add("EADDRNOTAVAIL: out of ephemeral ports for a (source, target) pair;"
                        + " add --source-addresses 127.0.0.2-127.0.0.9 or more --url targets");
                case "fail.refused" -> hints.add("connections refused: the gateway is down, not listening there, or its accept backlog"
                        + " overflowed (lower --concurrency)");
                case "fail.connect_timeout", "fail.handshake_timeout" -> hints.add("timeouts: the gateway (or this generator: see"
                        + " gen-cpu) is saturated, or, if it stopped near 19,9xx connections, out of file descriptors itself (20,000 per"
                        + " process here: its log says accept(..) failed: Too many open files); spread the load over more gateways"
                        + " (--url), lower --concurrency or raise --handshake-timeout");
                case "status.429" -> hints.add("429: the gateway's per-address limit or per-user attempt rate refused handshakes; for a load"
                        + " test set limits.connections-per-ip: 0 and limits.connect-attempts-per-user-per-minute: 0");
                case "status.503" -> hints.add("503: the gateway is at limits.max-connections (0 = unlimited) or shutting down");
                case "status.401" -> {
                    if (!s.scenario.equals("reject")) {
                        hints.add("401: the gateway refused the tokens; --secret must be its auth.hmac-secret (and --claim iss=/aud= as"
                                + " auth.issuer/auth.audience require)");
                    }
                }
                case "close.4500" -> hints.add("close 4500: connections replaced by newer ones of the same user; every connection needs"
                        + " its own user (limits.connections-per-user)");
                case "close.4009" -> hints.add("close 4009: slow consumers; this generator could not read fast enough (see gen-cpu)"
                        + " or limits.max-outbound-bytes is small");
                case "close.4002" -> hints.add("close 4002: heartbeat timeouts; the generator did not answer pings in time (saturated?)");
                case "close.4008", "rate_limited" -> hints.add("rate_limited: raise the gateway's limits.messages-per-minute (0 = unlimited)"
                        + " and limits.message-burst for a load test, or lower --per-connection-rate");
                case "error.forbidden", "fail.subscribe_forbidden" -> hints.add("forbidden: the token may not read/write the channel; with"
                        + " --tokens the tokens need the permission claim, or use --auto-subscribe with channels.auto-subscribe");
                default -> {}
            }
        });
    }

    void print() {
        System.out.println(summary());
        for (String problem : problems) {
            System.out.println("  problem: " + problem);
        }
        for (String hint : hints) {
            System.out.println("  hint: " + hint);
        }
        System.out.println("  machine load average (1/5/15 min): " + s.loadAverageAtStart + " at start, " + loadAverage() + " at end");
        if (s.out != null) {
            System.out.println("  results: " + s.out);
        }
    }

    String summary() {
        StringBuilder b = new StringBuilder(s.scenario);
        if (s.target != Peer.PORTCULLIS) {
            b.append(" (").append(s.target.label()).append(')');
        }
        b.append(passed() ? " OK: " : " FAILED: ");
        if (results.isEmpty()) {
            return b.append(problems.isEmpty() ? "no results" : problems.get(0)).toString();
        }
        switch (s.scenario) {
            case "connect" -> {
                b.append(String.format(Locale.ROOT, "%,d/%,d opened, %s handshakes/s, handshake %s", num("opened"), s.connections,
                        fmt("handshakesPerSecond"), latency(Histograms.HANDSHAKE, false)));
                if (results.containsKey("serverCpuMsPer1000Handshakes")) {
                    b.append(String.format(Locale.ROOT, ", server %s ms CPU/1k handshakes (user %s + system %s), %s KB RSS/connection",
                            fmt("serverCpuMsPer1000Handshakes"), fmt("serverUserCpuMsPer1000Handshakes"),
                            fmt("serverSystemCpuMsPer1000Handshakes"), fmt("serverRssKbPerConnection")));
                }
                if (results.containsKey("holdSeconds")) {
                    b.append(String.format(Locale.ROOT, ", lost %,d in %ss hold", num("lostDuringHold"), fmt("holdSeconds")));
                }
            }
            case "fanout", "churn" -> {
                b.append(String.format(Locale.ROOT, "%,d subscribers, %,d published, %s deliveries/s, missing %,d, latency %s",
                        num("subscribers"), num("published"), fmt("deliveriesPerSecond"), num("missing"), latency(Histograms.DELIVERY, true)));
                if (results.containsKey("serverCpuSecondsPerMillionDeliveries")) {
                    b.append(String.format(Locale.ROOT, ", server %s s CPU/million deliveries (user %s + system %s)",
                            fmt("serverCpuSecondsPerMillionDeliveries"), fmt("serverUserCpuSecondsPerMillionDeliveries"),
                            fmt("serverSystemCpuSecondsPerMillionDeliveries")));
                }
                if (results.containsKey("frameBytesPerDelivery")) {
                    b.append(String.format(Locale.ROOT, ", %s frame bytes/delivery", fmt("frameBytesPerDelivery")));
                }
                if (s.scenario.equals("churn")) {
                    b.append(String.format(Locale.ROOT, ", churn %s/s (%,d failed)", fmt("churnPerSecond"), num("churnFailed")));
                }
            }
            case "inbound" -> {
                b.append(String.format(Locale.ROOT, "%,d connections, %s accepted/s, rate-limited %,d, ack %s", num("connections"),
                        fmt("acceptedPerSecond"), num("rateLimited"), latency(Histograms.ACK, false)));
                if (results.containsKey("serverCpuSecondsPerMillionAccepted")) {
                    b.append(String.format(Locale.ROOT, ", server %s s CPU/million", fmt("serverCpuSecondsPerMillionAccepted")));
                }
            }
            case "reject" -> {
                b.append(String.format(Locale.ROOT, "%,d attempts, %,d answered 401, %s rejections/s, latency %s", num("attempts"),
                        num("rejected401"), fmt("rejectionsPerSecond"), latency(Histograms.HANDSHAKE, false)));
                if (results.containsKey("serverCpuMsPer1000Rejections")) {
                    b.append(String.format(Locale.ROOT, ", server %s ms CPU/1k", fmt("serverCpuMsPer1000Rejections")));
                }
            }
            default -> {}
        }
        long generatorMs = phases.stream().mapToLong(Phase::generatorCpuMs).sum();
        double seconds = phases.stream().mapToDouble(Phase::seconds).sum();
        b.append(String.format(Locale.ROOT, "; generator %.1f s CPU (%.0f%% of a core over %.0f s, %d process%s)", generatorMs / 1000.0,
                generatorMs / 10.0 / Math.max(1e-9, seconds), seconds, processes, processes == 1 ? "" : "es"));
        return b.toString();
    }

    private long num(String key) {
        return results.get(key) instanceof Number n ? n.longValue() : 0;
    }

    private String fmt(String key) {
        Object v = results.get(key);
        if (v == null) {
            return "n/a";
        }
        if (v instanceof Number n) {
            double d = n.doubleValue();
            return d >= 100 ? String.format(Locale.ROOT, "%,.0f", d) : String.format(Locale.ROOT, "%.2f", d);
        }
        return String.valueOf(v);
    }

    private String latency(String name, boolean tail) {
        Histogram h = histograms.get(name);
        if (h == null || h.getTotalCount() == 0) {
            return "n/a";
        }
        String text = "p50 " + Histograms.pretty(h.getValueAtPercentile(50)) + " p99 " + Histograms.pretty(h.getValueAtPercentile(99));
        if (tail) {
            text += " p99.9 " + Histograms.pretty(h.getValueAtPercentile(99.9)) + " max " + Histograms.pretty(h.getMaxValue());
        }
        return text;
    }

    /** Writes the JSON result file, if {@code --out} was given. */
    void write() throws IOException {
        if (s.out == null) {
            return;
        }
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("scenario", s.scenario);
        root.put("ok", passed());
        root.put("summary", summary());
        root.put("finishedAt", Instant.now().toString());
        root.put("command", s.commandLine);
        root.put("options", s.describe());
        root.put("results", results);
        Map<String, Object> latencies = new LinkedHashMap<>();
        histograms.forEach((name, h) -> latencies.put(name, Histograms.summary(h)));
        if (publisher != null) {
            latencies.put(Histograms.PUBLISH, Histograms.summary(publisher.httpLatency()));
        }
        root.put("latencies", latencies);
        List<Map<String, Object>> phaseList = new ArrayList<>();
        for (Phase p : phases) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", p.name());
            m.put("seconds", Coordinator.round(p.seconds()));
            m.put("generatorCpuMs", p.generatorCpuMs());
            m.put("generatorUserCpuMs", p.generatorUserMs());
            if (!s.serverPids.isEmpty()) {
                m.put("serverCpuMs", p.serverCpuMs());
                m.put("serverUserCpuMs", p.serverUserMs());
                m.put("serverRssKbBefore", p.serverBefore().rssKb());
                m.put("serverRssKbAfter", p.serverAfter().rssKb());
            }
            Map<String, Long> deltas = new LinkedHashMap<>();
            p.after().forEach((k, v) -> {
                long d = p.delta(k);
                if (d != 0 && !k.equals("live")) {
                    deltas.put(k, d);
                }
            });
            m.put("counters", deltas);
            m.put("kernelTcp", p.tcp());
            phaseList.add(m);
        }
        root.put("phases", phaseList);
        root.put("counters", counters);
        if (publisher != null) {
            root.put("publisherStatuses", publisher.statuses());
        }
        Map<String, Object> generator = new LinkedHashMap<>();
        generator.put("processes", processes);
        generator.put("threadsPerProcess", s.threads);
        generator.put("cpuMs", phases.stream().mapToLong(Phase::generatorCpuMs).sum());
        generator.put("jvmFlags", java.lang.management.ManagementFactory.getRuntimeMXBean().getInputArguments());
        generator.put("workerJvmOpts", s.workerJvmOpts);
        generator.put("java", Runtime.version().toString());
        generator.put("cores", Runtime.getRuntime().availableProcessors());
        root.put("generator", generator);
        root.put("serverPids", s.serverPids);
        root.put("loadAverage", Map.of("atStart", s.loadAverageAtStart, "atEnd", loadAverage()));
        root.put("problems", problems);
        root.put("hints", new ArrayList<>(hints));
        Path parent = s.out.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Worker.JSON.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValue(s.out.toFile(), root);
    }
}
