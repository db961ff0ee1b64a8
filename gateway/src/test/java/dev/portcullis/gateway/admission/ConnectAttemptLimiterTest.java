package dev.portcullis.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.admission.ConnectAttemptLimiter.Allowed;
import dev.portcullis.gateway.admission.ConnectAttemptLimiter.Rejected;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ConnectAttemptLimiterTest {

    final AtomicLong nanos = new AtomicLong(-7_000_000_000L); // like System.nanoTime, any origin
    final ConnectAttemptLimiter limiter = new ConnectAttemptLimiter(5, nanos::get);

    @Test
    void retryAfterIsWholeSecondsRoundedUpAndNeverZero() {
        // The Redis limiter answers in milliseconds: a header of 0 or 1 for 1.9 s would bring the client back too early.
        assertThat(new Rejected(Duration.ofMillis(300)).retryAfterSeconds()).isEqualTo(1);
        assertThat(new Rejected(Duration.ofMillis(1900)).retryAfterSeconds()).isEqualTo(2);
        assertThat(new Rejected(Duration.ofSeconds(12)).retryAfterSeconds()).isEqualTo(12);
    }

    @Test
    void wouldAllowLooksWithoutCounting() {
        ConnectAttemptLimiter limiter = new ConnectAttemptLimiter(2, () -> 0L);
        for (int i = 0; i < 10; i++) {
            assertThat(limiter.wouldAllow("u")).isEqualTo(ConnectAttemptLimiter.Allowed.INSTANCE);
        }
        assertThat(limiter.trackedUsers()).as("a look creates no state").isZero();
        limiter.tryAttempt("u");
        limiter.tryAttempt("u");
        assertThat(limiter.wouldAllow("u")).isInstanceOf(Rejected.class);
        assertThat(limiter.tryAttempt("u")).isInstanceOf(Rejected.class);
    }

    @Test
    void sixthAttemptInAMinuteIsRejectedWithRetryAfter() {
        for (int i = 0; i < 5; i++) {
            assertThat(limiter.tryAttempt("alice")).isEqualTo(Allowed.INSTANCE);
        }

        var decision = limiter.tryAttempt("alice");

        // 5 per minute refill greedily: one token every 12 s
        assertThat(decision).isEqualTo(new Rejected(Duration.ofSeconds(12)));
        var rejected = (Rejected) decision;
        assertThat(rejected.retryAfterSeconds()).isEqualTo(12);
        assertThat(rejected.reason()).isEqualTo("attempt_rate");
        assertThat(rejected.httpStatus()).isEqualTo(429);
    }

    @Test
    void retryAfterRoundsUpToWholeSecondsAndIsAtLeastOne() {
        exhaust("alice");

        advance(Duration.ofMillis(500));
        assertThat(retryAfter("alice")).isEqualTo(Duration.ofSeconds(12)); // 11.5 s rounds up

        advance(Duration.ofMillis(11_499));
        assertThat(retryAfter("alice")).isEqualTo(Duration.ofSeconds(1)); // 1 ms left
    }

    @Test
    void allowedAgainOnceTheRetryAfterHasPassed() {
        exhaust("alice");
        Duration wait = retryAfter("alice");

        advance(wait);

        assertThat(limiter.tryAttempt("alice")).isEqualTo(Allowed.INSTANCE);
        assertThat(limiter.tryAttempt("alice")).isInstanceOf(Rejected.class);
    }

    @Test
    void aFullMinuteRestoresAllAttempts() {
        exhaust("alice");

        advance(Duration.ofMinutes(1));

        for (int i = 0; i < 5; i++) {
            assertThat(limiter.tryAttempt("alice")).isEqualTo(Allowed.INSTANCE);
        }
        assertThat(limiter.tryAttempt("alice")).isInstanceOf(Rejected.class);
    }

    @Test
    void rejectedAttemptsDoNotPostponeRecovery() {
        exhaust("alice");
        for (int i = 0; i < 100; i++) {
            limiter.tryAttempt("alice");
        }

        advance(Duration.ofSeconds(12));

        assertThat(limiter.tryAttempt("alice")).isEqualTo(Allowed.INSTANCE);
    }

    @Test
    void usersAreIndependent() {
        exhaust("alice");

        for (int i = 0; i < 5; i++) {
            assertThat(limiter.tryAttempt("bob")).isEqualTo(Allowed.INSTANCE);
        }
        assertThat(limiter.trackedUsers()).isEqualTo(2);
    }

    @Test
    void sweepDropsUsersWhoseBucketIsFullAgainAndKeepsRecentOnes() {
        exhaust("idle");
        advance(Duration.ofSeconds(50));
        limiter.tryAttempt("recent");

        limiter.sweep();
        assertThat(limiter.trackedUsers()).as("idle has 4 of 5 attempts back after 50 s").isEqualTo(2);

        advance(Duration.ofSeconds(10));
        limiter.sweep();

        assertThat(limiter.trackedUsers()).isEqualTo(1);
        // "recent" still has its used attempt counted: it gets 4 more, not 5
        for (int i = 0; i < 4; i++) {
            assertThat(limiter.tryAttempt("recent")).isEqualTo(Allowed.INSTANCE);
        }
        assertThat(limiter.tryAttempt("recent")).isInstanceOf(Rejected.class);
    }

    @Test
    void sweepDropsAUserAsSoonAsTheAttemptsTheyUsedAreRefilled() {
        limiter.tryAttempt("alice");

        advance(Duration.ofSeconds(11));
        limiter.sweep();
        assertThat(limiter.trackedUsers()).isEqualTo(1);

        advance(Duration.ofSeconds(1));
        limiter.sweep();
        assertThat(limiter.trackedUsers()).isZero();
    }

    @Test
    void sweptUserStartsAgainWithAFullBucket() {
        exhaust("alice");
        advance(Duration.ofMinutes(1));
        limiter.sweep();
        assertThat(limiter.trackedUsers()).isZero();

        for (int i = 0; i < 5; i++) {
            assertThat(limiter.tryAttempt("alice")).isEqualTo(Allowed.INSTANCE);
        }
        assertThat(limiter.tryAttempt("alice")).isInstanceOf(Rejected.class);
    }

    @Test
    void zeroMeansUnlimitedAndKeepsNoState() {
        var unlimited = new ConnectAttemptLimiter(0, nanos::get);

        for (int i = 0; i < 1_000; i++) {
            assertThat(unlimited.tryAttempt("alice")).isEqualTo(Allowed.INSTANCE);
        }
        assertThat(unlimited.trackedUsers()).isZero();
    }

    private void exhaust(String user) {
        for (int i = 0; i < 5; i++) {
            limiter.tryAttempt(user);
        }
        assertThat(limiter.tryAttempt(user)).isInstanceOf(Rejected.class);
    }

    private Duration retryAfter(String user) {
        return ((Rejected) limiter.tryAttempt(user)).retryAfter();
    }

    private void advance(Duration duration) {
        nanos.addAndGet(duration.toNanos());
    }
}
