package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link PortcullisClient}: a state machine on one thread. Public methods hand tasks to that
 * thread (checking only what must fail at once: the publication bound, a second subscription to a
 * channel); the JDK's WebSocket callbacks arrive through {@link Socket}; timers (reconnect,
 * heartbeat, send pacing) are scheduled on the same executor. Every field below "client thread
 * only", here and in the classes it delegates to, is touched nowhere else, so none needs a lock.
 *
 * <p>Life of a connection: {@link Connector#attempt} fetches a token and opens the socket with the
 * heartbeat, the server's {@code connected} restores the subscriptions and starts sending queued
 * requests, and {@link #lost} ends it all: requests in flight fail or are dropped, the close policy
 * decides between a scheduled attempt and {@link #stop}. A socket or attempt that is no longer
 * current is recognised by identity or number ({@link Connector}), so late callbacks of an old
 * connection are ignored.
 *
 * <p>This class holds what every part reads (whether the connection is greeted, whether the client
 * stopped), the application's side, the dispatch of the socket's events and the endings, which
 * touch every part in a fixed order. The parts: connecting, heartbeat and reconnect delay
 * ({@link Connector}), request and reply with the outbox ({@link Requests}), the subscriptions and
 * their server messages ({@link Subscriptions}). The pieces below those: the wire format
 * ({@link Frames}), the JDK adapter ({@link Socket}), ordering and de-duplication
 * ({@link ChannelCursor}), delivery to the listeners and decryption ({@link Delivery},
 * {@link EncryptedChannels}), queueing ({@link Outbox}, {@link SendRate}) and the reconnect rules
 * ({@link Backoff}, {@link ClosePolicy}).
 */
final class ClientEngine implements PortcullisClient, Socket.Events {
    private static final Logger log = LoggerFactory.getLogger(PortcullisClient.class);
    private static final AtomicInteger THREADS = new AtomicInteger();

    private final URI uri;
    private final ConnectionListener listener;
    private final EncryptedChannels encrypted; // its cipher on the client thread only
    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread clientThread;

    // shared with the application's threads
    private final CompletableFuture<Connected> firstConnected = new CompletableFuture<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final AtomicBoolean closing = new AtomicBoolean();
    private volatile boolean stopped;
    private volatile boolean greeted;
    private volatile Disconnected stopReason;

    // client thread only, but for the channel claims and the publication bound (see each class)
    private final Connector connector;
    private final Subscriptions subscriptions = new Subscriptions();
    private final Requests requests;

    ClientEngine(PortcullisClient.Builder settings) {
        this.uri = settings.uri;
        this.listener = settings.listener;
        this.encrypted = settings.channelKeys == null ? new EncryptedChannels()
                : new EncryptedChannels(settings.encryptedChannels, settings.channelKeys);
        this.executor = new ScheduledThreadPoolExecutor(1, task -> {
            Thread thread = new Thread(task, "portcullis-client-" + THREADS.incrementAndGet());
            thread.setDaemon(true);
            clientThread = thread;
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.setContinueExistingPeriodicTasksAfterShutdownPolicy(false);
        this.connector = new Connector(this, executor, settings);
        this.requests = new Requests(this, connector, subscriptions, executor, settings, encrypted);
    }

    // ---------------------------------------------------------------- the application's side

    @Override
    public CompletableFuture<Connected> connect() {
        if (started.compareAndSet(false, true) && !run(connector::attempt)) {
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
        if (!subscriptions.claim(channel)) {
            throw new IllegalStateException("this client already has a subscription to " + channel);
        }
        SubscriptionHandle handle = new SubscriptionHandle(channel, since, listener, this, encrypted);
        if (!run(() -> requests.subscribe(handle))) {
            subscriptions.release(channel);
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
        CompletableFuture<Long> result = requests.reservePublication();
        if (result.isDone()) {
            return result; // the offline queue is full
        }
        Request request = Request.publish(channel, data, result);
        // sealed (encrypted channels) on the client thread, where the cipher lives, before the offline queue
        if (!run(() -> { if (encrypted.seal(request)) requests.enqueue(request); })) {
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
        if (!run(() -> requests.enqueue(request))) {
            result.completeExceptionally(closedException());
        }
        return result;
    }

    @Override
    public CompletableFuture<Presence> presence(String channel) {
        Objects.requireNonNull(channel, "channel");
        CompletableFuture<Presence> result = new CompletableFuture<>();
        if (!run(() -> requests.enqueue(Request.presence(channel, result)))) {
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
        if (!run(() -> requests.unsubscribe(handle, result))) {
            result.complete(null);
        }
        subscriptions.release(handle.channel());
        return result;
    }

    // ---------------------------------------------------------------- client thread: the socket's events

    @Override
    public void frame(Socket from, String text) {
        if (from != connector.socket()) {
            return;
        }
        connector.heard();
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
            case "message" -> subscriptions.onMessage(frame);
            case "gap" -> subscriptions.onGap(frame);
            case "ack" -> requests.onAck(frame);
            case "error" -> requests.onError(frame);
            case "history" -> requests.onHistory(frame);
            case "presence" -> requests.onPresence(frame);
            case "join", "leave" -> subscriptions.onPresenceChange(frame);
            case "reauth" -> requests.onReauth();
            case "disconnect" -> connector.disconnectHint(Frames.number(frame, "retryAfterMs"));
            case "pong" -> { }
            default -> log.debug("ignoring server message of type {}", frame.path("type").asText());
        }
        if (from == connector.socket()) {
            connector.heard(); // a slow listener is not silence from the server
            from.requestNext();
        }
    }

    @Override
    public void heard(Socket from) {
        if (from == connector.socket()) {
            connector.heard();
            from.requestNext();
        }
    }

    @Override
    public void closed(Socket from, int code, String reason) {
        if (from == connector.socket()) {
            lost(code, reason == null || reason.isEmpty() ? "closed by the server" : reason, 0, null);
        }
    }

    @Override
    public void failed(Socket from, Throwable error) {
        if (from == connector.socket()) {
            from.abort();
            lost(1006, "connection failed: " + Connector.describe(error), 0, null);
        }
    }

    private void onConnected(JsonNode frame) {
        greeted = true;
        connector.greeted();
        requests.greeted();
        Long expiresAt = Frames.number(frame, "expiresAt");
        Connected connected = new Connected(Frames.text(frame, "connection"), Frames.text(frame, "user"),
                expiresAt == null ? null : Instant.ofEpochMilli(expiresAt));
        log.info("connected to {} as {} (connection {})", uri, connected.user(), connected.connectionId());
        Socket current = connector.socket();
        Delivery.call(() -> listener.onConnected(connected));
        firstConnected.complete(connected);
        if (current != connector.socket()) {
            return; // the listener closed the client
        }
        requests.resubscribe();
    }

    // ---------------------------------------------------------------- client thread: endings

    /**
     * The current connection (or attempt) ended. Decides, with {@link ClosePolicy}, between a
     * reconnect after a delay and stopping for good.
     */
    void lost(int code, String reason, int httpStatus, Long retryAfterMillis) {
        boolean wasGreeted = greeted;
        connector.lost(wasGreeted);
        requests.stopPump();
        greeted = false;
        requests.connectionLost(code, reason);
        subscriptions.connectionLost();
        boolean retry = httpStatus != 0 ? ClosePolicy.reconnectAfterRefusal(httpStatus) : ClosePolicy.reconnectAfterClose(code);
        if (!retry) {
            log.warn("stopping for good after {} {}{}", code, reason, httpStatus != 0 ? "" : " (terminal close code)");
            stop(new Disconnected(code, reason, httpStatus, false, null));
            return;
        }
        Duration delay = connector.reconnectDelay(retryAfterMillis);
        if (wasGreeted) {
            log.info("disconnected: {} {}; reconnecting in {} ms", code, reason, delay.toMillis());
        } else {
            log.debug("connection attempt failed: {} {}; next in {} ms", code, reason, delay.toMillis());
        }
        Disconnected disconnected = new Disconnected(code, reason, httpStatus, true, delay);
        Delivery.call(() -> listener.onDisconnected(disconnected));
        if (!stopped) {
            connector.reconnectIn(delay);
        }
    }

    private void closeNow() {
        if (stopped) {
            return;
        }
        Socket current = connector.detach();
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
        connector.end();
        requests.stopPump();
        ClientClosedException closed = new ClientClosedException(reason);
        requests.drain(closed);
        subscriptions.endAll(closed);
        firstConnected.completeExceptionally(closed);
        Delivery.call(() -> listener.onDisconnected(reason));
        executor.shutdown();
    }

    // ---------------------------------------------------------------- for the parts

    /** Whether the server greeted the current connection. */
    boolean greeted() {
        return greeted;
    }

    /** Whether the client stopped for good. */
    boolean stopped() {
        return stopped;
    }

    /** What a request made after the stop fails with: the stop's reason. */
    ClientClosedException closedException() {
        Disconnected reason = stopReason;
        return new ClientClosedException(reason != null ? reason
                : new Disconnected(1000, "closed by the application", 0, false, null));
    }

    /** Runs {@code task} on the client thread; false if the client thread has stopped. */
    boolean run(Runnable task) {
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
}
