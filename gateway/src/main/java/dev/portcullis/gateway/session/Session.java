package dev.portcullis.gateway.session;

import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenRejectedException;
import dev.portcullis.gateway.auth.TokenVerifier;
import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.broker.BrokerUnavailableException;
import dev.portcullis.gateway.channel.ChannelNames;
import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.Subscriber;
import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.MessageCodec;
import dev.portcullis.gateway.protocol.ProtocolException;
import dev.portcullis.gateway.protocol.PublicationData;
import dev.portcullis.gateway.protocol.ServerMessage;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One authenticated connection's life after the upgrade: the {@code connected} greeting and
 * auto-subscriptions, inbound messages (rate limit, then subscribe / unsubscribe / publish with
 * permission checks), periodic re-auth, closing when the token expires, and closing a client that
 * keeps sending garbage or keeps exceeding its rate.
 *
 * <p>Inbound path: decode and envelope schema ({@link MessageCodec}) -> rate limit -> permission ->
 * data schema and sanitising ({@link PublicationData}, publish only) -> broker. The costly steps run
 * only for messages that passed the cheap ones. {@code auth} is exempt from the rate limit so that a
 * busy client can always answer a re-auth request.
 *
 * <p>Threading: every method runs on {@code executor}, the connection's event loop, so the state
 * here needs no locks. Token verification and broker publishes may complete elsewhere; their results
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
            Clock clock) {}

    /** Publications buffered per channel while it recovers; more closes the connection (4009). */
    static final int MAX_RECOVERY_BUFFER = 10_000;
    /** Missed publications a subscribe recovers at most; more is {@code recovered: false}. */
    static final int MAX_RECOVERY = 10_000;

    private final String id;
    private final InetSocketAddress remote;
    private final Instant openedAt;
    private final Outbound out;
    private final ScheduledExecutorService executor;
    private final Context context;

    private Principal principal;
    private Permissions permissions;
    private final List<String> subscriptions = new ArrayList<>(2);
    /** Channels whose subscribe is waiting for history, with the live publications held meanwhile; null when none. */
    private Map<String, List<Publication>> recovering;
    private boolean closed;
    private ScheduledFuture<?> expiryTimer;
    private ScheduledFuture<?> reauthTimer;
    private ScheduledFuture<?> reauthDeadline;
    private ScheduledFuture<?> ageTimer;
    /** Reconnect hints of connections closed for age are spread over this. */
    private static final long AGE_RETRY_SPREAD_MILLIS = 5_000;
    private long violationWindowStartMillis;
    private int violationsInWindow;
    private long rateArrivalNanos;
    private long rateStreakStartNanos;
    private long rateStreakLastNanos;

    public Session(
            String id, Principal principal, InetSocketAddress remote, Outbound out,
            ScheduledExecutorService executor, Context context) {
        this.id = id;
        this.principal = principal;
        this.permissions = Permissions.of(principal.subject(), principal.claims(), context.permissions());
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

    /** A copy of the subscribed channels; call on the executor. */
    public List<String> subscriptions() {
        return List.copyOf(subscriptions);
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
        send(new ServerMessage.Connected(id, principal.subject(), principal.expiresAt().toEpochMilli()));
        SessionSettings settings = context.settings();
        List<String> automatic = new ArrayList<>();
        if (settings.autoSubscribePersonal()) {
            String personal = ChannelNames.personal(principal.subject());
            if (personal != null) {
                automatic.add(personal);
            }
        }
        automatic.addAll(settings.autoSubscribe());
        for (String channel : automatic) {
            ClientMessage.Since since = recover.get(channel);
            if (since == null) {
                join(channel);
            } else {
                subscribe(new ClientMessage.Subscribe(null, channel, since));
            }
        }
        armExpiry();
        long maxAge = settings.maxConnectionAge().toMillis();
        if (maxAge > 0) {
            // Up to 10% early, so that connections opened together (after a deploy) do not all leave together.
            long age = maxAge - ThreadLocalRandom.current().nextLong(Math.max(1, maxAge / 10));
            ageTimer = executor.schedule(() -> goAway(Disconnect.AGE,
                    ThreadLocalRandom.current().nextLong(AGE_RETRY_SPREAD_MILLIS)), age, TimeUnit.MILLISECONDS);
        }
        long interval = settings.reauthInterval().toMillis();
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
        if (!(message instanceof ClientMessage.Auth) && !withinRate(message.id())) {
            return;
        }
        switch (message) {
            case ClientMessage.Ping ping -> send(new ServerMessage.Pong(ping.id()));
            case ClientMessage.Auth auth -> reauthenticate(auth);
            case ClientMessage.Subscribe subscribe -> subscribe(subscribe);
            case ClientMessage.History history -> history(history);
            case ClientMessage.Unsubscribe unsubscribe -> {
                leave(unsubscribe.channel());
                send(new ServerMessage.Ack(unsubscribe.id(), null));
            }
            case ClientMessage.Publish publish -> publish(publish);
        }
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
        List<Publication> held = recovering == null ? null : recovering.get(publication.channel());
        if (held == null) {
            out.deliver(publication);
        } else if (held.size() < MAX_RECOVERY_BUFFER) {
            publication.retain();
            held.add(publication);
        } else {
            disconnect(Disconnect.SLOW_CONSUMER);
        }
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
        cancelTimers();
        for (String channel : subscriptions) {
            context.index().unsubscribe(channel, this);
        }
        subscriptions.clear();
        if (recovering != null) {
            recovering.values().forEach(held -> held.forEach(Publication::release));
            recovering = null;
        }
    }

    public boolean isClosed() {
        return closed;
    }

    /**
     * Subscribe, and recover what was missed since the client's position. The race argument:
     * <ol>
     *   <li>The channel is marked recovering and joined in the index first, and the broker confirms
     *       that publications of the channel reach this instance (a clustered broker's upstream
     *       subscription); from then on every live publication reaches {@link #deliver}, which holds
     *       it back.</li>
     *   <li>Then the history is read. Every publication is in the history from the moment it has its
     *       offset (the broker stores and fans out in one step), so any publication that was not held
     *       back in (1) has an offset the read returns, and any publication after the read is held
     *       back: together they leave no gap.</li>
     *   <li>The ack goes out with the channel's position, then the history after the client's offset,
     *       then the held publications whose offset is beyond the last one sent: overlap between (1)
     *       and (2) is removed by offset, so nothing is sent twice.</li>
     * </ol>
     * If the history no longer reaches back to the client's offset, or the epoch differs, the ack
     * says {@code recovered: false} with the current position; no history is sent (the client must
     * reload), only live publications after that position.
     */
    private void subscribe(ClientMessage.Subscribe subscribe) {
        String channel = subscribe.channel();
        if (!permissions.canRead(channel)) {
            error(subscribe.id(), "forbidden", "no read permission for this channel");
            return;
        }
        boolean already = subscriptions.contains(channel);
        if (!already && context.settings().subscriptionsPerConnection() > 0
                && subscriptions.size() >= context.settings().subscriptionsPerConnection()) {
            error(subscribe.id(), "too_many_subscriptions",
                    "at most " + context.settings().subscriptionsPerConnection() + " subscriptions per connection");
            return;
        }
        if (recovering != null && recovering.containsKey(channel)) {
            error(subscribe.id(), "bad_request", "a subscribe to this channel is already in progress");
            return;
        }
        if (recovering == null) {
            recovering = new HashMap<>(4);
        }
        recovering.put(channel, new ArrayList<>());
        join(channel);
        ClientMessage.Since since = subscribe.since();
        long from = since == null ? Long.MAX_VALUE : since.offset();
        // Only once publications of the channel reach us (a clustered broker subscribes upstream first)
        // is the history read: then every publication is either in it or held back here.
        context.broker().awaitSubscribed(channel)
                .thenCompose(ready -> context.history().read(channel, from == Long.MAX_VALUE ? Long.MAX_VALUE - 1 : from, MAX_RECOVERY + 1))
                .whenComplete((page, failure) -> executor.execute(() -> recovered(subscribe, page, failure)));
    }

    private void recovered(ClientMessage.Subscribe subscribe, HistoryPage page, Throwable failure) {
        String channel = subscribe.channel();
        List<Publication> held = recovering == null ? null : recovering.remove(channel);
        if (recovering != null && recovering.isEmpty()) {
            recovering = null;
        }
        if (held == null) {
            return; // closed meanwhile
        }
        try {
            if (closed || !subscriptions.contains(channel)) {
                return;
            }
            ClientMessage.Since since = subscribe.since();
            if (failure != null) {
                log.debug("conn={} history of a channel unavailable: {}", id, failure.toString());
                send(new ServerMessage.Ack(subscribe.id(), channel, null, null, null, since == null ? null : false));
                held.forEach(out::deliver);
                out.flush();
                return;
            }
            Position position = page.position();
            boolean recovered = since != null && page.complete() && position.epoch().equals(since.epoch())
                    && since.offset() <= position.offset() && page.publications().size() <= MAX_RECOVERY;
            send(ServerMessage.Ack.subscribed(subscribe.id(), channel, position.offset(), position.epoch(),
                    since == null ? null : recovered));
            long last = recovered ? since.offset() : position.offset();
            if (recovered) {
                for (HistoryPage.Entry entry : page.publications()) {
                    Publication missed = Publication.encode(channel, entry.offset(), position.epoch(), entry.dataJson());
                    try {
                        out.deliver(missed);
                    } finally {
                        missed.release();
                    }
                    last = entry.offset();
                }
                context.metrics().recovered(page.publications().size());
            }
            for (Publication live : held) {
                if (!live.epoch().equals(position.epoch()) || live.offset() > last) {
                    out.deliver(live);
                    if (live.epoch().equals(position.epoch())) {
                        last = live.offset();
                    }
                }
            }
            out.flush();
        } finally {
            held.forEach(Publication::release);
        }
    }

    private void history(ClientMessage.History request) {
        String channel = request.channel();
        if (!permissions.canRead(channel)) {
            error(request.id(), "forbidden", "no read permission for this channel");
            return;
        }
        ClientMessage.Since since = request.since();
        context.history().read(channel, since == null ? 0 : since.offset(), request.limit())
                .whenComplete((page, failure) -> executor.execute(() -> {
                    if (closed) {
                        return;
                    }
                    if (failure != null) {
                        error(request.id(), "unavailable", "history is unavailable right now; retry later");
                        return;
                    }
                    boolean sameEpoch = since == null || page.position().epoch().equals(since.epoch());
                    List<ServerMessage.History.Stored> publications = sameEpoch
                            ? page.publications().stream().map(e -> new ServerMessage.History.Stored(e.offset(), e.dataJson())).toList()
                            : List.of();
                    send(new ServerMessage.History(request.id(), channel, page.position().offset(), page.position().epoch(),
                            sameEpoch && page.complete(), publications));
                }));
    }

    private void publish(ClientMessage.Publish publish) {
        String channel = publish.channel();
        if (!permissions.canWrite(channel)) {
            error(publish.id(), "forbidden", "no write permission for this channel");
            return;
        }
        String namespace = ChannelNames.namespace(channel);
        String data;
        try {
            data = context.publicationData().prepare(namespace, publish.data());
        } catch (ProtocolException e) {
            context.metrics().validationFailure(namespace);
            error(publish.id(), e.code(), e.getMessage()); // the data's own errors carry no id
            return;
        }
        context.broker().publish(channel, data).whenComplete((position, failure) -> executor.execute(() -> {
            if (failure == null) {
                context.metrics().publication("client");
                send(ServerMessage.Ack.published(publish.id(), position.offset(), position.epoch()));
            } else {
                Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
                if (!(cause instanceof BrokerUnavailableException)) {
                    try (var ignored = MDC.putCloseable("conn", id)) {
                        log.warn("publish failed", cause);
                    }
                }
                error(publish.id(), "unavailable", "publishing is unavailable right now; retry later");
            }
        }));
    }

    private void join(String channel) {
        if (!subscriptions.contains(channel)) {
            subscriptions.add(channel);
            context.index().subscribe(channel, this);
        }
    }

    private void leave(String channel) {
        if (subscriptions.remove(channel)) {
            context.index().unsubscribe(channel, this);
        }
        if (recovering != null) {
            List<Publication> held = recovering.remove(channel);
            if (held != null) {
                held.forEach(Publication::release);
            }
        }
    }

    /**
     * Token bucket check. Over the limit: an {@code error} with {@code retryAfterMs}. Refusals less
     * than {@code rate-limit-grace} apart form a streak (accepted messages in between do not end it:
     * a client sending at twice its rate gets every other message through and is still ignoring the
     * limit); a streak that lasts the grace closes the connection with 4008. A pause of the grace
     * without refusals ends the streak.
     */
    private boolean withinRate(String messageId) {
        MessageRate rate = context.settings().messageRate();
        long now = TimeUnit.MILLISECONDS.toNanos(context.clock().millis());
        long wait = rate.waitNanos(rateArrivalNanos, now);
        if (wait == 0) {
            rateArrivalNanos = rate.next(rateArrivalNanos, now);
            return true;
        }
        context.metrics().messageRateLimited();
        long grace = context.settings().rateLimitGrace().toNanos();
        if (rateStreakStartNanos == 0 || now - rateStreakLastNanos > grace) {
            rateStreakStartNanos = now;
        }
        rateStreakLastNanos = now;
        if (now - rateStreakStartNanos >= grace) {
            disconnect(new Disconnect(4008, "message rate limit exceeded"));
            return false;
        }
        send(new ServerMessage.Error(messageId, "rate_limited", "too many messages; slow down",
                Math.max(1, TimeUnit.NANOSECONDS.toMillis(wait))));
        return false;
    }

    private void error(String messageId, String code, String message) {
        send(new ServerMessage.Error(messageId, code, message, null));
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
                renew(fresh);
                send(new ServerMessage.Ack(auth.id(), fresh.expiresAt().toEpochMilli()));
            }
        }));
    }

    /** A fresh token replaces the old one: new expiry, new permissions; channels no longer readable are left. */
    private void renew(Principal fresh) {
        principal = fresh;
        permissions = Permissions.of(fresh.subject(), fresh.claims(), context.permissions());
        if (reauthDeadline != null) {
            reauthDeadline.cancel(false);
            reauthDeadline = null;
        }
        armExpiry();
        for (String channel : List.copyOf(subscriptions)) {
            if (!permissions.canRead(channel)) {
                leave(channel);
                error(null, "forbidden", "read permission for " + channel + " was withdrawn; unsubscribed");
            }
        }
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
        error(e.id(), e.code(), e.getMessage());
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
        for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {expiryTimer, reauthTimer, reauthDeadline, ageTimer}) {
            if (timer != null) {
                timer.cancel(false);
            }
        }
        expiryTimer = reauthTimer = reauthDeadline = ageTimer = null;
    }
}
