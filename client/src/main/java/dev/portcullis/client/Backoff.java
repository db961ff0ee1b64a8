package dev.portcullis.client;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Reconnect delays: exponential growth with full jitter. Attempt {@code n} (counting from 0 since the
 * last {@link #reset}) waits a uniformly random time in {@code [min, min(max, min * 2^(n+1))]}, so
 * even the first retry of many clients dropped at once is spread over {@code [min, 2 min]}.
 * Not thread-safe: used on the client thread only.
 */
final class Backoff {
    private final long minMillis;
    private final long maxMillis;
    private final RandomGenerator random;
    private int attempts;

    Backoff(Duration min, Duration max, RandomGenerator random) {
        this.minMillis = min.toMillis();
        this.maxMillis = max.toMillis();
        if (minMillis <= 0 || maxMillis < minMillis) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max");
        }
        this.random = random;
    }

    /** The delay before the next attempt; counts the attempt. */
    Duration next() {
        long upper = upperMillis(attempts);
        if (attempts < Integer.MAX_VALUE) {
            attempts++;
        }
        return Duration.ofMillis(minMillis + random.nextLong(upper - minMillis + 1));
    }

    /** The largest delay attempt {@code n} can get. */
    long upperMillis(int n) {
        if (n >= 62 || minMillis > (maxMillis >> Math.min(n + 1, 62))) {
            return maxMillis;
        }
        return Math.min(maxMillis, minMillis << (n + 1));
    }

    /** A random share of {@code min}, added to server-given waits so that clients do not return together. */
    Duration jitter() {
        return Duration.ofMillis(random.nextLong(minMillis + 1));
    }

    /** After a connection that lived long enough: start again from {@code min}. */
    void reset() {
        attempts = 0;
    }

    int attempts() {
        return attempts;
    }
}
