package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.random.RandomGenerator;
import org.junit.jupiter.api.Test;

class BackoffTest {
    private static final Duration MIN = Duration.ofMillis(100);
    private static final Duration MAX = Duration.ofSeconds(5);

    /** A random source that always answers the lowest or the highest value it may. */
    private static RandomGenerator extreme(boolean high) {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                throw new UnsupportedOperationException();
            }

            @Override
            public long nextLong(long bound) {
                return high ? bound - 1 : 0;
            }
        };
    }

    @Test
    void everyDelayLiesBetweenMinAndTheAttemptsCap() {
        Backoff backoff = new Backoff(MIN, MAX, new SplittableRandom(42));
        for (int attempt = 0; attempt < 40; attempt++) {
            long cap = backoff.upperMillis(attempt);
            Duration delay = backoff.next();
            assertThat(delay.toMillis()).isBetween(MIN.toMillis(), cap);
            assertThat(cap).isLessThanOrEqualTo(MAX.toMillis());
        }
    }

    @Test
    void theCapDoublesFromTwiceMinUntilMax() {
        Backoff backoff = new Backoff(MIN, MAX, new SplittableRandom(1));
        assertThat(backoff.upperMillis(0)).isEqualTo(200);
        assertThat(backoff.upperMillis(1)).isEqualTo(400);
        assertThat(backoff.upperMillis(4)).isEqualTo(3200);
        assertThat(backoff.upperMillis(5)).isEqualTo(5000);
        assertThat(backoff.upperMillis(63)).isEqualTo(5000);
        assertThat(backoff.upperMillis(Integer.MAX_VALUE)).isEqualTo(5000);
    }

    @Test
    void theJitterIsFullBothBoundsAreReachable() {
        Backoff low = new Backoff(MIN, MAX, extreme(false));
        Backoff high = new Backoff(MIN, MAX, extreme(true));
        for (int attempt = 0; attempt < 8; attempt++) {
            assertThat(low.next()).isEqualTo(MIN);
            assertThat(high.next().toMillis()).isEqualTo(Math.min(MAX.toMillis(), MIN.toMillis() << (attempt + 1)));
        }
    }

    @Test
    void delaysOfOneAttemptAreSpreadNotEqual() {
        Set<Long> firstDelays = new HashSet<>();
        SplittableRandom random = new SplittableRandom(7);
        for (int client = 0; client < 100; client++) {
            firstDelays.add(new Backoff(MIN, MAX, random.split()).next().toMillis());
        }
        assertThat(firstDelays).hasSizeGreaterThan(50).allSatisfy(d -> assertThat(d).isBetween(100L, 200L));
    }

    @Test
    void resetStartsAgainFromTheFirstCap() {
        Backoff backoff = new Backoff(MIN, MAX, extreme(true));
        for (int i = 0; i < 10; i++) {
            backoff.next();
        }
        assertThat(backoff.next()).isEqualTo(MAX);
        backoff.reset();
        assertThat(backoff.attempts()).isZero();
        assertThat(backoff.next()).isEqualTo(Duration.ofMillis(200));
    }

    @Test
    void jitterForServerHintsStaysWithinMin() {
        Backoff backoff = new Backoff(MIN, MAX, new SplittableRandom(3));
        for (int i = 0; i < 100; i++) {
            assertThat(backoff.jitter().toMillis()).isBetween(0L, MIN.toMillis());
        }
        assertThat(backoff.attempts()).isZero();
    }

    @Test
    void minEqualToMaxIsAConstantDelay() {
        Backoff backoff = new Backoff(MIN, MIN, new SplittableRandom(3));
        assertThat(backoff.next()).isEqualTo(MIN);
        assertThat(backoff.next()).isEqualTo(MIN);
    }

    @Test
    void refusesNonsense() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, MAX, new SplittableRandom())).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Backoff(MAX, MIN, new SplittableRandom())).isInstanceOf(IllegalArgumentException.class);
    }
}
