package dev.portcullis.gateway.session;

import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenRejectedException;
import dev.portcullis.gateway.auth.TokenVerifier;
import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.Subscriber;
import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.hooks.Hooks;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.presence.Presence;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.MessageCodec;
import dev.portcullis.gateway.protocol.ProtocolException;
import dev.portcullis.gateway.protocol.RequestId;
import dev.portcullis.gateway.protocol.PublicationData;
import dev.portcullis.gateway.protocol.ServerMessage;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One authenticated connection's life after the upgrade: the {@code connected} greeting and
 * auto-subscriptions, inbound messages (rate limit, then subscribe / unsubscribe / publish with
 * permission checks), periodic re-auth, closing when the token expires, and closing a client that
 * keeps sending garbage or keeps exceeding its rate. Its channels live in {@link ChannelSubscriptions}
 * (reads without a subscription in {@link ChannelReads}),
 * its publish path in {@link ClientPublications}. Its budgets live in {@link AbuseControl}, its
 * clocks (expiry, re-auth, age) in {@link SessionTimers}.
 *
 * <p>Inbound path: decode and envelope schema ({@link MessageCodec}) -> rate limit -> permission ->
 * data schema and sanitising ({@link PublicationData}, publish only) -> hooks to the application's
 * backend ({@link Hooks}, where configured) -> broker. The costly steps
 * run only for messages that passed the cheap ones. {@code auth} is exempt from the rate limit so that a
 * busy client can always answer a re-auth request.
 *
 * <p>Threading: every method runs on {@code executor}, the connection's event loop, so the state
 * here needs no locks. Token verification, hook calls and broker publishes may complete elsewhere; their results
 * are handed back to the executor before they touch the session.
 */
public final class Session implements Subscriber {
    private static final Logger log = LoggerFactory.getLogger(Session.class);

    /** Services shared by every session of a gateway. */
    public record Context(
            SessionSettings settings,
            TokenVerifier verifier,
            MessageCodec codec,
            PublicationData publicationData,
            Permissions.Shared permissions,
            SubscriptionIndex index,
            Broker broker,
            History history,
            GatewayMetrics metrics,
            Clock clock,
            Hooks hooks,
            Presence presence) {}

    /** Publications buffered per channel while it recovers; more closes the connection (4009). */
    static final int MAX_RECOVERY_BUFFER = 10_000;
    /** Missed publications a subscribe recovers at most; more is {@code recovered: false}. */
    static final int MAX_RECOVERY = 10_000;

    private final String id;
    private final InetSocketAddress remote;
    /** Epoch millis rather than an {@code Instant}: one object less for every connection. */
    private final long openedAtMillis;
    private final Outbound out;
    private final ScheduledExecutorService executor;
    private final Context context;

    /** The token's principal without its claims: {@link #permissions} holds what they granted. */
    private Principal principal;
    private Permissions permissions;
    private final ChannelSubscriptions channels;
    /**
     * Created on the first {@code history}/{@code presence} request and the first {@code publish}:
     * many connections only listen, and each would otherwise carry these from the start.
     */
    private ChannelReads reads;
    private ClientPublications publications;
    private final AbuseControl abuse;
    private final SessionTimers timers;
    private boolean closed;
    /** How many {@code auth} messages this connection sent; the latest is the only one applied. */
    private long authsReceived;

    public Session(
            String id, Principal principal, InetSocketAddress remote, Outbound out,
            ScheduledExecutorService executor, Context context) {
        this.id = id;
        this.permissions = Permissions.of(principal.subject(), principal.claims(), context.permissions());
        this.principal = principal.withoutClaims();
        this.remote = remote;
        this.out = out;
        this.executor = executor;
        this.context = context;
        this.openedAtMillis = context.clock().millis();
        this.channels = new ChannelSubscriptions(this, context, out, executor);
        this.abuse = new AbuseControl(context.settings());
        this.timers = new SessionTimers(this, context);
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
        return Instant.ofEpochMilli(openedAtMillis);
    }

