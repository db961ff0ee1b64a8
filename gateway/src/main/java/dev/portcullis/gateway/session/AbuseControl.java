package dev.portcullis.gateway.session;

import java.util.concurrent.TimeUnit;

/**
 * One connection's abuse control, split out of {@link Session}: the inbound message rate, the
 * separate budget of {@code auth} messages, the streak that turns a client ignoring
 * {@code rate_limited} into a 4008, and the window of protocol violations that ends in 4503.
 * Plain arithmetic on a few {@code long}s (it lives once per connection); the session decides what
 * to send. Confined to the connection's event loop, like the session.
 */
final class AbuseControl {
    /**
     * {@code auth} messages: 10 a minute, or twice what {@code auth.reauth-interval} asks for when
     * that is more; 3 at once. A well-behaved client needs one per re-auth (and may refresh early);
     * verifying a token costs far more than a ping, so a flood of them must not go unchecked.
     */
    static MessageRate authRate(java.time.Duration reauthInterval) {
        long intervalMillis = reauthInterval == null ? 0 : reauthInterval.toMillis();
        int asked = intervalMillis <= 0 ? 0 : (int) Math.min(6000, Math.ceil(2 * 60_000.0 / intervalMillis));
        return MessageRate.of(Math.max(10, asked), 3);
    }

    /**
     * WebSocket ping frames from the client: 120 a minute, 20 at once. Each one costs a pong; a
     * keep-alive every few seconds is far inside this, a flood is not answered.
     */
    static final MessageRate PING_RATE = MessageRate.of(120, 20);

    /** What {@link #admit} decided. */
    static final long ALLOWED = 0;
    static final long CLOSE = -1;

    private final SessionSettings settings;
    private long messageArrivalNanos;
    private long authArrivalNanos;
    private long pingArrivalNanos;
    private long streakStartNanos;
    private long streakLastNanos;
    private long violationWindowStartMillis;
    private int violationsInWindow;

    AbuseControl(SessionSettings settings) {
        this.settings = settings;
    }

    /**
     * Counts one inbound message against its budget ({@code auth} against its own). Returns
     * {@link #ALLOWED}, the nanoseconds until the message would have been allowed (refused), or
     * {@link #CLOSE}: refusals less than {@code rate-limit-grace} apart form a streak (accepted
     * messages in between do not end it: a client sending at twice its rate gets every other
     * message through and is still ignoring the limit); a streak that lasts the grace closes the
     * connection. A pause of the grace without refusals ends the streak.
     */
    long admit(boolean auth, long nowNanos) {
        // The auth budget is worked out per auth message (a few a minute at most) rather than kept: a
        // field would be one more object for every idle connection.
        MessageRate rate = auth ? authRate(settings.reauthInterval()) : settings.messageRate();
        long arrival = auth ? authArrivalNanos : messageArrivalNanos;
        long wait = rate.waitNanos(arrival, nowNanos);
        if (wait == 0) {
            if (auth) {
                authArrivalNanos = rate.next(arrival, nowNanos);
            } else {
                messageArrivalNanos = rate.next(arrival, nowNanos);
            }
            return ALLOWED;
        }
        return streak(nowNanos) ? CLOSE : wait;
    }

    /** A refusal: true when the streak it continues has lasted the grace. */
    private boolean streak(long nowNanos) {
        long grace = settings.rateLimitGrace().toNanos();
        if (streakStartNanos == 0 || nowNanos - streakLastNanos > grace) {
            streakStartNanos = nowNanos;
        }
        streakLastNanos = nowNanos;
        return nowNanos - streakStartNanos >= grace;
    }

    /**
     * Counts one WebSocket ping frame against its budget: {@link #ALLOWED} (answer it), the wait
     * (do not answer), or {@link #CLOSE} when the refusals form a streak as long as the grace.
     */
    long admitPing(long nowNanos) {
        long wait = PING_RATE.waitNanos(pingArrivalNanos, nowNanos);
        if (wait == 0) {
            pingArrivalNanos = PING_RATE.next(pingArrivalNanos, nowNanos);
            return ALLOWED;
        }
        return streak(nowNanos) ? CLOSE : wait;
    }

    /** One protocol violation; true when it is one more than the window tolerates (close with 4503). */
    boolean violation(long nowMillis) {
        int tolerated = settings.protocolViolations();
        if (tolerated == 0) {
            return false;
        }
        if (nowMillis - violationWindowStartMillis >= settings.protocolViolationWindow().toMillis()) {
            violationWindowStartMillis = nowMillis;
            violationsInWindow = 0;
        }
        return ++violationsInWindow > tolerated;
    }

    static long millis(long nanos) {
        return Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos));
    }
}
