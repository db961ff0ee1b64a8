package dev.portcullis.client;

import java.time.Duration;

/**
 * The client's own pace for the messages the server rate-limits (everything but {@code auth}): a
 * token bucket of {@code burst} messages refilled at {@code perMinute}, the same shape as the
 * server's {@code limits.messages-per-minute} / {@code limits.message-burst}. Staying under the
 * server's limit matters because the server closes a connection that keeps getting refused (4008);
 * waiting out each {@code rate_limited} answer is not enough when a backlog is flushed. Implemented
 * as GCRA (a theoretical arrival time), so it needs no timer. Client thread only.
 */
final class SendRate {
    private final long intervalNanos;
    private final long toleranceNanos;
    private long theoreticalArrivalNanos;
    private boolean started;

    /** {@code perMinute} 0 means unlimited. */
    SendRate(int perMinute, int burst) {
        if (perMinute < 0 || burst < 1) {
            throw new IllegalArgumentException("sendRate needs perMinute >= 0 and burst >= 1");
        }
        this.intervalNanos = perMinute == 0 ? 0 : Duration.ofMinutes(1).toNanos() / perMinute;
        this.toleranceNanos = intervalNanos * (burst - 1);
    }

    /** Nanoseconds to wait before the next message may go at {@code nowNanos}; 0 when it may go now. */
    long waitNanos(long nowNanos) {
        if (intervalNanos == 0 || !started) {
            return 0;
        }
        return Math.max(0, theoreticalArrivalNanos - toleranceNanos - nowNanos);
    }

    /** Counts a message sent at {@code nowNanos} (after {@link #waitNanos} said 0). */
    void take(long nowNanos) {
        if (intervalNanos == 0) {
            return;
        }
        if (!started || theoreticalArrivalNanos - nowNanos < 0) {
            theoreticalArrivalNanos = nowNanos;
            started = true;
        }
        theoreticalArrivalNanos += intervalNanos;
    }

    /** A new connection starts with a full bucket, as the server's does. */
    void reset() {
        started = false;
    }
}
