package dev.portcullis.bench.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Option;

/**
 * The options every {@code load} scenario shares (targets, connections, tokens, workers,
 * timeouts, what to measure and where to write it), turned into {@link Settings}; and the duration
 * syntax all duration options use. A picocli mixin of each subcommand of {@link LoadCommand}.
 *
 * <p>Its own class because the shared options are most of the command line and have nothing to do
 * with which scenario runs; the subcommands in {@link LoadCommand} add only their own.
 *
 * <p>Threads: filled in by picocli and read once, on the thread that runs the command.
 */
final class CommonOptions {
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

    /** A duration as the options take it: a number with ms, s (the default), m or h. */
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

    /** The converter of every duration option, so they all accept the same syntax. */
    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            return duration(value);
        }
    }
}
