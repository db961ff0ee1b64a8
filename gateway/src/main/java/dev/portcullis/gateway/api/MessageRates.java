package dev.portcullis.gateway.api;

import dev.portcullis.gateway.metrics.GatewayMetrics;

/**
 * Messages in and out per second for {@code /api/stats}: {@link #sample()} runs once a second and
 * keeps the rate over the last interval. Thread-safe (one writer, many readers).
 */
public final class MessageRates {
    private final GatewayMetrics metrics;
    private double lastIn;
    private double lastOut;
    private long lastNanos = System.nanoTime();
    private volatile double inPerSecond;
    private volatile double outPerSecond;

    public MessageRates(GatewayMetrics metrics) {
        this.metrics = metrics;
        this.lastIn = metrics.messagesReceivedTotal();
        this.lastOut = metrics.messagesSentTotal();
    }

    public synchronized void sample() {
        long now = System.nanoTime();
        double seconds = (now - lastNanos) / 1e9;
        if (seconds <= 0) {
            return;
        }
        double in = metrics.messagesReceivedTotal();
        double out = metrics.messagesSentTotal();
        inPerSecond = (in - lastIn) / seconds;
        outPerSecond = (out - lastOut) / seconds;
        lastIn = in;
        lastOut = out;
        lastNanos = now;
    }

    public double inPerSecond() {
        return inPerSecond;
    }

    public double outPerSecond() {
        return outPerSecond;
    }
}
