package dev.portcullis.gateway.session;

import dev.portcullis.gateway.protocol.ServerMessage;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A session's clocks: the token's expiry (plus the clock skew), the periodic re-auth request and its
 * deadline, and the maximum connection age. Each ends the connection through its {@link Session};
 * all of them stop when it closes.
 *
 * <p>They are deadlines in epoch milliseconds of the session's clock, checked by its loop's
 * {@link LoopSweep} (no scheduled task per timer: that cost ~100 bytes each, for every idle
 * connection). Each fires at the first sweep at or after its deadline: up to one tick late
 * ({@link LoopSweep}: a tenth of the shortest of re-auth interval, re-auth grace and maximum age, at
 * most one second), never early. Re-auth requests keep a fixed rate: every {@code reauth-interval}
 * after the start, skipped while one is unanswered, as {@code scheduleAtFixedRate} did. The token's
 * {@code exp} is a wall-clock time, and so is its deadline here: a clock step moves it with the
 * token, not after it.
 *
 * <p>Threading: confined to the session's event loop, like the session itself; the sweep runs on
 * that loop too.
 */
final class SessionTimers implements LoopSweep.Member {
    /** Reconnect hints of connections closed for age are spread over this. */
    private static final long AGE_RETRY_SPREAD_MILLIS = 5_000;
    /** A deadline that is not set. */
    private static final long NEVER = Long.MAX_VALUE;

    private final Session session;
    private final Session.Context context;
    private long expiresAtMillis = NEVER;
    private long nextReauthMillis = NEVER;
    private long reauthDeadlineMillis = NEVER;
    private long ageMillis = NEVER;
    private boolean stopped;

    SessionTimers(Session session, Session.Context context) {
        this.session = session;
        this.context = context;
    }

    /**
     * Arms the expiry of {@code expiresAt}, the age limit and the re-auth requests, as the settings
     * say, on the sweep of {@code executor}, the session's loop; call there.
     */
    void start(Instant expiresAt, ScheduledExecutorService executor) {
        SessionSettings settings = context.settings();
        long now = context.clock().millis();
        expireAt(expiresAt);
        long maxAge = settings.maxConnectionAge().toMillis();
        if (maxAge > 0) {
            // Up to 10% early, so that connections opened together (after a deploy) do not all leave together.
            ageMillis = now + maxAge - ThreadLocalRandom.current().nextLong(Math.max(1, maxAge / 10));
        }
        long interval = settings.reauthInterval().toMillis();
        if (interval > 0) {
            nextReauthMillis = now + interval;
        }
        Duration shortest = LoopSweep.shorter(LoopSweep.shorter(settings.reauthInterval(), settings.reauthGrace()),
                settings.maxConnectionAge());
        LoopSweep.join(executor, shortest, this);
    }

    /** A fresh token was applied: the pending re-auth request is answered and the expiry moves. */
    void renewed(Instant expiresAt) {
        reauthDeadlineMillis = NEVER;
        expireAt(expiresAt);
    }

    /** No timer fires after this; the sweep drops this session at its next tick. */
    void cancel() {
        stopped = true;
    }

    @Override
    public boolean sweep() {
        if (stopped || session.isClosed()) {
            return false;
        }
        long now = context.clock().millis();
        if (now >= expiresAtMillis) {
            session.disconnect(Disconnect.TOKEN_EXPIRED);
        } else if (now >= reauthDeadlineMillis) {
            session.disconnect(Disconnect.REAUTH_TIMEOUT);
        } else if (now >= ageMillis) {
            session.goAway(Disconnect.AGE, ThreadLocalRandom.current().nextLong(AGE_RETRY_SPREAD_MILLIS));
        } else if (now >= nextReauthMillis) {
            long interval = context.settings().reauthInterval().toMillis();
            do {
                nextReauthMillis += interval; // fixed rate: rounds missed while one was pending are skipped
            } while (nextReauthMillis <= now);
            if (reauthDeadlineMillis == NEVER) {
                requestReauth(now);
            }
        }
        return !stopped && !session.isClosed();
    }

    private void requestReauth(long now) {
        long grace = context.settings().reauthGrace().toMillis();
        reauthDeadlineMillis = now + grace;
        session.send(new ServerMessage.Reauth(reauthDeadlineMillis));
    }

    private void expireAt(Instant expiresAt) {
        expiresAtMillis = expiresAt.plus(context.settings().clockSkew()).toEpochMilli();
    }
}
