package dev.portcullis.bench.load;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The checks before a run starts anything: every option in range, every target on loopback (unless
 * {@code --allow-remote}), enough worker processes for the sockets and enough ephemeral ports per
 * (source, target) pair, and one TCP connect to each target, so that a mistake is one clear message
 * rather than thousands of failed connections.
 */
final class Preflight {
    /** Ephemeral ports per (source, target) pair left free for everything else on the machine. */
    private static final int PORTS_PER_PAIR_MARGIN = 500;

    private Preflight() {}

    /** What the checks resolved: the gateway URLs, the admin API (null unless the scenario publishes), the source addresses. */
    record Checked(List<Target> targets, Target admin, List<String> sources) {}

    /**
     * Checks the settings (and fills in {@code processes} and {@code userPrefix} when not given).
     *
     * @throws IllegalArgumentException with a message for the user (exit code 2)
     */
    static Checked check(Settings s) {
        List<Target> targets = new ArrayList<>();
        List<String> sources = new ArrayList<>();
        Target admin = null;
        if (s.urls.isEmpty()) {
            throw new IllegalArgumentException("--url is required");
        }
        for (String url : s.urls) {
            Target t = Target.parse(url, "ws", "wss");
            requireLoopback(s, t.address().getAddress(), url);
            targets.add(t);
        }
        if (s.publishes()) {
            admin = Target.parse(s.adminUrl, "http", "https");
            requireLoopback(s, admin.address().getAddress(), s.adminUrl);
            if ((s.apiKey == null || s.apiKey.isBlank()) && s.target == Peer.FLOOR) {
                s.apiKey = "unchecked"; // the floor takes any publication
            }
            if (s.apiKey == null || s.apiKey.isBlank()) {
                throw new IllegalArgumentException(s.scenario + " publishes through the admin API: give --api-key (or PORTCULLIS_BENCH_API_KEY)");
            }
            if (s.rate < 0 || s.deliveryRate < 0) {
                throw new IllegalArgumentException("--rate and --delivery-rate must not be negative");
            }
        }
        if (s.sourceAddresses != null && !s.sourceAddresses.isBlank()) {
            for (String address : sourceRange(s.sourceAddresses)) {
                try {
                    requireLoopback(s, InetAddress.getByName(address), "--source-addresses " + address);
                } catch (UnknownHostException e) {
                    throw new IllegalArgumentException("--source-addresses: bad address " + address);
                }
                sources.add(address);
            }
        }
        if (s.connections < 1 || s.connections > 2_000_000) {
            throw new IllegalArgumentException("--connections must be between 1 and 2,000,000 (got " + s.connections + ")");
        }
        if (s.concurrency < 1) {
            throw new IllegalArgumentException("--concurrency must be at least 1");
        }
        for (Duration d : List.of(s.hold, s.duration, s.warmup, s.drain)) {
            if (d.isNegative() || d.compareTo(Duration.ofHours(24)) > 0) {
                throw new IllegalArgumentException("durations must be between 0 and 24h (got " + d + ")");
            }
        }
        if (s.tokensFile != null) {
            if (!Files.isReadable(s.tokensFile)) {
                throw new IllegalArgumentException("--tokens " + s.tokensFile + ": no such readable file");
            }
        } else if (s.target.needsToken() && !(s.scenario.equals("reject") && !s.badToken.equals("expired"))) {
            if (s.secret == null || s.secret.isEmpty()) {
                throw new IllegalArgumentException("give --secret (the gateway's auth.hmac-secret; or PORTCULLIS_BENCH_SECRET) to mint tokens, "
                        + "or --tokens FILE (one token per line)");
            }
            if (s.secret.getBytes(java.nio.charset.StandardCharsets.UTF_8).length < 32) {
                throw new IllegalArgumentException("--secret must be at least 32 bytes (as auth.hmac-secret)");
            }
        }
        peer(s);
        if (!List.of("signature", "malformed", "missing", "expired").contains(s.badToken)) {
            throw new IllegalArgumentException("--bad-token must be signature, malformed, missing or expired");
        }
        for (long pid : s.serverPids) {
            if (!ProcStats.exists(pid)) {
                throw new IllegalArgumentException("--server-pid " + pid + ": no such process");
            }
        }
        int sockets = s.connections + (s.scenario.equals("churn") ? s.churnConcurrency : 0);
        if (s.scenario.equals("reject")) {
            sockets = s.concurrency;
        }
        int needed = (int) Math.ceil(sockets / (double) s.maxPerProcess);
        if (s.inProcess) {
            if (s.processes > 1) {
                throw new IllegalArgumentException("--in-process runs one worker: drop --processes");
            }
            s.processes = 1;
        } else if (s.processes <= 0) {
            s.processes = Math.max(1, needed);
        } else if (s.processes < needed) {
            throw new IllegalArgumentException(String.format("%,d sockets need at least %d worker processes: one process may hold about"
                    + " %,d (this machine allows 20,000 open files per process); use --processes %d", sockets, needed,
                    s.maxPerProcess, needed));
        }
        if (s.processes > s.connections && !s.scenario.equals("reject")) {
            s.processes = s.connections;
        }
        long ports = ephemeralPorts();
        long pairs = (long) Math.max(1, sources.size()) * targets.size();
        if (ports > 0 && !s.scenario.equals("reject") && s.connections / pairs > ports - PORTS_PER_PAIR_MARGIN) {
            throw new IllegalArgumentException(String.format("%,d connections over %d source address(es) and %d URL(s) exceed the %,d"
                    + " ephemeral ports per (source, target) pair: add --source-addresses 127.0.0.2-127.0.0.9", s.connections,
                    Math.max(1, sources.size()), targets.size(), ports));
        }
        if (sources.isEmpty() && !s.scenario.equals("reject") && s.connections / targets.size() > 10_000 && s.progress) {
            System.out.println("tip: connect() gets slower as ephemeral ports to one target fill up (measured here: 19,000 connections"
                    + " took the generator 10 s of CPU, 7 s of it in the kernel; with --source-addresses 127.0.0.2-127.0.0.9, 3.7 s)");
        }
        if (s.userPrefix == null) {
            s.userPrefix = "bench-" + Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36) + "-";
        }
        return new Checked(List.copyOf(targets), admin, List.copyOf(sources));
    }

    /** What a --target cannot do, said before anything starts; node-ws publishes over one connection (see {@link Publisher}). */
    private static void peer(Settings s) {
        switch (s.target) {
            case NODE_WS -> {
                if (s.scenario.equals("inbound")) {
                    throw new IllegalArgumentException("--target node-ws: inbound needs an ack per message, and node-ws sends none");
                }
                if (s.autoSubscribe) {
                    throw new IllegalArgumentException("--target node-ws has no automatic channels: drop --auto-subscribe");
                }
                if (s.publishes() && s.publishers != 1) {
                    s.publishers = 1;
                    if (s.progress) {
                        System.out.println("note: --target node-ws publishes over one connection (its API gives no offsets; the"
                                + " generator numbers publications itself, which stays in order only with one request in flight)");
                    }
                }
            }
            case FLOOR -> {
                if (s.scenario.equals("inbound") || s.scenario.equals("reject")) {
                    throw new IllegalArgumentException("--target floor: " + s.scenario + " needs a server that checks tokens and messages;"
                            + " the floor checks nothing");
                }
            }
            default -> {}
        }
    }

    private static void requireLoopback(Settings s, InetAddress address, String what) {
        if (!s.allowRemote && !address.isLoopbackAddress()) {
            throw new IllegalArgumentException("refusing to load " + what + ": not a loopback address (127.0.0.0/8 or ::1)."
                    + " Pass --allow-remote only for a deployment you are responsible for.");
        }
    }

    /** {@code 127.0.0.2-127.0.0.9}, {@code 127.0.0.2-9} or a comma-separated list. */
    static List<String> sourceRange(String text) {
        List<String> out = new ArrayList<>();
        for (String part : text.split(",")) {
            part = part.trim();
            int dash = part.indexOf('-');
            if (dash < 0) {
                out.add(part);
                continue;
            }
            String from = part.substring(0, dash).trim();
            String to = part.substring(dash + 1).trim();
            int lastDot = from.lastIndexOf('.');
            if (lastDot < 0) {
                throw new IllegalArgumentException("--source-addresses: bad range " + part);
            }
            String prefix = from.substring(0, lastDot + 1);
            if (!to.contains(".")) {
                to = prefix + to;
            }
            if (!to.startsWith(prefix)) {
                throw new IllegalArgumentException("--source-addresses: a range may only vary the last number (" + part + ")");
            }
            int a = Integer.parseInt(from.substring(lastDot + 1));
            int b = Integer.parseInt(to.substring(prefix.length()));
            if (a > b || b > 255 || a < 0) {
                throw new IllegalArgumentException("--source-addresses: bad range " + part);
            }
            for (int i = a; i <= b; i++) {
                out.add(prefix + i);
            }
        }
        if (out.size() > 1024) {
            throw new IllegalArgumentException("--source-addresses: at most 1024 addresses");
        }
        return out;
    }

    private static long ephemeralPorts() {
        try {
            String[] range = Files.readString(Path.of("/proc/sys/net/ipv4/ip_local_port_range")).trim().split("\\s+");
            return Long.parseLong(range[1]) - Long.parseLong(range[0]) + 1;
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** One TCP connect to every target before any worker starts: a gateway that is not there is one clear message. */
    static void reach(Checked checked) {
        List<Target> all = new ArrayList<>(checked.targets());
        if (checked.admin() != null) {
            all.add(checked.admin());
        }
        for (Target t : all) {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress(t.address().getAddress(), t.address().getPort()), 3000);
            } catch (IOException e) {
                String why = e.getMessage() != null && e.getMessage().contains("refused") ? "connection refused" : e.toString();
                throw new IllegalStateException("cannot reach " + t.url() + " (" + why + "): is the gateway running there?");
            }
        }
    }
}
