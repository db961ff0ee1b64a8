package dev.portcullis.bench.load;

import dev.portcullis.bench.load.CommonOptions.DurationConverter;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The options of the scenarios that publish through the admin API ({@code fanout}, {@code churn}):
 * the channel, the admin API and its key, the publishing rate and payload, warm-up and drain. A
 * picocli mixin of those subcommands of {@link LoadCommand}.
 *
 * <p>Its own class because two scenarios share them and the others must not offer them.
 *
 * <p>Threads: filled in by picocli and read once, on the thread that runs the command.
 */
final class PublishingOptions {
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
