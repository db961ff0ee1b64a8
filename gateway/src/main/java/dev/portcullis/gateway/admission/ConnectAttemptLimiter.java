package dev.portcullis.gateway.admission;

import io.github.bucket4j.Bandwidth;
import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Handshakes one user may start per minute: a token bucket per user with capacity N, refilled
 * greedily at N per minute (one token every 60/N seconds). 0 means unlimited and keeps no state.
 *
 * <p>Thread-safe and non-blocking. Each user's bucket is read and changed only inside
 * {@link ConcurrentHashMap#compute}, so {@link #sweep} can never drop a bucket between another
 * thread's lookup and its consumption (which would hand out a fresh, full bucket). Memory holds
 * the users seen since their bucket was last full; call {@link #sweep} periodically to drop the
 * rest.
 */
public final class ConnectAttemptLimiter implements AttemptGate {

    public static final String ATTEMPT_RATE = "attempt_rate";

    private static final Duration PERIOD = Duration.ofMinutes(1);
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final int attemptsPerMinute;
    private final TimeMeter time;
    private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();

    /** Uses {@link System#nanoTime()}. */
    public ConnectAttemptLimiter(int attemptsPerMinute) {
        this(attemptsPerMinute, System::nanoTime);
    }

    /** @param nanoTime a monotonic nanosecond source, like {@link System#nanoTime()}; tests pass a fake */
    public ConnectAttemptLimiter(int attemptsPerMinute, LongSupplier nanoTime) {
        if (attemptsPerMinute < 0) {
            throw new IllegalArgumentException(
                    "limits.connect-attempts-per-user-per-minute must be >= 0, was " + attemptsPerMinute);
        }
        this.attemptsPerMinute = attemptsPerMinute;
        this.time = new NanoTimeMeter(Objects.requireNonNull(nanoTime, "nanoTime"));
    }

    /** Outcome of {@link #tryAttempt}. */
    public sealed interface Decision permits Allowed, Rejected {}

    public enum Allowed implements Decision { INSTANCE }

    /** @param retryAfter whole seconds, at least one, until the user may try again */
    public record Rejected(Duration retryAfter) implements Decision {
        public String reason() {
            return ATTEMPT_RATE;
        }

        public int httpStatus() {
            return 429;
        }

        /** Value for the {@code Retry-After} header: whole seconds, rounded up, at least one. */
        public long retryAfterSeconds() {
            return ceilSeconds(retryAfter.toNanos());
        }
    }

    /** Counts one handshake attempt of {@code user}; a rejected attempt consumes nothing. */
    @Override
    public java.util.concurrent.CompletableFuture<Decision> attempt(String user) {
        return java.util.concurrent.CompletableFuture.completedFuture(tryAttempt(user));
    }

    @Override
    public java.util.concurrent.CompletableFuture<Decision> peek(String user) {
        return java.util.concurrent.CompletableFuture.completedFuture(wouldAllow(user));
    }

    /** What {@link #tryAttempt} would answer now; consumes nothing and creates no state. */
    public Decision wouldAllow(String user) {
        Objects.requireNonNull(user, "user");
        Bucket bucket = attemptsPerMinute == 0 ? null : buckets.get(user);
        if (bucket == null) {
            return Allowed.INSTANCE; // no bucket (never seen, or swept when full): the next attempt is allowed
        }
        var estimate = bucket.estimateAbilityToConsume(1);
        return estimate.canBeConsumed()
                ? Allowed.INSTANCE
                : new Rejected(Duration.ofSeconds(ceilSeconds(estimate.getNanosToWaitForRefill())));
    }

    public Decision tryAttempt(String user) {
        Objects.requireNonNull(user, "user");
        if (attemptsPerMinute == 0) {
            return Allowed.INSTANCE;
        }
        ConsumptionProbe[] probe = new ConsumptionProbe[1];
        buckets.compute(user, (key, bucket) -> {
            Bucket current = bucket != null ? bucket : newBucket();
            probe[0] = current.tryConsumeAndReturnRemaining(1);
            return current;
        });
        if (probe[0].isConsumed()) {
            return Allowed.INSTANCE;
        }
        return new Rejected(Duration.ofSeconds(ceilSeconds(probe[0].getNanosToWaitForRefill())));
    }

    /**
     * Drops the state of users whose bucket is full again (idle for at least 60/N seconds per
     * attempt they used, a minute at most): forgetting them changes no future decision. Costs one
     * pass over the tracked users; run it from a scheduler, about once a minute.
     */
    public void sweep() {
        for (String user : buckets.keySet()) {
            buckets.computeIfPresent(user,
                    (key, bucket) -> bucket.getAvailableTokens() >= attemptsPerMinute ? null : bucket);
        }
    }

    /** Users with state held now. */
    public int trackedUsers() {
        return buckets.size();
    }

    private Bucket newBucket() {
        return Bucket.builder()
                .addLimit(Bandwidth.builder()
                        .capacity(attemptsPerMinute)
                        .refillGreedy(attemptsPerMinute, PERIOD)
                        .build())
                .withCustomTimePrecision(time)
                .build();
    }

    private static long ceilSeconds(long nanos) {
        long seconds = nanos / NANOS_PER_SECOND + (nanos % NANOS_PER_SECOND > 0 ? 1 : 0);
        return Math.max(1, seconds);
    }

    private record NanoTimeMeter(LongSupplier nanoTime) implements TimeMeter {
        @Override
        public long currentTimeNanos() {
            return nanoTime.getAsLong();
        }

        @Override
        public boolean isWallClockBased() {
            return false;
        }
    }
}
