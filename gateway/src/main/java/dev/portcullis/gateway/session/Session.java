package dev.portcullis.gateway.session;

import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenRejectedException;
import dev.portcullis.gateway.auth.TokenVerifier;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.MessageCodec;
import dev.portcullis.gateway.protocol.ProtocolException;
import dev.portcullis.gateway.protocol.ServerMessage;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One authenticated connection's life after the upgrade: the {@code connected} greeting, inbound
 * messages, periodic re-auth, closing when the token expires, and closing a client that keeps
 * sending garbage.
 *
 * <p>Threading: every method runs on {@code executor}, the connection's event loop, so the state
 * here needs no locks. Token verification may complete elsewhere (a JWKS fetch); its result is
 * handed back to the executor before it touches the session.
 */
public final class Session {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    /** Services shared by every session of a gateway. */
    public record Context(
            SessionSettings settings, TokenVerifier verifier, MessageCodec codec, GatewayMetrics metrics, Clock clock) {}

    private final String id;
    private final InetSocketAddress remote;
    private final Instant openedAt;
    private final Outbound out;
    private final ScheduledExecutorService executor;
    private final Context context;

    private Principal principal;
    private boolean closed;
    private ScheduledFuture<?> expiryTimer;
    private ScheduledFuture<?> reauthTimer;
    private ScheduledFuture<?> reauthDeadline;
    private long violationWindowStartMillis;
    private int violationsInWindow;

    public Session(
            String id, Principal principal, InetSocketAddress remote, Outbound out,
            ScheduledExecutorService executor, Context context) {
        this.id = id;
        this.principal = principal;
        this.remote = remote;
        this.out = out;
        this.executor = executor;
        this.context = context;
        this.openedAt = context.clock().instant();
    }

    public String id() {
        return id;
    }

    public String user() {
        return principal.subject();
    }

    public Principal principal() {
        return principal;
    }

    public InetSocketAddress remote() {
        return remote;
    }

    public Instant openedAt() {
        return openedAt;
    }

    /** Greets the client and arms the expiry and re-auth timers. */
    public void start() {
        send(new ServerMessage.Connected(id, principal.subject(), principal.expiresAt().toEpochMilli()));
        armExpiry();
        long interval = context.settings().reauthInterval().toMillis();
        if (interval > 0) {
            reauthTimer = executor.scheduleAtFixedRate(this::requestReauth, interval, interval, TimeUnit.MILLISECONDS);
        }
    }

    /** One complete inbound text message (already size-capped and UTF-8 checked by the transport). */
    public void onText(String text) {
        if (closed) {
            return;
        }
        ClientMessage message;
        try {
            message = context.codec().decode(text);
        } catch (ProtocolException e) {
            context.metrics().messageReceived("invalid");
            violation(e);
            return;
        }
        context.metrics().messageReceived(message.type());
        switch (message) {
            case ClientMessage.Ping ping -> send(new ServerMessage.Pong(ping.id()));
            case ClientMessage.Auth auth -> reauthenticate(auth);
        }
    }

    /** Ends this session from the server side. Idempotent. */
    public void disconnect(Disconnect disconnect) {
        if (closed) {
            return;
        }
        log.debug("closing conn={} code={} reason={}", id, disconnect.code(), disconnect.reason());
        closed = true;
        cancelTimers();
        out.close(disconnect);
    }

    /** The transport's word that the socket is gone, whoever closed it. Idempotent. */
    public void closed() {
        closed = true;
        cancelTimers();
    }

    public boolean isClosed() {
        return closed;
    }

    private void send(ServerMessage message) {
        if (!closed) {
            out.send(context.codec().encode(message));
            context.metrics().messageSent(message.type());
        }
    }

    private void requestReauth() {
        if (closed || reauthDeadline != null) {
            return;
        }
        long grace = context.settings().reauthGrace().toMillis();
        send(new ServerMessage.Reauth(context.clock().millis() + grace));
        reauthDeadline = executor.schedule(() -> disconnect(Disconnect.REAUTH_TIMEOUT), grace, TimeUnit.MILLISECONDS);
    }

    private void reauthenticate(ClientMessage.Auth auth) {
        context.verifier().verify(auth.token()).whenComplete((fresh, failure) -> executor.execute(() -> {
            if (closed) {
                return;
            }
            if (failure != null) {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                String reason = cause instanceof TokenRejectedException r ? r.reason().code() : "error";
                disconnect(new Disconnect(4001, "re-auth token rejected: " + reason));
            } else if (!fresh.subject().equals(principal.subject())) {
                disconnect(new Disconnect(4001, "re-auth token is for another user"));
            } else {
                principal = fresh;
                if (reauthDeadline != null) {
                    reauthDeadline.cancel(false);
                    reauthDeadline = null;
                }
                armExpiry();
                send(new ServerMessage.Ack(auth.id(), fresh.expiresAt().toEpochMilli()));
            }
        }));
    }

    private void armExpiry() {
        if (expiryTimer != null) {
            expiryTimer.cancel(false);
        }
        long closeAt = principal.expiresAt().plus(context.settings().clockSkew()).toEpochMilli();
        long delay = Math.max(0, closeAt - context.clock().millis());
        expiryTimer = executor.schedule(() -> disconnect(Disconnect.TOKEN_EXPIRED), delay, TimeUnit.MILLISECONDS);
    }

    private void violation(ProtocolException e) {
        context.metrics().protocolViolation(e.code());
        send(new ServerMessage.Error(e.id(), e.code(), e.getMessage(), null));
        int tolerated = context.settings().protocolViolations();
        if (tolerated == 0) {
            return;
        }
        long now = context.clock().millis();
        if (now - violationWindowStartMillis >= context.settings().protocolViolationWindow().toMillis()) {
            violationWindowStartMillis = now;
            violationsInWindow = 0;
        }
        if (++violationsInWindow > tolerated) {
            disconnect(Disconnect.VIOLATIONS);
        }
    }

    private void cancelTimers() {
        for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {expiryTimer, reauthTimer, reauthDeadline}) {
            if (timer != null) {
                timer.cancel(false);
            }
        }
        expiryTimer = reauthTimer = reauthDeadline = null;
    }
}
