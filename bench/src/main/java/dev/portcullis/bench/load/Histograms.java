package dev.portcullis.bench.load;

import java.nio.ByteBuffer;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.DataFormatException;
import org.HdrHistogram.Histogram;

/** Histograms on the worker-to-coordinator line (compressed, base64) and in the result file. */
final class Histograms {
    /** Latencies in microseconds; the name says what was measured. */
    static final String HANDSHAKE = "handshake";
    static final String DELIVERY = "delivery";
    static final String ACK = "ack";
    static final String CHURN_HANDSHAKE = "churn_handshake";
    static final String PUBLISH = "publish_http";

    private Histograms() {}

    static String encode(Histogram histogram) {
        ByteBuffer buffer = ByteBuffer.allocate(histogram.getNeededByteBufferCapacity());
        int length = histogram.encodeIntoCompressedByteBuffer(buffer);
        return Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(buffer.array(), length));
    }

    static Histogram decode(String base64) {
        try {
            return Histogram.decodeFromCompressedByteBuffer(ByteBuffer.wrap(Base64.getDecoder().decode(base64)), 0);
        } catch (DataFormatException e) {
            throw new IllegalArgumentException("bad histogram from a worker", e);
        }
    }

    static Histogram empty() {
        Histogram h = new Histogram(3);
        h.setAutoResize(true);
        return h;
    }

    /** count, mean, p50, p90, p99, p99.9, max in milliseconds (from microseconds). */
    static Map<String, Object> summary(Histogram h) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("count", h.getTotalCount());
        if (h.getTotalCount() == 0) {
            return m;
        }
        m.put("meanMs", ms(h.getMean()));
        m.put("p50Ms", ms(h.getValueAtPercentile(50)));
        m.put("p90Ms", ms(h.getValueAtPercentile(90)));
        m.put("p99Ms", ms(h.getValueAtPercentile(99)));
        m.put("p999Ms", ms(h.getValueAtPercentile(99.9)));
        m.put("maxMs", ms(h.getMaxValue()));
        return m;
    }

    static double ms(double micros) {
        return Math.round(micros) / 1000.0;
    }

    /** A latency for a progress or summary line: {@code 850us}, {@code 3.2ms}, {@code 1.45s}. */
    static String pretty(double micros) {
        if (micros < 1000) {
            return Math.round(micros) + "us";
        }
        if (micros < 1_000_000) {
            return String.format(java.util.Locale.ROOT, micros < 10_000 ? "%.2fms" : "%.1fms", micros / 1000);
        }
        return String.format(java.util.Locale.ROOT, "%.2fs", micros / 1_000_000);
    }
}
