package dev.portcullis.gateway.session;

import java.util.concurrent.TimeUnit;

/**
 * The per-connection inbound message limit as a token bucket in GCRA form: {@code perMinute}
 * sustained, {@code burst} at once. A session stores only its theoretical arrival time (one
 * {@code long}), which matters at 100k connections; this shared record holds the arithmetic.
 *
 * @param intervalNanos time one message "costs" ({@code 60 s / perMinute}); 0 when unlimited
 * @param toleranceNanos how far ahead of real time the arrival time may run ({@code (burst - 1) * interval})
 */
public record MessageRate(long intervalNanos, long toleranceNanos) {
    public static MessageRate of(int perMinute, int burst) {
        if (perMinute == 0) {
            return new MessageRate(0, 0);
        }
        long interval = TimeUnit.MINUTES.toNanos(1) / perMinute;
        return new MessageRate(interval, interval * (Math.max(1, burst) - 1));
    }

    /** Nanoseconds until a message would be allowed, 0 when it is allowed now. */
    public long waitNanos(long arrivalNanos, long nowNanos) {
        if (intervalNanos == 0) {
            return 0;
        }
        long ahead = Math.max(arrivalNanos, nowNanos) - nowNanos;
        return Math.max(0, ahead - toleranceNanos);
    }

    /** The arrival time after an allowed message. */
    public long next(long arrivalNanos, long nowNanos) {
        return Math.max(arrivalNanos, nowNanos) + intervalNanos;
    }
}
