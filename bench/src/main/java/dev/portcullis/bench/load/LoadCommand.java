package dev.portcullis.bench.load;

import dev.portcullis.bench.load.CommonOptions.DurationConverter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code portcullis-bench load <scenario> [options]}: the load generator's command line. Each
 * scenario is a subcommand; the options every scenario shares are {@link CommonOptions}, those of
 * the publishing scenarios {@link PublishingOptions}. The subcommands add their own options and
 * hand the {@link Settings} to a {@link Coordinator}.
 *
 * <p>Threads: picocli calls a subcommand on the thread that called {@link #run}.
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

    @Command(name = "connect", mixinStandardHelpOptions = true, usageHelpAutoWidth = true, description = {
            "Open N connections at bounded concurrency and hold them with heartbeats answered.",
            "Reports handshakes/s, handshake latency, server CPU per 1,000 handshakes, server RSS per held connection and"
                    + " connections lost during the hold."})
    static final class Connect implements Callable<Integer> {
        @Mixin
        CommonOptions common;

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
        CommonOptions common;

        @Mixin
        PublishingOptions publishing;

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
        CommonOptions common;

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
        CommonOptions common;

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
        CommonOptions common;

        @Mixin
        PublishingOptions publishing;

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
