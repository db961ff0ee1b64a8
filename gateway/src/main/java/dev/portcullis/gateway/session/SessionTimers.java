package dev.portcullis.gateway.session;

import dev.portcullis.gateway.protocol.ServerMessage;
import java.time.Instant;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;

/**
 * A session's clocks: the token's expiry (plus the clock skew), the periodic re-auth request and its
 * deadline, and the maximum connection age. Each ends the connection through its {@link Session};
 * all of them are cancelled when it closes.
 *
 * <p>Threading: confined to the session's event loop, like the session itself; the timers are
 * scheduled on that loop, so they fire there too.
 */
final class SessionTimers {
    /** Reconnect hints of connections closed for age are spread over this. */
    private static final long AGE_RETRY_SPREAD_MILLIS = 5_000;

    private final Session session;
    private final Session.Context context;
    private final ScheduledExecutorService executor;
    private ScheduledFuture<?> expiryTimer;
    private ScheduledFuture<?> reauthTimer;
    private ScheduledFuture<?> reauthDeadline;
    private ScheduledFuture<?> ageTimer;

    SessionTimers(Session session, Session.Context context, ScheduledExecutorService executor) {
        this.session = session;
        this.context = context;
        this.executor = executor;
    }

    /** Arms the expiry of {@code expiresAt}, the age limit and the re-auth requests, as the settings say. */
    void start(Instant expiresAt) {
        SessionSettings settings = context.settings();
        expireAt(expiresAt);
        long maxAge = settings.maxConnectionAge().toMillis();
        if (maxAge > 0) {
            // Up to 10% early, so that connections opened together (after a deploy) do not all leave together.
            long age = maxAge - ThreadLocalRandom.current().nextLong(Math.max(1, maxAge / 10));
            ageTimer = executor.schedule(() -> session.goAway(Disconnect.AGE,
                    ThreadLocalRandom.current().nextLong(AGE_RETRY_SPREAD_MILLIS)), age, TimeUnit.MILLISECONDS);
        }
        long interval = settings.reauthInterval().toMillis();
        if (interval > 0) {
            reauthTimer = executor.scheduleAtFixedRate(this::requestReauth, interval, interval, TimeUnit.MILLISECONDS);
        }
    }

    /** A fresh token was applied: the pending re-auth request is answered and the expiry moves. */
    void renewed(Instant expiresAt) {
        if (reauthDeadline != null) {
            reauthDeadline.cancel(false);
            reauthDeadline = null;
        }
        expireAt(expiresAt);
    }

    void cancel() {
        for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {expiryTimer, reauthTimer, reauthDeadline, ageTimer}) {
            if (timer != null) {
                timer.cancel(false);
            }
        }
        expiryTimer = reauthTimer = reauthDeadline = ageTimer = null;
    }

    private void requestReauth() {
        if (session.isClosed() || reauthDeadline != null) {
            return;
        }
        long grace = context.settings().reauthGrace().toMillis();
        session.send(new ServerMessage.Reauth(context.clock().millis() + grace));
        reauthDeadline = executor.schedule(() -> session.disconnect(Disconnect.REAUTH_TIMEOUT), grace, TimeUnit.MILLISECONDS);
    }

    private void expireAt(Instant expiresAt) {
        if (expiryTimer != null) {
            expiryTimer.cancel(false);
        }
        long closeAt = expiresAt.plus(context.settings().clockSkew()).toEpochMilli();
        long delay = Math.max(0, closeAt - context.clock().millis());
        expiryTimer = executor.schedule(() -> session.disconnect(Disconnect.TOKEN_EXPIRED), delay, TimeUnit.MILLISECONDS);
    }
}
