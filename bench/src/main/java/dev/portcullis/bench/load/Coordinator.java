package dev.portcullis.bench.load;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code load} command's parent process: checks the settings ({@link Preflight}), spawns the
 * workers ({@link WorkerFleet}), strings the scenario's phases together (ramp, hold, publish,
 * drain...; {@link PhaseRunner} times and measures each), turns them into the scenario's results
 * and the checks that failed, and hands the outcome to {@link Report}.
 *
 * <p>Each scenario is one short method that runs phases and reads their numbers; what a phase
 * measures and how the workers are driven is the same for all of them and lives in those two classes.
 *
 * <p>Threads: {@link #run} and everything it calls run on the caller's thread; a shutdown hook
 * (Ctrl-C) only tells the workers to stop.
 */
final class Coordinator {
    /** Exit codes: the run completed and its checks passed / it completed but a check failed / it could not run. */
    static final int OK = 0;
    static final int FAILED_CHECKS = 3;
    static final int ERROR = 1;
    static final int USAGE = 2;

    private final Settings s;
    private final List<Target> targets = new ArrayList<>();
    private final List<String> sources = new ArrayList<>();
    private Target admin;
    private final WorkerFleet fleet;
    private final PhaseRunner phases;
    private final Map<String, Object> results = new LinkedHashMap<>();
    private final List<String> problems = new ArrayList<>();
    private Publisher publisher;

    /** Stops the run with a message (a worker failed, the publisher was refused...). */
    static final class Abort extends RuntimeException {
        Abort(String message) {
            super(message);
        }
    }

    Coordinator(Settings settings) {
        this.s = settings;
        this.fleet = new WorkerFleet(settings);
        this.phases = new PhaseRunner(settings, fleet, () -> publisher);
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
            fleet.interrupt();
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
            fleet.stop();
            if (publisher != null) {
                publisher.close();
            }
            try {
                Runtime.getRuntime().removeShutdownHook(killer);
            } catch (IllegalStateException e) {
                // shutting down already
            }
        }
        Report report = new Report(s, fleet.sumStats(), fleet.totals(), phases.phases(), results, problems, fleet.size(), publisher);
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

    private void spawn() throws IOException {
        int k = s.processes;
        fleet.spawn(sources);
        if (s.progress) {
            System.out.printf("portcullis-bench %s: %,d connections over %d worker process%s (%s), %d URL(s)%s%n", s.scenario,
                    s.connections, k, k == 1 ? "" : "es", s.inProcess ? "in-process" : "child JVMs", targets.size(),
                    sources.isEmpty() ? "" : ", source addresses " + sources.get(0) + ".." + sources.get(sources.size() - 1));
        }
        phases.waitFor("worker start-up", Duration.ofMinutes(2), fleet::allSetUp);
    }

    // ---- scenarios ----------------------------------------------------------------------------

    /** Opens every connection at bounded concurrency; fails the run if none opened. */
    private Phase ramp() {
        fleet.broadcast("go");
        Phase ramp = phases.phase("connect", s.rampTimeout, fleet::allReady);
        if (!fleet.allReady()) {
            problems.add("connection set-up did not finish within --ramp-timeout " + s.rampTimeout);
            fleet.broadcast("stop-launching");
            phases.waitFor("the workers to stop launching", Duration.ofSeconds(30), fleet::allReady);
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
        Phase hold = phases.timed("hold", s.hold);
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
        fleet.broadcast("measure " + (Scan.wallMicros() + s.warmup.toNanos() / 1000));
        publisher.start(rate, total, s.window, fleet::slowestOffset);
        if (churn) {
            fleet.broadcast("churn-start");
        }
        if (!s.warmup.isZero()) {
            phases.timed("warmup", s.warmup);
        }
        Phase publish = phases.phase(churn ? "churn" : "publish", s.duration.plusSeconds(30), publisher::finished);
        if (churn) {
            fleet.broadcast("churn-stop");
        }
        long last = publisher.lastOffset();
        Phase drain = phases.phase("drain", s.drain, () -> last < 0 || fleet.reached(last));
        long first = publisher.firstOffset();
        long missing = 0;
        long duplicates = 0;
        long complete = 0;
        if (first >= 0) {
            fleet.broadcast("range " + first + " " + last);
            phases.waitFor("the loss count", Duration.ofSeconds(30), () -> fleet.links().stream().allMatch(l -> l.loss() != null));
            for (WorkerLink l : fleet.links()) {
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

    private void inbound() {
        Phase ramp = ramp();
        long opened = ramp.after().getOrDefault("opened", 0L);
        if (opened == 0) {
            throw new Abort("no connection opened; see the errors above");
        }
        if (opened < s.connections) {
            problems.add(String.format("%,d of %,d connections did not open", s.connections - opened, s.connections));
        }
        fleet.broadcast("send");
        Phase send = phases.timed("inbound", s.duration);
        fleet.broadcast("quiet");
        Phase settle = phases.phase("settle", Duration.ofSeconds(3), () -> false);
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
        fleet.broadcast("go");
        Phase phase = phases.phase("reject", s.duration, fleet::allReady);
        if (!fleet.allReady()) {
            fleet.broadcast("stop-launching");
            phases.waitFor("the last handshakes", Duration.ofSeconds(30), fleet::allReady);
        }
        Map<String, Long> after = fleet.sumStats();
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

    /** Sleeps on the coordinator's thread; an interrupt ends the run. */
    static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Abort("interrupted");
        }
    }
}
