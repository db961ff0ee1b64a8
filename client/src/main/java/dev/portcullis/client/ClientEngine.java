package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PortcullisClient}: a state machine on one thread. Public methods hand tasks to that
 * thread (checking only what must fail at once: the publication bound, a second subscription to a
 * channel); the JDK's WebSocket callbacks arrive through {@link Socket}; timers (reconnect,
 * heartbeat, send pacing) are scheduled on the same executor. Every field below "client thread
 * only" is touched nowhere else, so none needs a lock.
 *
 * <p>Life of a connection: {@link #attempt} fetches a token, {@link #onHandshake} starts the
 * heartbeat, the server's {@code connected} restores the subscriptions and starts sending queued
 * requests, and {@link #lost} ends it all: requests in flight fail or are dropped, the close policy
 * decides between a scheduled {@link #attempt} and {@link #stop}. A socket or attempt that is no
 * longer current is recognised by identity ({@code socket}) or number ({@code attempt}), so late
 * callbacks of an old connection are ignored.
 *
 * <p>Why one class of this size: connecting, the server's messages, the outbox and the endings all
 * read and write the same few fields (the current socket, whether it was greeted, the subscriptions
 * and the outbox), and their correctness rests on running on one thread. The pieces that stand alone
 * are elsewhere: the wire format ({@link Frames}), the JDK adapter ({@link Socket}), ordering and
 * de-duplication ({@link ChannelCursor}), delivery to the listeners and decryption ({@link Delivery},
 * {@link EncryptedChannels}), queueing ({@link Outbox}, {@link SendRate}) and the
 * reconnect rules ({@link Backoff}, {@link ClosePolicy}).
 */
final class ClientEngine implements PortcullisClient, Socket.Events {
    private static final Logger log = LoggerFactory.getLogger(PortcullisClient.class);
    private static final AtomicInteger THREADS = new AtomicInteger();
    /** Retries of a publish answered {@code outcome_unknown} before its future fails with that error. */
    static final int MAX_UNKNOWN_OUTCOMES = 3;
    static final long UNKNOWN_OUTCOME_RETRY_MILLIS = 500;

    private final URI uri;
    private final Supplier<? extends CompletionStage<String>> tokens;
    private final Duration heartbeatTimeout;
    private final Duration connectTimeout;
    private final long backoffResetAfterNanos;
    private final int capacity;
    private final ConnectionListener listener;
    private final HttpClient http;
    private final EncryptedChannels encrypted; // its cipher on the client thread only
    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread clientThread;

    // shared with the application's threads
    private final AtomicInteger pendingPublishes = new AtomicInteger();
    private final Set<String> claimedChannels = ConcurrentHashMap.newKeySet();
    private final CompletableFuture<Connected> firstConnected = new CompletableFuture<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean stopped;
    private volatile boolean greeted;
    private volatile Disconnected stopReason;

    // client thread only
    private final Backoff backoff;
    private final SendRate sendRate;
    private final Outbox outbox = new Outbox();
    private final Map<String, SubscriptionHandle> subscriptions = new LinkedHashMap<>();
    private Socket socket;
    private int attempt;
    private long greetedAtNanos;
    private long lastHeardNanos;
    private boolean pingSent;
    private Long disconnectHintMillis;
    private ScheduledFuture<?> heartbeat;
    private ScheduledFuture<?> reconnect;
    private ScheduledFuture<?> pump;

    ClientEngine(PortcullisClient.Builder settings) {
        this.uri = settings.uri;
        this.tokens = settings.tokens;
        this.heartbeatTimeout = settings.heartbeatTimeout;
        this.connectTimeout = settings.connectTimeout;
        this.backoffResetAfterNanos = settings.backoffResetAfter.toNanos();
        this.capacity = settings.offlineQueue;
        this.listener = settings.listener;
        this.http = settings.httpClient != null ? settings.httpClient : SharedHttp.CLIENT;
        this.encrypted = settings.channelKeys == null ? new EncryptedChannels()
                : new EncryptedChannels(settings.encryptedChannels, settings.channelKeys);
        this.backoff = new Backoff(settings.backoffMin, settings.backoffMax, new java.util.SplittableRandom());
        this.sendRate = new SendRate(settings.sendPerMinute, settings.sendBurst);
        this.executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "portcullis-client-" + THREADS.incrementAndGet());
            thread.setDaemon(true);
            clientThread = thread;
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
    }

    // ---------------------------------------------------------------- the application's side

    @Override
    public CompletableFuture<Connected> connect() {
        if (started.compareAndSet(false, true) && !run(this::attempt)) {
            firstConnected.completeExceptionally(closedException());
        }
        return firstConnected;
    }

    @Override
    public Subscription subscribe(String channel, SubscriptionListener listener) {
        return subscribe(channel, null, listener);
    }

    @Override
    public Subscription subscribe(String channel, Position since, SubscriptionListener listener) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(listener, "listener");
        if (!claimedChannels.add(channel)) {
            throw new IllegalStateException("this client already has a subscription to " + channel);
        }
        SubscriptionHandle handle = new SubscriptionHandle(channel, since, listener, this, encrypted);
        if (!run(() -> register(handle))) {
            claimedChannels.remove(channel);
            handle.deactivate();
            handle.subscribedFuture().completeExceptionally(closedException());
        }
        return handle;
    }

    @Override
    public CompletableFuture<Long> publish(String channel, String json) {
        return publish(channel, Frames.data(Objects.requireNonNull(json, "json")));
    }

    @Override
    public CompletableFuture<Long> publish(String channel, JsonNode data) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(data, "data");
        if (stopped) {
            return CompletableFuture.failedFuture(closedException());
        }
        if (!reservePublication()) {
            return CompletableFuture.failedFuture(new OfflineQueueFullException(capacity));
        }
        CompletableFuture<Long> result = new CompletableFuture<>();
        result.whenComplete((offset, failure) -> pendingPublishes.decrementAndGet());
        Request request = Request.publish(channel, data, result);
        // sealed (encrypted channels) on the client thread, where the cipher lives, before the offline queue
        if (!run(() -> { if (encrypted.seal(request)) enqueue(request); })) {
            result.completeExceptionally(closedException());
        }
        return result;
    }

    @Override
    public CompletableFuture<HistoryPage> history(String channel, Position since, int limit) {
        Objects.requireNonNull(channel, "channel");
        if (limit < 0 || limit > 1000) {
            throw new IllegalArgumentException("limit must be between 0 (the server's default) and 1000");
        }
        if (since != null && since.epoch() == null) {
            throw new IllegalArgumentException("since needs an epoch");
        }
        CompletableFuture<HistoryPage> result = new CompletableFuture<>();
        Request request = Request.history(channel, since, limit, result);
        if (!run(() -> enqueue(request))) {
            result.completeExceptionally(closedException());
        }
        return result;
    }

    @Override
    public CompletableFuture<Presence> presence(String channel) {
        Objects.requireNonNull(channel, "channel");
        CompletableFuture<Presence> result = new CompletableFuture<>();
        if (!run(() -> enqueue(Request.presence(channel, result)))) {
            result.completeExceptionally(closedException());
        }
        return result;
    }

    @Override
    public boolean isConnected() {
        return greeted && !stopped;
    }

    @Override
    public void close() {
        if (!closing.compareAndSet(false, true)) {
            return;
        }
        if (Thread.currentThread() == clientThread) {
            closeNow();
            return;
        }
        CompletableFuture<Void> done = new CompletableFuture<>();
        if (run(() -> {
            closeNow();
            done.complete(null);
        })) {
            try {
                done.get(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException e) {
                log.warn("client thread did not stop in time", e);
            }
        }
    }

    /** An {@link Subscription#unsubscribe()}. */
    CompletableFuture<Void> unsubscribe(SubscriptionHandle handle) {
        CompletableFuture<Void> result = new CompletableFuture<>();
        if (!handle.deactivate()) {
            result.complete(null);
            return result;
        }
        handle.subscribedFuture().completeExceptionally(new CancellationException("unsubscribed"));
        // the task goes first, the claim is released after: a new subscription to the channel queues behind this unsubscribe
        if (!run(() -> leave(handle, result))) {
            result.complete(null);
        }
        claimedChannels.remove(handle.channel());
        return result;
    }

    private boolean reservePublication() {
        for (int pending = pendingPublishes.get(); pending < capacity; pending = pendingPublishes.get()) {
            if (pendingPublishes.compareAndSet(pending, pending + 1)) {
                return true;
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- client thread: requests

    private void register(SubscriptionHandle handle) {
        if (stopped) {
            handle.deactivate();
            handle.subscribedFuture().completeExceptionally(closedException());
            return;
        }
        if (!handle.active()) {
            return; // unsubscribed before it was registered
        }
        subscriptions.put(handle.channel(), handle);
        if (greeted) {
            enqueue(Request.subscribe(handle));
        }
    }

    private void leave(SubscriptionHandle handle, CompletableFuture<Void> result) {
        if (subscriptions.remove(handle.channel(), handle)) {
            outbox.dropSubscribe(handle);
            if (greeted && !stopped) {
                enqueue(Request.unsubscribe(handle.channel(), result));
                return;
            }
        }
        result.complete(null); // without a connection the server holds no subscription
    }

    private void enqueue(Request request) {
        if (stopped) {
            request.fail(closedException());
            return;
        }
        outbox.enqueue(request);
        sendQueued();
    }

    /** Sends what is queued, as fast as the send rate and a rate-limit pause allow. */
    private void sendQueued() {
        if (!greeted || socket == null) {
            return;
        }
        if (pump != null) {
            pump.cancel(false);
            pump = null;
        }
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

    // ---------------------------------------------------------------- client thread: connecting

    private void attempt() {
        if (stopped) {
            return;
        }
        reconnect = null;
        int current = ++attempt;
        disconnectHintMillis = null;
        CompletionStage<String> token;
        try {
            token = tokens.get();
        } catch (RuntimeException e) {
            lost(1006, "token supplier failed: " + describe(e), 0, null);
            return;
        }
        token.whenComplete((value, failure) -> run(() -> onToken(current, value, failure)));
    }

    private void onToken(int current, String token, Throwable failure) {
        if (stopped || current != attempt) {
            return;
        }
        if (failure != null || token == null || token.isBlank()) {
            lost(1006, "token supplier failed: " + (failure == null ? "no token" : describe(failure)), 0, null);
            return;
        }
        Socket next = new Socket(executor, this);
        socket = next;
        log.debug("connecting to {}", uri);
        http.newWebSocketBuilder()
                .connectTimeout(connectTimeout)
                .header("Authorization", "Bearer " + token)
                .subprotocols("portcullis.v1")
                .buildAsync(uri, next)
                .whenComplete((webSocket, error) -> run(() -> onHandshake(next, webSocket, error)));
    }

    private void onHandshake(Socket candidate, WebSocket webSocket, Throwable failure) {
        if (candidate != socket) {
            if (webSocket != null) {
                webSocket.abort(); // the client moved on (closed, or this attempt was abandoned)
            }
            return;
        }
        if (failure != null) {
            Throwable cause = unwrap(failure);
            if (cause instanceof WebSocketHandshakeException refused && refused.getResponse() != null) {
                HttpResponse<?> response = refused.getResponse();
                lost(1006, "handshake refused: HTTP " + response.statusCode() + bodyOf(response), response.statusCode(),
                        retryAfterMillis(response.headers()));
            } else {
                lost(1006, "connect failed: " + describe(cause), 0, null);
            }
            return;
        }
        candidate.opened(webSocket);
        lastHeardNanos = System.nanoTime();
        pingSent = false;
        long period = Math.max(10, heartbeatTimeout.toMillis() / 4);
        heartbeat = executor.scheduleAtFixedRate(this::checkHeartbeat, period, period, TimeUnit.MILLISECONDS);
    }

    private void checkHeartbeat() {
        Socket current = socket;
        if (current == null) {
            return;
        }
        long silent = System.nanoTime() - lastHeardNanos;
        if (silent >= heartbeatTimeout.toNanos()) {
            current.abort();
            lost(1006, "heartbeat timeout: nothing from the server for " + heartbeatTimeout, 0, null);
        } else if (silent >= heartbeatTimeout.toNanos() / 2 && !pingSent) {
            pingSent = true;
            current.ping();
        }
    }

    // ---------------------------------------------------------------- client thread: the socket's events

    @Override
    public void frame(Socket from, String text) {
        if (from != socket) {
            return;
        }
        heard();
        JsonNode frame;
        try {
            frame = Frames.parse(text);
        } catch (IllegalArgumentException e) {
            log.warn("ignoring a server message that is not a JSON object: {}", e.getMessage());
            from.requestNext();
            return;
        }
        switch (frame.path("type").asText()) {
            case "connected" -> onConnected(frame);
            case "message" -> onMessage(frame);
            case "gap" -> onGap(frame);
            case "ack" -> onAck(frame);
            case "error" -> onError(frame);
            case "history" -> onHistory(frame);
            case "presence" -> onPresence(frame);
            case "join", "leave" -> onPresenceChange(frame);
            case "reauth" -> onReauth();
            case "disconnect" -> disconnectHintMillis = Frames.number(frame, "retryAfterMs");
            case "pong" -> { }
            default -> log.debug("ignoring server message of type {}", frame.path("type").asText());
        }
        if (from == socket) {
            heard(); // a slow listener is not silence from the server
            from.requestNext();
        }
    }

    @Override
    public void heard(Socket from) {
        if (from == socket) {
            heard();
            from.requestNext();
        }
    }

    @Override
    public void closed(Socket from, int code, String reason) {
        if (from == socket) {
            lost(code, reason == null || reason.isEmpty() ? "closed by the server" : reason, 0, null);
        }
    }

    @Override
    public void failed(Socket from, Throwable error) {
        if (from == socket) {
            from.abort();
            lost(1006, "connection failed: " + describe(error), 0, null);
        }
    }

    private void heard() {
        lastHeardNanos = System.nanoTime();
        pingSent = false;
    }

    // ---------------------------------------------------------------- client thread: server messages

    private void onConnected(JsonNode frame) {
        greeted = true;
        greetedAtNanos = System.nanoTime();
        sendRate.reset();
        Long expiresAt = Frames.number(frame, "expiresAt");
        Connected connected = new Connected(Frames.text(frame, "connection"), Frames.text(frame, "user"),
                expiresAt == null ? null : Instant.ofEpochMilli(expiresAt));
        log.info("connected to {} as {} (connection {})", uri, connected.user(), connected.connectionId());
        Socket current = socket;
        Delivery.call(() -> listener.onConnected(connected));
        firstConnected.complete(connected);
        if (current != socket) {
            return; // the listener closed the client
        }
        for (SubscriptionHandle handle : subscriptions.values()) {
            outbox.enqueue(Request.subscribe(handle));
        }
        sendQueued();
    }

    private void onMessage(JsonNode frame) {
        Message message = Frames.message(frame);
        SubscriptionHandle handle = subscriptions.get(message.channel());
        if (handle == null) {
            log.trace("message for {} without a subscription (auto-subscribed channel)", message.channel());
            return;
        }
        handle.cursor().onMessage(message, handle.delivery());
    }

    private void onGap(JsonNode frame) {
        SubscriptionHandle handle = subscriptions.get(Frames.text(frame, "channel"));
        Long offset = Frames.number(frame, "offset");
        if (handle != null && offset != null) {
            handle.cursor().onGap(offset, Frames.text(frame, "epoch"), handle.delivery());
        }
    }

    private void onAck(JsonNode frame) {
        Request request = outbox.answered(Frames.text(frame, "id"));
        if (request == null) {
            return;
        }
        switch (request.kind) {
            case PUBLISH -> {
                Long offset = Frames.number(frame, "offset");
                request.complete(offset == null ? -1L : offset);
            }
            case SUBSCRIBE -> {
                SubscriptionHandle handle = request.subscription;
                if (subscriptions.get(handle.channel()) == handle) {
                    handle.cursor().onAck(Frames.number(frame, "offset"), Frames.text(frame, "epoch"),
                            Frames.bool(frame, "recovered"), request.sinceSent, handle.delivery());
                }
            }
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

    private void onError(JsonNode frame) {
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
            SubscriptionHandle handle = request.subscription;
            if (subscriptions.remove(handle.channel(), handle)) {
                claimedChannels.remove(handle.channel());
                handle.subscribedFuture().completeExceptionally(error);
                if (handle.deactivate()) {
                    Delivery.call(() -> handle.listener().onError(error));
                }
            }
        } else {
            request.fail(error); // a refused re-auth token: the server closes with 4001 next
        }
    }

    private void onHistory(JsonNode frame) {
        Request request = outbox.answered(Frames.text(frame, "id"));
        if (request != null && request.kind == Request.Kind.HISTORY) {
            request.complete(encrypted.open(Frames.historyPage(frame)));
        }
    }

    private void onPresence(JsonNode frame) {
        Request request = outbox.answered(Frames.text(frame, "id"));
        if (request != null && request.kind == Request.Kind.PRESENCE) {
            request.complete(Frames.presence(frame));
        }
    }

    /** A join or leave in a subscribed channel, to its listener; in other channels (automatic ones) ignored. */
    private void onPresenceChange(JsonNode frame) {
        SubscriptionHandle handle = subscriptions.get(Frames.text(frame, "channel"));
        if (handle != null) {
            PresenceChange change = Frames.presenceChange(frame);
            boolean join = "join".equals(frame.path("type").asText());
            Delivery.call(() -> {
                if (join) {
                    handle.listener().onJoin(change);
                } else {
                    handle.listener().onLeave(change);
                }
            });
        }
    }

    private void onReauth() {
        Socket current = socket;
        CompletionStage<String> token;
        try {
            token = tokens.get();
        } catch (RuntimeException e) {
            log.warn("token supplier failed for re-auth ({}); the server will close with 4001", describe(e));
            return;
        }
        token.whenComplete((value, failure) -> run(() -> {
            if (current != socket || stopped) {
                return;
            }
            if (failure != null || value == null || value.isBlank()) {
                log.warn("token supplier failed for re-auth ({}); the server will close with 4001",
                        failure == null ? "no token" : describe(failure));
                return;
            }
            Request auth = Request.auth();
            current.send(auth.frame(outbox.sent(auth), value)); // exempt from the rate limit: not paced
        }));
    }

    // ---------------------------------------------------------------- client thread: endings

    /**
     * The current connection (or attempt) ended. Decides, with {@link ClosePolicy}, between a
     * reconnect after a delay and stopping for good.
     */
    private void lost(int code, String reason, int httpStatus, Long retryAfterMillis) {
        socket = null;
        attempt++;
        cancelTimers();
        boolean wasGreeted = greeted;
        greeted = false;
        if (wasGreeted && System.nanoTime() - greetedAtNanos >= backoffResetAfterNanos) {
            backoff.reset();
        }
        for (Request request : outbox.connectionLost()) {
            switch (request.kind) {
                case PUBLISH, HISTORY, PRESENCE -> request.fail(new ConnectionLostException(
                        "connection lost before the server answered (" + code + " " + reason + ")"));
                case UNSUBSCRIBE -> request.complete(null); // the server dropped the subscription with the connection
                case SUBSCRIBE, AUTH -> { }
            }
        }
        for (SubscriptionHandle handle : subscriptions.values()) {
            handle.cursor().connectionLost();
        }
        boolean retry = httpStatus != 0 ? ClosePolicy.reconnectAfterRefusal(httpStatus) : ClosePolicy.reconnectAfterClose(code);
        if (!retry) {
            log.warn("stopping for good after {} {}{}", code, reason, httpStatus != 0 ? "" : " (terminal close code)");
            stop(new Disconnected(code, reason, httpStatus, false, null));
            return;
        }
        Duration delay;
        Long hint = disconnectHintMillis;
        disconnectHintMillis = null;
        if (hint != null && hint >= 0) {
            delay = Duration.ofMillis(hint).plus(backoff.jitter());
        } else {
            delay = backoff.next();
            if (retryAfterMillis != null) {
                Duration asked = Duration.ofMillis(retryAfterMillis).plus(backoff.jitter());
                delay = asked.compareTo(delay) > 0 ? asked : delay;
            }
        }
        if (wasGreeted) {
            log.info("disconnected: {} {}; reconnecting in {} ms", code, reason, delay.toMillis());
        } else {
            log.debug("connection attempt failed: {} {}; next in {} ms", code, reason, delay.toMillis());
        }
        Disconnected disconnected = new Disconnected(code, reason, httpStatus, true, delay);
        Delivery.call(() -> listener.onDisconnected(disconnected));
        if (!stopped) {
            reconnect = executor.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    private void closeNow() {
        if (stopped) {
            return;
        }
        Socket current = socket;
        socket = null;
        if (current != null) {
            current.close(1000, "client closed");
        }
        stop(new Disconnected(1000, "closed by the application", 0, false, null));
    }

    /** Stops for good: fails what is pending, tells the listener a last time, ends the client thread. */
    private void stop(Disconnected reason) {
        if (stopped) {
            return;
        }
        stopReason = reason;
        stopped = true;
        greeted = false;
        attempt++;
        socket = null;
        cancelTimers();
        ClientClosedException closed = new ClientClosedException(reason);
        for (Request request : outbox.drain()) {
            if (request.kind == Request.Kind.UNSUBSCRIBE) {
                request.complete(null);
            } else {
                request.fail(closed);
            }
        }
        List<SubscriptionHandle> ended = List.copyOf(subscriptions.values());
        subscriptions.clear();
        claimedChannels.clear();
        for (SubscriptionHandle handle : ended) {
            handle.deactivate();
            handle.subscribedFuture().completeExceptionally(closed);
        }
        firstConnected.completeExceptionally(closed);
        Delivery.call(() -> listener.onDisconnected(reason));
        executor.shutdown();
    }

    private void cancelTimers() {
        for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {heartbeat, reconnect, pump}) {
            if (timer != null) {
                timer.cancel(false);
            }
        }
        heartbeat = reconnect = pump = null;
    }

    // ---------------------------------------------------------------- helpers

    private ClientClosedException closedException() {
        Disconnected reason = stopReason;
        return new ClientClosedException(reason != null ? reason
                : new Disconnected(1000, "closed by the application", 0, false, null));
    }

    /** Runs {@code task} on the client thread; false if the client thread has stopped. */
    private boolean run(Runnable task) {
        try {
            executor.execute(() -> {
                try {
                    task.run();
                } catch (RuntimeException | Error e) {
                    log.error("client task failed", e);
                }
            });
            return true;
        } catch (RejectedExecutionException stoppedAlready) {
            return false;
        }
    }

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    private static String describe(Throwable failure) {
        Throwable cause = unwrap(failure);
        String message = cause.getMessage();
        return cause.getClass().getSimpleName() + (message == null ? "" : ": " + message);
    }

    /** {@code Retry-After} in seconds (the gateway's form), as milliseconds; null if absent or a date. */
    static Long retryAfterMillis(HttpHeaders headers) {
        return headers.firstValue("Retry-After").map(value -> {
            try {
                long seconds = Long.parseLong(value.trim());
                return seconds < 0 ? null : Math.min(seconds, 3600) * 1000;
            } catch (NumberFormatException dateForm) {
                return null;
            }
        }).orElse(null);
    }

    private static String bodyOf(HttpResponse<?> response) {
        Object body = response.body();
        String text = body instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                : body instanceof String string ? string : "";
        text = text.strip();
        return text.isEmpty() ? "" : " " + (text.length() > 200 ? text.substring(0, 200) : text);
    }

    /** One HTTP client for every client that was not given its own (its threads are daemons). */
    private static final class SharedHttp {
        static final HttpClient CLIENT = HttpClient.newHttpClient();
    }
}
