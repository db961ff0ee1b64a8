package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * permessage-deflate (RFC 7692): {@code portcullis_compression_connections_total} counts upgrades
 * that negotiated it; {@code portcullis_compression_deliveries_total{frame}} counts publications
 * written to those connections, {@code deflate} (the shared compressed frame) or {@code plain} (a
 * message under the size threshold, or one that does not compress); {@code
 * portcullis_compression_compressions_total} counts compressions, one per publication at most
 * however many subscribers get it, so deliveries over compressions is the sharing factor; and
 * {@code portcullis_compression_inflated_bytes_total} counts bytes inflated from clients' compressed
 * messages, which stops at {@code limits.max-message-bytes} per message. Created by
 * {@link GatewayMetrics}; thread-safe (each count is one striped-adder increment).
 */
public final class CompressionMetrics {
    private final Counter connections;
    private final Counter deflatedDeliveries;
    private final Counter plainDeliveries;
    private final Counter compressions;
    private final Counter inflatedBytes;

    CompressionMetrics(MeterRegistry registry) {
        connections = Counter.builder("portcullis.compression.connections")
                .description("Upgrades that negotiated permessage-deflate")
                .register(registry);
        deflatedDeliveries = deliveries(registry, "deflate");
        plainDeliveries = deliveries(registry, "plain");
        compressions = Counter.builder("portcullis.compression.compressions")
                .description("Publications compressed (once each, shared by all their compressing subscribers)")
                .register(registry);
        inflatedBytes = Counter.builder("portcullis.compression.inflated")
                .description("Bytes inflated from clients' compressed messages")
                .baseUnit("bytes")
                .register(registry);
    }

    /** A testing and benchmarking registry of its own, for code that runs without a gateway. */
    public static CompressionMetrics detached() {
        return new CompressionMetrics(new io.micrometer.core.instrument.simple.SimpleMeterRegistry());
    }

    private static Counter deliveries(MeterRegistry registry, String frame) {
        return Counter.builder("portcullis.compression.deliveries")
                .description("Publications written to connections that negotiated permessage-deflate, by frame: deflate or plain")
                .tag("frame", frame)
                .register(registry);
    }

    public void negotiated() {
        connections.increment();
    }

    public void deliveredDeflated() {
        deflatedDeliveries.increment();
    }

    public void deliveredPlain() {
        plainDeliveries.increment();
    }

    public void compressed() {
        compressions.increment();
    }

    public void inflated(long bytes) {
        inflatedBytes.increment(bytes);
    }

    public double compressions() {
        return compressions.count();
    }

    public double deflatedDeliveries() {
        return deflatedDeliveries.count();
    }

    public double inflatedBytes() {
        return inflatedBytes.count();
    }
}
