package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Request and reply: what the client asks the server (publish, subscribe, unsubscribe, history,
 * presence, re-auth) from the moment it is queued to its answer. It owns the {@link Outbox} (queued
 * and in flight), the {@link SendRate} and its pacing timer, and the bound on pending publications;
 * it matches the server's {@code ack}, {@code error}, {@code history} and {@code presence} to their
 * requests, retries what the server asks to retry ({@code rate_limited}, {@code outcome_unknown}),
 * and settles what is pending when a connection ends or the client stops. It exists apart from
 * {@link ClientEngine} because this state is touched only by these methods; the engine decides when
 * a connection starts and ends and tells this class, which asks the engine only whether it is
 * greeted or stopped (and why), and the {@link Connector} which socket is current.
 *
 * <p>Threading: the publication bound ({@link #reservePublication}) is an atomic counter, taken on
 * the application's threads so that a full queue fails in the caller. Everything else runs on the
 * client thread (the pacing timer is scheduled on its executor), so the outbox needs no lock.
 */
final class Requests {
    private static final Logger log = LoggerFactory.getLogger(PortcullisClient.class);
    /** Retries of a publish answered {@code outcome_unknown} before its future fails with that error. */
    static final int MAX_UNKNOWN_OUTCOMES = 3;
    static final long UNKNOWN_OUTCOME_RETRY_MILLIS = 500;

    private final ClientEngine engine;
    private final Connector connector;
    private final Subscriptions subscriptions;
    private final ScheduledExecutorService executor;
    private final Supplier<? extends CompletionStage<String>> tokens;
    private final ConnectionListener listener;
    private final EncryptedChannels encrypted; // its cipher on the client thread only
    private final int capacity;

    // shared with the application's threads
    private final AtomicInteger pendingPublishes = new AtomicInteger();

    // client thread only
    private final SendRate sendRate;
    private final Outbox outbox = new Outbox();
    private ScheduledFuture<?> pump;

    Requests(ClientEngine engine, Connector connector, Subscriptions subscriptions, ScheduledExecutorService executor,
            PortcullisClient.Builder settings, EncryptedChannels encrypted) {
        this.engine = engine;
        this.connector = connector;
        this.subscriptions = subscriptions;
        this.executor = executor;
        this.tokens = settings.tokens;
        this.listener = settings.listener;
        this.encrypted = encrypted;
        this.capacity = settings.offlineQueue;
        this.sendRate = new SendRate(settings.sendPerMinute, settings.sendBurst);
    }

    // ---------------------------------------------------------------- any thread

    /**
     * The future of a new publication, holding one of the offline queue's places until it
     * completes; an already failed one ({@link OfflineQueueFullException}) when every place is taken.
     */
    CompletableFuture<Long> reservePublication() {
        for (int pending = pendingPublishes.get(); pending < capacity; pending = pendingPublishes.get()) {
            if (pendingPublishes.compareAndSet(pending, pending + 1)) {
                CompletableFuture<Long> result = new CompletableFuture<>();
                result.whenComplete((offset, failure) -> pendingPublishes.decrementAndGet());
                return result;
            }
        }
        return CompletableFuture.failedFuture(new OfflineQueueFullException(capacity));
    }

    // ---------------------------------------------------------------- client thread: asking

    /** Registers {@code handle} and, on a greeted connection, asks the server for it. */
    void subscribe(SubscriptionHandle handle) {
        if (engine.stopped()) {
            handle.deactivate();
            handle.subscribedFuture().completeExceptionally(engine.closedException());
            return;
        }
        if (!handle.active()) {
            return; // unsubscribed before it was registered
        }
        subscriptions.put(handle);
        if (engine.greeted()) {
            enqueue(Request.subscribe(handle));
        }
    }

    /** Ends {@code handle}: its queued subscribe is dropped, the server told if it holds the subscription. */
    void unsubscribe(SubscriptionHandle handle, CompletableFuture<Void> result) {
        if (subscriptions.remove(handle)) {
            outbox.dropSubscribe(handle);
            if (engine.greeted() && !engine.stopped()) {
                enqueue(Request.unsubscribe(handle.channel(), result));
                return;
            }
        }
        result.complete(null); // without a connection the server holds no subscription
    }

    /** The server greeted a new connection: the send rate starts afresh. */
    void greeted() {
        sendRate.reset();
    }

    /** Asks again for every subscription (a new connection holds none), then sends what is queued. */
    void resubscribe() {
        for (SubscriptionHandle handle : subscriptions.all()) {
            outbox.enqueue(Request.subscribe(handle));
        }
        sendQueued();
    }

    void enqueue(Request request) {
        if (engine.stopped()) {
            request.fail(engine.closedException());
            return;
        }
        outbox.enqueue(request);
        sendQueued();
    }

    /** Sends what is queued, as fast as the send rate and a rate-limit pause allow. */
    private void sendQueued() {
        Socket socket = connector.socket();
        if (!engine.greeted() || socket == null) {
            return;
        }
        stopPump();
        while (outbox.queuedCount() > 0) {
            long now = System.nanoTime();
            long wait = sendRate.waitNanos(now);
            if (wait > 0) {
                pump = executor.schedule(this::sendQueued, wait, TimeUnit.NANOSECONDS);
                return;
            }
            Request request = outbox.poll(now);
            if (request == null) {
                pump = executor.schedule(this::sendQueued, outbox.pausedForNanos(now), TimeUnit.NANOSECONDS);
                return;
            }
            if (request.kind == Request.Kind.SUBSCRIBE && subscriptions.get(request.channel) != request.subscription) {
                continue; // unsubscribed meanwhile
            }
            sendRate.take(now);
            socket.send(request.frame(outbox.sent(request), null));
        }
    }

    /** The server asked for a fresh token: one from the supplier goes back on the same connection. */
    void onReauth() {
        Socket current = connector.socket();
        CompletionStage<String> token;
        try {
            token = tokens.get();
        } catch (RuntimeException e) {
            log.warn("token supplier failed for re-auth ({}); the server will close with 4001", Connector.describe(e));
            return;
        }
        token.whenComplete((value, failure) -> engine.run(() -> {
            if (current != connector.socket() || engine.stopped()) {
                return;
            }
            if (failure != null || value == null || value.isBlank()) {
                log.warn("token supplier failed for re-auth ({}); the server will close with 4001",
                        failure == null ? "no token" : Connector.describe(failure));
                return;
            }
            Request auth = Request.auth();
            current.send(auth.frame(outbox.sent(auth), value)); // exempt from the rate limit: not paced
        }));
    }

    // ---------------------------------------------------------------- client thread: answers

    void onAck(JsonNode frame) {
        Request request = outbox.answered(Frames.text(frame, "id"));
        if (request == null) {
            return;
        }
        switch (request.kind) {
            case PUBLISH -> {
                Long offset = Frames.number(frame, "offset");
                request.complete(offset == null ? -1L : offset);
            }
            case SUBSCRIBE -> subscriptions.acked(request, frame);
            case UNSUBSCRIBE -> request.complete(null);
            case AUTH -> {
                Long expiresAt = Frames.number(frame, "expiresAt");
                log.debug("re-authenticated; token expires at {}", expiresAt);
                if (expiresAt != null) {
                    Delivery.call(() -> listener.onReauthenticated(Instant.ofEpochMilli(expiresAt)));
                }
            }
            case HISTORY -> request.fail(new PortcullisException("the server answered history with a plain ack"));
            case PRESENCE -> request.fail(new PortcullisException("the server answered presence with a plain ack"));
        }
    }

    void onError(JsonNode frame) {
        String code = Frames.text(frame, "code");
        String message = Frames.text(frame, "message");
        Long retryAfterMs = Frames.number(frame, "retryAfterMs");
        Request request = outbox.answered(Frames.text(frame, "id"));
        if (request == null) {
            log.warn("server error: {}: {}", code, message);
            return;
        }
        if ("rate_limited".equals(code) && request.kind != Request.Kind.AUTH) {
            outbox.retryLater(request, retryAfterMs == null ? 1000 : retryAfterMs, System.nanoTime());
            sendQueued();
            return;
        }
        if ("outcome_unknown".equals(code) && request.kind == Request.Kind.PUBLISH && request.unknownOutcomes++ < MAX_UNKNOWN_OUTCOMES) {
            // The gateway's broker did not answer in time: the publish may or may not have been made.
            // The same idempotency key again publishes it at most once, whichever happened.
            outbox.retryLater(request, UNKNOWN_OUTCOME_RETRY_MILLIS, System.nanoTime());
            sendQueued();
            return;
        }
        ServerErrorException error = new ServerErrorException(code, message,
                retryAfterMs == null ? null : Duration.ofMillis(retryAfterMs), Frames.text(frame, "idempotencyKey"));
        if (request.kind == Request.Kind.SUBSCRIBE) {
            subscriptions.refused(request, error);
        } else {
            request.fail(error); // a refused re-auth token: the server closes with 4001 next
        }
    }

    void onHistory(JsonNode frame) {
        Request request = outbox.answered(Frames.text(frame, "id"));
        if (request != null && request.kind == Request.Kind.HISTORY) {
            request.complete(encrypted.open(Frames.historyPage(frame)));
        }
    }

    void onPresence(JsonNode frame) {
        Request request = outbox.answered(Frames.text(frame, "id"));
        if (request != null && request.kind == Request.Kind.PRESENCE) {
            request.complete(Frames.presence(frame));
        }
    }

    // ---------------------------------------------------------------- client thread: endings

    /** No more paced sends until {@link #sendQueued} runs again. */
    void stopPump() {
        if (pump != null) {
            pump.cancel(false);
            pump = null;
        }
    }

    /**
     * The connection ended ({@code code}, {@code reason}): requests in flight that cannot be resent
     * safely fail, an unsubscribe is done (the server dropped the subscription with the connection);
     * subscribes are sent again after the next greeting, what is queued waits for it.
     */
    void connectionLost(int code, String reason) {
        for (Request request : outbox.connectionLost()) {
            switch (request.kind) {
                case PUBLISH, HISTORY, PRESENCE -> request.fail(new ConnectionLostException(
                        "connection lost before the server answered (" + code + " " + reason + ")"));
                case UNSUBSCRIBE -> request.complete(null); // the server dropped the subscription with the connection
                case SUBSCRIBE, AUTH -> { }
            }
        }
    }

    /** The client stopped: every pending request fails with {@code closed}, unsubscribes are done. */
    void drain(ClientClosedException closed) {
        for (Request request : outbox.drain()) {
            if (request.kind == Request.Kind.UNSUBSCRIBE) {
                request.complete(null);
            } else {
                request.fail(closed);
            }
        }
    }
}