    /** What the current token allows; call on the executor. */
    Permissions permissions() {
        return permissions;
    }

    /** A copy of the subscribed channels; call on the executor. */
    public List<String> subscriptions() {
        return List.copyOf(channels.channels());
    }

    /** {@link #start(Map)} without recovery positions. */
    public void start() {
        start(Map.of());
    }

    /**
     * Greets the client, joins the automatic channels and arms the expiry and re-auth timers. An
     * automatic channel for which the client gave a position (the {@code recover} parameter of its
     * upgrade request) is joined through recovery, exactly like {@code subscribe} with {@code since}:
     * an {@code ack} with {@code recovered}, the missed publications, then live ones. Without a
     * position it is joined silently, as before.
     */
    public void start(Map<String, ClientMessage.Since> recover) {
        if (closed) {
            return; // closed while the 101 was being written
        }
        SessionSettings settings = context.settings();
        List<String> automatic = new ArrayList<>();
        if (settings.autoSubscribePersonal()) {
            String personal = permissions.personal(); // ChannelNames.personal of the subject, already built
            if (personal != null) {
                automatic.add(personal);
            }
        }
        automatic.addAll(settings.autoSubscribe());
        // Silent joins before the greeting: a client that publishes (or has its backend publish) as
        // soon as it reads "connected" must find itself subscribed. Nothing is delivered in between,
        // since fan-out runs as a later task on this same loop.
        List<String> recovering = new ArrayList<>();
        for (String channel : automatic) {
            if (recover.containsKey(channel)) {
                recovering.add(channel);
            } else {
                channels.join(channel);
            }
        }
        send(new ServerMessage.Connected(id, principal.subject(), principal.expiresAtMillis()));
        for (String channel : recovering) {
            channels.subscribe(new ClientMessage.Subscribe(null, channel, recover.get(channel)), permissions, false);
        }
        timers.start(principal.expiresAt(), executor);
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
        if (!withinRate(message)) {
            return;
        }
        switch (message) {
            case ClientMessage.Ping ping -> send(new ServerMessage.Pong(ping.id()));
            case ClientMessage.Auth auth -> reauthenticate(auth);
            case ClientMessage.Subscribe subscribe -> channels.subscribe(subscribe, permissions, true);
            case ClientMessage.History history -> reads().history(history, permissions, true);
            case ClientMessage.Presence presence -> reads().presence(presence, permissions, true);
            case ClientMessage.Unsubscribe unsubscribe -> {
                channels.leave(unsubscribe.channel());
                send(new ServerMessage.Ack(unsubscribe.id(), null));
            }
            case ClientMessage.Publish publish -> publications().publish(publish, permissions);
        }
    }

    private ChannelReads reads() {
        if (reads == null) {
            reads = new ChannelReads(this, context, executor, channels);
        }
        return reads;
    }

    private ClientPublications publications() {
        if (publications == null) {
            publications = new ClientPublications(this, context, executor);
        }
        return publications;
    }

    @Override
    public Executor executor() {
        return executor;
    }

    /** From the index: a publication of a subscribed channel. Held back while the channel recovers. */
    @Override
    public void deliver(Publication publication) {
        if (closed) {
            return;
        }
        channels.deliver(publication);
    }

    @Override
    public void flush() {
        out.flush();
    }

    /**
     * Ends this session with a reconnect hint: a {@code disconnect} message saying how long to wait,
     * then the close frame. Used by graceful shutdown so that clients come back spread out.
     */
    public void goAway(Disconnect disconnect, long retryAfterMillis) {
        if (!closed) {
            send(new ServerMessage.Disconnect(disconnect.code(), disconnect.reason(), retryAfterMillis));
            disconnect(disconnect);
        }
    }

    /** Ends this session from the server side. Idempotent. */
    public void disconnect(Disconnect disconnect) {
        if (closed) {
            return;
        }
        try (var ignored = MDC.putCloseable("conn", id)) {
            log.debug("closing: code={} reason={}", disconnect.code(), disconnect.reason());
        }
        closed();
        out.close(disconnect);
    }

