package dev.portcullis.bench.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code portcullis-bench load <scenario> [options]}: the load generator's command line. Each
 * scenario is a subcommand; the options every scenario shares are {@link Common}, those of the
 * publishing scenarios {@link Publishing}.
 */
@Command(
        name = "portcullis-bench load",
        mixinStandardHelpOptions = true,
        usageHelpAutoWidth = true,
        version = "portcullis-bench 0.1.0",
        description = {
            "Load generator for a Portcullis gateway: many WebSocket connections from child JVMs, with a progress line every"
                    + " second, a summary line and a JSON result file. Loopback targets only unless --allow-remote; every run is"
                    + " bounded in connections and time and stops by itself.",
            "",
            "Exit codes: 0 run complete and its checks passed, 3 run complete but a check failed (connections not opened, loss,"
                    + " a bad token not answered 401...), 1 the run could not complete, 2 bad options."},
        subcommands = {
            LoadCommand.Connect.class, LoadCommand.Fanout.class, LoadCommand.Inbound.class, LoadCommand.Reject.class,
            LoadCommand.Churn.class})
public final class LoadCommand {

    /** Runs {@code load ...} and returns the exit code. */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new LoadCommand());
        cli.setCaseInsensitiveEnumValuesAllowed(true);
        return cli.execute(args);
    }

    /** {@code load-worker}: a worker process, driven by the coordinator over stdin/stdout; never returns. */
    public static void worker() {
        Worker.main();
    }

    private static String[] args(CommandLine.Model.CommandSpec spec) {
        return spec.commandLine().getParseResult().originalArgs().toArray(String[]::new);
    }

    static Duration duration(String text) {
        Matcher m = Pattern.compile("(\\d+(?:\\.\\d+)?)(ms|s|m|h)?").matcher(text.trim().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new CommandLine.TypeConversionException("'" + text + "' is not a duration such as 500ms, 30s, 5m or 1h");
        }
        double value = Double.parseDouble(m.group(1));
        String unit = m.group(2) == null ? "s" : m.group(2);
        double millis = switch (unit) {
            case "ms" -> value;
            case "m" -> value * 60_000;
            case "h" -> value * 3_600_000;
            default -> value * 1000;
        };
        return Duration.ofMillis(Math.round(millis));
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(value);
        }
    }

    /** Options of every scenario. */
    static final class Common {
        @Option(names = "--target", paramLabel = "KIND", defaultValue = "portcullis", converter = Peer.Converter.class,
                description = "What --url is: portcullis (the gateway), node-ws (the node-ws peer: token in ?token=, its own"
                + " subscribe answer and publish API; --admin-url is its own port) or floor (portcullis-bench floor: no token"
                + " needed). Default: ${DEFAULT-VALUE}.")
        Peer target;

        @Option(names = "--url", paramLabel = "URL",
                description = "Gateway WebSocket URL (ws:// or wss://); repeat for several gateways, used round-robin. Default: "
                + "ws://127.0.0.1:8080/ws")
        List<String> urls = new ArrayList<>();

        @Option(names = {"-n", "--connections"}, paramLabel = "N",
                description = "Connections to open (connect), subscribers (fanout, churn), publishing clients (inbound), bad-token handshakes "
                + "in all (reject). Default: 1000; inbound 100; reject 10000.")
        Integer connections;

        @Option(names = {"-c", "--concurrency"}, paramLabel = "C", defaultValue = "200",
                description = "Handshakes in flight at once, across all workers (default: ${DEFAULT-VALUE}).")
        int concurrency;

        @Option(names = "--processes", paramLabel = "K", defaultValue = "0",
                description = "Worker JVMs to spread the connections over (default: enough for --max-per-process sockets each).")
        int processes;

        @Option(names = "--max-per-process", paramLabel = "N", defaultValue = "19000",
                description = "Sockets one worker may hold (default: ${DEFAULT-VALUE}; this machine allows 20,000 open files per process).")
        int maxPerProcess;

        @Option(names = "--source-addresses", paramLabel = "RANGE",
                description = "Loopback source addresses to spread connections over, e.g. 127.0.0.2-127.0.0.9 or a,b,c (each (source, target) "
                + "pair has ~28k ephemeral ports).")
        String sourceAddresses;

        @Option(names = "--secret", paramLabel = "SECRET",
                description = "The gateway's auth.hmac-secret: mint an HS256 token per connection, one distinct user each (default: "
                + "$PORTCULLIS_BENCH_SECRET).")
        String secret;

        @Option(names = "--tokens", paramLabel = "FILE",
                description = "Read tokens from FILE instead, one per line: line n for connection n, one distinct user each; churn uses the "
                + "lines after the last connection.")
        Path tokens;

        @Option(names = "--user-prefix", paramLabel = "PREFIX", description = "Subject prefix of minted tokens (default: bench-<run id>-).")
        String userPrefix;

        @Option(names = "--token-ttl", paramLabel = "DURATION", defaultValue = "2h", converter = DurationConverter.class,
                description = "Lifetime of minted tokens (default: ${DEFAULT-VALUE}).")
        Duration tokenTtl;

        @Option(names = "--claim", paramLabel = "KEY=VALUE",
                description = "Extra claim in minted tokens, e.g. iss=... or aud=...; repeatable.")
        Map<String, String> claims = new LinkedHashMap<>();

        @Option(names = "--permissions-claim", paramLabel = "NAME", defaultValue = "channels",
                description = "Claim holding channel permissions, as the gateway's channels.permissions-claim (default: ${DEFAULT-VALUE}).")
        String permissionsClaim;

        @Option(names = "--server-pid", paramLabel = "PID",
                description = "Gateway process to measure (CPU time and RSS from /proc before and after every phase); repeatable.")
        List<Long> serverPids = new ArrayList<>();

        @Option(names = "--out", paramLabel = "FILE", description = "Write the results as JSON to FILE.")
        Path out;

        @Option(names = "--threads", paramLabel = "T", description = "Event loops per worker (default: one per core).")
        Integer threads;

        @Option(names = "--connect-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
                description = "TCP connect timeout (default: ${DEFAULT-VALUE}).")
        Duration connectTimeout;

        @Option(names = "--handshake-timeout", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
                description = "Time from TCP connect to the HTTP answer (default: ${DEFAULT-VALUE}).")
        Duration handshakeTimeout;

        @Option(names = "--ramp-timeout", paramLabel = "DURATION", defaultValue = "5m", converter = DurationConverter.class,
                description = "Give up opening connections after this long (default: ${DEFAULT-VALUE}).")
        Duration rampTimeout;

        @Option(names = "--worker-jvm-opts", paramLabel = "OPTS",
                description = "Extra JVM flags for the worker JVMs (they inherit this JVM's flags; -Xmx1g unless a heap size is given).")
        String workerJvmOpts;

        @Option(names = "--allow-remote", description = "Allow non-loopback targets (only for a deployment you are responsible for).")
        boolean allowRemote;

        @Option(names = "--insecure", description = "wss:// and https://: accept any server certificate.")
        boolean insecure;

        @Option(names = "--deflate", description = "Offer permessage-deflate (RFC 7692), as browsers do, and inflate what comes compressed.")
        boolean deflate;

        @Option(names = "--no-progress", description = "No progress line every second (summary only).")
        boolean noProgress;

        @Option(names = "--in-process", hidden = true, description = "Run the one worker on threads of this JVM (tests, debugging).")
        boolean inProcess;

        Settings settings(String scenario, int defaultConnections, String[] args) {
            Settings s = new Settings();
            s.scenario = scenario;
            if (!urls.isEmpty()) {
                s.urls = urls;
            }
            s.target = target;
            s.connections = connections != null ? connections : defaultConnections;
            s.concurrency = concurrency;
            s.processes = processes;
            s.maxPerProcess = maxPerProcess;
            s.sourceAddresses = sourceAddresses;
            s.secret = secret != null ? secret : System.getenv("PORTCULLIS_BENCH_SECRET");
            s.tokensFile = tokens;
            s.userPrefix = userPrefix;
            s.tokenTtl = tokenTtl;
            s.claims = claims;
            s.permissionsClaim = permissionsClaim;
            s.serverPids = serverPids;
            s.out = out;
            if (threads != null) {
                s.threads = threads;
            }
            s.connectTimeout = connectTimeout;
            s.handshakeTimeout = handshakeTimeout;
            s.rampTimeout = rampTimeout;
            s.workerJvmOpts = workerJvmOpts;
            s.allowRemote = allowRemote;
            s.insecure = insecure;
            s.deflate = deflate;
            s.progress = !noProgress;
            s.inProcess = inProcess;
            List<String> line = new ArrayList<>(List.of("load"));
            for (int i = 0; i < args.length; i++) {
                boolean secretValue = i > 0 && (args[i - 1].equals("--secret") || args[i - 1].equals("--api-key"));
                line.add(secretValue ? "***" : args[i].startsWith("--secret=") || args[i].startsWith("--api-key=")
                        ? args[i].substring(0, args[i].indexOf('=') + 1) + "***" : args[i]);
            }
            s.commandLine = line;
            return s;
        }
    }

    /** Options of the scenarios that publish through the admin API (fanout, churn). */
    static final class Publishing {
        @Option(names = "--channel", paramLabel = "NAME", defaultValue = "bench",
                description = "Channel to fan out on (default: ${DEFAULT-VALUE}); use one nobody else publishes to.")
        String channel;

        @Option(names = "--auto-subscribe",
                description = "Rely on the gateway's channels.auto-subscribe (the channel must be listed there) instead of a subscribe "
                + "message.")
        boolean autoSubscribe;

        @Option(names = "--admin-url", paramLabel = "URL", defaultValue = "http://127.0.0.1:9090",
                description = "The gateway's admin API (default: ${DEFAULT-VALUE}).")
        String adminUrl;

        @Option(names = "--api-key", paramLabel = "KEY",
                description = "One of the gateway's admin.api-keys (default: $PORTCULLIS_BENCH_API_KEY).")
        String apiKey;

        @Option(names = "--rate", paramLabel = "R", defaultValue = "10",
                description = "Publications per second (each reaches every subscriber); 0 = saturate: publish as fast as the slowest "
                + "subscriber keeps within --window publications. Default: ${DEFAULT-VALUE}.")
        double rate;

        @Option(names = "--delivery-rate", paramLabel = "D",
                description = "Deliveries per second instead of --rate: publications per second = D / subscribers.")
        Double deliveryRate;

        @Option(names = {"-d", "--duration"}, paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
                description = "How long to publish, after --warmup (default: ${DEFAULT-VALUE}).")
        Duration duration;

        @Option(names = "--warmup", paramLabel = "DURATION", defaultValue = "0s", converter = DurationConverter.class,
                description = "Publish this long first without measuring latency (JIT warm-up; default: ${DEFAULT-VALUE}).")
        Duration warmup;

        @Option(names = "--payload-bytes", paramLabel = "B", defaultValue = "100",
                description = "Approximate size of the publication data (default: ${DEFAULT-VALUE}).")
        int payloadBytes;

        @Option(names = "--alert-payload",
                description = "Publish a realistic ~300-byte JSON alert instead of --payload-bytes of padding (for compression figures).")
        boolean alertPayload;

        @Option(names = "--publishers", paramLabel = "P", defaultValue = "2",
                description = "Admin API connections, one request in flight on each (default: ${DEFAULT-VALUE}).")
        int publishers;

        @Option(names = "--window", paramLabel = "W", defaultValue = "32",
                description = "--rate 0: publications allowed ahead of the slowest subscriber (default: ${DEFAULT-VALUE}).")
        int window;

        @Option(names = "--drain", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
                description = "After publishing, wait at most this long for deliveries still on their way (default: ${DEFAULT-VALUE}).")
        Duration drain;

        void apply(Settings s) {
            s.channel = channel;
            s.autoSubscribe = autoSubscribe;
            s.adminUrl = adminUrl;
            s.apiKey = apiKey != null ? apiKey : System.getenv("PORTCULLIS_BENCH_API_KEY");
            s.rate = rate;
            s.deliveryRate = deliveryRate == null ? 0 : deliveryRate;
            s.duration = duration;
            s.warmup = warmup;
            s.payloadBytes = payloadBytes;
            s.alertPayload = alertPayload;
            s.publishers = Math.max(1, publishers);
            s.window = window;
            s.drain = drain;
        }
    }

    @Command(name = "connect", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, description = {
            "Open N connections at bounded concurrency and hold them with heartbeats answered.",
            "Reports handshakes/s, handshake latency, server CPU per 1,000 handshakes, server RSS per held connection and"
                    + " connections lost during the hold."})
    static final class Connect implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = "--hold", paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
                description = "How long to hold the connections open (default: ${DEFAULT-VALUE}).")
        Duration hold;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Settings s = common.settings("connect", 1000, args(spec));
            s.hold = hold;
            return new Coordinator(s).run();
        }
    }

    @Command(name = "fanout", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, description = {
            "N subscribers on a channel; publish through the admin API at --rate (or saturate).",
            "Reports deliveries/s, loss (by offset gaps), publish-to-receive latency p50/p99/p99.9/max and server CPU-seconds"
                    + " per million deliveries."})
    static final class Fanout implements Callable<Integer> {
        @Mixin
        Common common;

        @Mixin
        Publishing publishing;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Settings s = common.settings("fanout", 1000, args(spec));
            publishing.apply(s);
            return new Coordinator(s).run();
        }
    }

    @Command(name = "inbound", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, description = {
            "N clients publish chat messages into rooms (namespace:<uuid>) as fast as acks come back.",
            "Or at --per-connection-rate. Reports accepted/s and server CPU per million. Raise the gateway's"
                    + " limits.messages-per-minute (0 = unlimited) for this test, or every client is rate-limited at once."})
    static final class Inbound implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = {"-d", "--duration"}, paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
                description = "How long to publish (default: ${DEFAULT-VALUE}).")
        Duration duration;

        @Option(names = "--rooms", paramLabel = "K", defaultValue = "100",
                description = "Rooms the clients spread over (default: ${DEFAULT-VALUE}).")
        int rooms;

        @Option(names = "--namespace", paramLabel = "NS", defaultValue = "chat",
                description = "Channel namespace of the rooms (default: ${DEFAULT-VALUE}; the data matches examples/chat.schema.json).")
        String namespace;

        @Option(names = "--per-connection-rate", paramLabel = "R", defaultValue = "0",
                description = "Messages per second per client; 0 = the next as soon as an ack is back (default: ${DEFAULT-VALUE}).")
        double perConnectionRate;

        @Option(names = "--in-flight", paramLabel = "W", defaultValue = "1",
                description = "Messages a client may have unacknowledged (default: ${DEFAULT-VALUE}).")
        int inFlight;

        @Option(names = "--payload-bytes", paramLabel = "B", defaultValue = "100",
                description = "Approximate size of the message data (default: ${DEFAULT-VALUE}).")
        int payloadBytes;

        @Option(names = "--subscribe-rooms", description = "Clients also subscribe to their room (each message is then fanned out too).")
        boolean subscribeRooms;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Settings s = common.settings("inbound", 100, args(spec));
            s.duration = duration;
            s.rooms = Math.max(1, rooms);
            s.namespace = namespace;
            s.perConnectionRate = perConnectionRate;
            s.inFlight = Math.max(1, inFlight);
            s.payloadBytes = payloadBytes;
            s.subscribeRooms = subscribeRooms;
            return new Coordinator(s).run();
        }
    }

    @Command(name = "reject", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, description = {
            "Bad-token handshakes at --concurrency until --connections attempts or --duration: every one must get 401.",
            "Reports rejections/s, latency and server CPU per 1,000 rejections."})
    static final class Reject implements Callable<Integer> {
        @Mixin
        Common common;

        @Option(names = {"-d", "--duration"}, paramLabel = "DURATION", defaultValue = "10s", converter = DurationConverter.class,
                description = "Stop after this long even if attempts remain (default: ${DEFAULT-VALUE}).")
        Duration duration;

        @Option(names = "--bad-token", paramLabel = "KIND", defaultValue = "signature",
                description = "signature (HS256 signed with a wrong key), malformed, missing, or expired (needs --secret). Default: "
                + "${DEFAULT-VALUE}.")
        String badToken;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Settings s = common.settings("reject", 10_000, args(spec));
            s.duration = duration;
            s.badToken = badToken;
            return new Coordinator(s).run();
        }
    }

    @Command(name = "churn", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, description = {
            "A fanout while other clients connect and disconnect at --churn-rate per second.",
            "Reports both: deliveries, loss and latency under churn, and churn handshakes/s and failures."})
    static final class Churn implements Callable<Integer> {
        @Mixin
        Common common;

        @Mixin
        Publishing publishing;

        @Option(names = "--churn-rate", paramLabel = "R", defaultValue = "100",
                description = "Connections opened (and closed again) per second (default: ${DEFAULT-VALUE}).")
        double churnRate;

        @Option(names = "--churn-hold", paramLabel = "DURATION", defaultValue = "0s", converter = DurationConverter.class,
                description = "How long a churning connection stays after its connected message (default: ${DEFAULT-VALUE}).")
        Duration churnHold;

        @Option(names = "--churn-concurrency", paramLabel = "C", defaultValue = "1000",
                description = "Churning connections alive at once at most; beyond it a due one is skipped and counted (default: "
                        + "${DEFAULT-VALUE}).")
        int churnConcurrency;

        @CommandLine.Spec
        CommandLine.Model.CommandSpec spec;

        @Override
        public Integer call() {
            Settings s = common.settings("churn", 1000, args(spec));
            publishing.apply(s);
            s.churnRate = churnRate;
            s.churnHold = churnHold;
            s.churnConcurrency = Math.max(1, churnConcurrency);
            return new Coordinator(s).run();
        }
    }
}
