package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class SendRateTest {
    private static final long SECOND = TimeUnit.SECONDS.toNanos(1);

    @Test
    void aBurstGoesAtOnceThenOnePerInterval() {
        SendRate rate = new SendRate(60, 3); // one per second, three at once
        long now = 1_000 * SECOND;
        for (int i = 0; i < 3; i++) {
            assertThat(rate.waitNanos(now)).isZero();
            rate.take(now);
        }
        assertThat(rate.waitNanos(now)).isEqualTo(SECOND);
        assertThat(rate.waitNanos(now + SECOND)).isZero();
        rate.take(now + SECOND);
        assertThat(rate.waitNanos(now + SECOND)).isEqualTo(SECOND);
    }

    @Test
    void idleTimeRefillsUpToTheBurstOnly() {
        SendRate rate = new SendRate(60, 2);
        long now = 0;
        rate.take(now);
        rate.take(now);
        now += 100 * SECOND;
        rate.take(now);
        rate.take(now);
        assertThat(rate.waitNanos(now)).isEqualTo(SECOND);
    }

    @Test
    void aNewConnectionStartsFull() {
        SendRate rate = new SendRate(60, 1);
        rate.take(0);
        assertThat(rate.waitNanos(0)).isEqualTo(SECOND);
        rate.reset();
        assertThat(rate.waitNanos(0)).isZero();
    }

    @Test
    void zeroMeansUnlimited() {
        SendRate rate = new SendRate(0, 1);
        for (int i = 0; i < 1000; i++) {
            assertThat(rate.waitNanos(0)).isZero();
            rate.take(0);
        }
    }
}