    /** The transport's word that the socket is gone, whoever closed it. Idempotent. */
    public void closed() {
        closed = true;
        timers.cancel();
        channels.closeAll();
        if (publications != null) {
            publications.closeAll();
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * A WebSocket ping frame from the client: true to answer it with a pong. Over its budget it is
     * not answered (counted as rate limited); a streak of that closes with 4008.
     */
    public boolean admitPing() {
        long verdict = abuse.admitPing(TimeUnit.MILLISECONDS.toNanos(context.clock().millis()));
        if (verdict == AbuseControl.ALLOWED) {
            return true;
        }
        context.metrics().messageRateLimited();
        if (verdict == AbuseControl.CLOSE) {
            disconnect(new Disconnect(4008, "ping rate limit exceeded"));
        }
        return false;
    }

    /** The message's budget ({@link AbuseControl}): over it an {@code error} with {@code retryAfterMs}, a streak of that 4008. */
    private boolean withinRate(ClientMessage message) {
        long now = TimeUnit.MILLISECONDS.toNanos(context.clock().millis());
        long verdict = abuse.admit(message instanceof ClientMessage.Auth, now);
        if (verdict == AbuseControl.ALLOWED) {
            return true;
        }
        context.metrics().messageRateLimited();
        if (verdict == AbuseControl.CLOSE) {
            disconnect(new Disconnect(4008, "message rate limit exceeded"));
        } else {
            send(new ServerMessage.Error(message.id(), "rate_limited", "too many messages; slow down", AbuseControl.millis(verdict)));
        }
        return false;
    }

    void error(RequestId messageId, String code, String message) {
        send(new ServerMessage.Error(messageId, code, message, null));
    }

    void send(ServerMessage message) {
        if (!closed) {
            // Counted before the write: once a client holds the reply, the metric already shows it.
            context.metrics().messageSent(message.type());
            out.send(context.codec().encode(message));
        }
    }

    /**
     * Verification may complete out of order (a key fetch for one token, a cached key for the next),
     * so each {@code auth} is numbered and only the latest one sent is applied: an older token never
     * replaces a newer principal and expiry, and an older token's failure does not close a
     * connection whose newer token is still being checked. The older one is answered
     * {@code superseded}.
     */
    private void reauthenticate(ClientMessage.Auth auth) {
        long number = ++authsReceived;
        context.verifier().verify(auth.token()).whenComplete((fresh, failure) -> executor.execute(() -> {
            if (closed) {
                return;
            }
            if (number != authsReceived) {
                error(auth.id(), "superseded", "a newer auth message replaced this one");
            } else if (failure != null) {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                String reason = cause instanceof TokenRejectedException r ? r.reason().code() : "error";
                disconnect(new Disconnect(4001, "re-auth token rejected: " + reason));
            } else if (!fresh.subject().equals(principal.subject())) {
                disconnect(new Disconnect(4001, "re-auth token is for another user"));
            } else {
                renew(fresh);
                send(new ServerMessage.Ack(auth.id(), fresh.expiresAtMillis()));
            }
        }));
    }

    /** A fresh token replaces the old one: new expiry, new permissions; channels no longer readable are left. */
    private void renew(Principal fresh) {
        permissions = Permissions.of(fresh.subject(), fresh.claims(), context.permissions());
        principal = fresh.withoutClaims();
        timers.renewed(principal.expiresAt());
        for (String channel : List.copyOf(channels.channels())) {
            if (!permissions.canRead(channel)) {
                channels.leave(channel);
                send(ServerMessage.Error.withdrawn(channel));
            }
        }
    }

    private void violation(ProtocolException e) {
        context.metrics().protocolViolation(e.code());
        error(e.id(), e.code(), e.getMessage());
        if (abuse.violation(context.clock().millis())) {
            disconnect(Disconnect.VIOLATIONS);
        }
    }
}
