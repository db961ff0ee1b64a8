package dev.portcullis.client;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.time.Duration;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Connecting: one attempt (a token from the supplier, the WebSocket handshake with it, the
 * refusal's status and {@code Retry-After} when there is one), the heartbeat of the connection it
 * opens, and the delay before the next attempt (the {@link Backoff} with its jitter, the server's
 * {@code disconnect} hint or {@code Retry-After}). It owns the current {@link Socket} and the
 * attempt number, by which the late callbacks of an abandoned attempt or an old connection are
 * recognised and ignored. It exists apart from {@link ClientEngine} because this state is touched
 * only here: the engine asks which socket is current, and reports the end of a connection
 * ({@link #lost}) or of the client ({@link #end}); every ending is decided by the engine, which this
 * class calls ({@link ClientEngine#lost}) when an attempt fails or the server falls silent.
 *
 * <p>Threading: client thread only. The supplier's and the handshake's completions arrive on other
 * threads and are handed to the client thread ({@link ClientEngine#run}) before they touch
 * anything; the heartbeat and reconnect timers run on the client thread's executor.
 */
final class Connector {
    private static final Logger log = LoggerFactory.getLogger(PortcullisClient.class);

    private final ClientEngine engine;
    private final ScheduledExecutorService executor;
    private final URI uri;
    private final Supplier<? extends CompletionStage<String>> tokens;
    private final Duration heartbeatTimeout;
    private final Duration connectTimeout;
    private final long backoffResetAfterNanos;
    private final HttpClient http;
    private final Backoff backoff;

    private Socket socket;
    private int attempt;
    private long greetedAtNanos;
    private long lastHeardNanos;
    private boolean pingSent;
    private Long disconnectHintMillis;
    private ScheduledFuture<?> heartbeat;
    private ScheduledFuture<?> reconnect;

    Connector(ClientEngine engine, ScheduledExecutorService executor, PortcullisClient.Builder settings) {
        this.engine = engine;
        this.executor = executor;
        this.uri = settings.uri;
        this.tokens = settings.tokens;
        this.heartbeatTimeout = settings.heartbeatTimeout;
        this.connectTimeout = settings.connectTimeout;
        this.backoffResetAfterNanos = settings.backoffResetAfter.toNanos();
        this.http = settings.httpClient != null ? settings.httpClient : SharedHttp.CLIENT;
        this.backoff = new Backoff(settings.backoffMin, settings.backoffMax, new java.util.SplittableRandom());
    }

    /** The socket of the current attempt or connection; null between them and after the end. */
    Socket socket() {
        return socket;
    }

    // ---------------------------------------------------------------- an attempt

    void attempt() {
        if (engine.stopped()) {
            return;
        }
        reconnect = null;
        int current = ++attempt;
        disconnectHintMillis = null;
        CompletionStage<String> token;
        try {
            token = tokens.get();
        } catch (RuntimeException e) {
            engine.lost(1006, "token supplier failed: " + describe(e), 0, null);
            return;
        }
        token.whenComplete((value, failure) -> engine.run(() -> onToken(current, value, failure)));
    }

    private void onToken(int current, String token, Throwable failure) {
        if (engine.stopped() || current != attempt) {
            return;
        }
        if (failure != null || token == null || token.isBlank()) {
            engine.lost(1006, "token supplier failed: " + (failure == null ? "no token" : describe(failure)), 0, null);
            return;
        }
        Socket next = new Socket(executor, engine);
        socket = next;
        log.debug("connecting to {}", uri);
        http.newWebSocketBuilder()
                .connectTimeout(connectTimeout)
                .header("Authorization", "Bearer " + token)
                .subprotocols("portcullis.v1")
                .buildAsync(uri, next)
                .whenComplete((webSocket, error) -> engine.run(() -> onHandshake(next, webSocket, error)));
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
                engine.lost(1006, "handshake refused: HTTP " + response.statusCode() + bodyOf(response), response.statusCode(),
                        retryAfterMillis(response.headers()));
            } else {
                engine.lost(1006, "connect failed: " + describe(cause), 0, null);
            }
            return;
        }
        candidate.opened(webSocket);
        lastHeardNanos = System.nanoTime();
        pingSent = false;
        long period = Math.max(10, heartbeatTimeout.toMillis() / 4);
        heartbeat = executor.scheduleAtFixedRate(this::checkHeartbeat, period, period, TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- the connection

    private void checkHeartbeat() {
        Socket current = socket;
        if (current == null) {
            return;
        }
        long silent = System.nanoTime() - lastHeardNanos;
        if (silent >= heartbeatTimeout.toNanos()) {
            current.abort();
            engine.lost(1006, "heartbeat timeout: nothing from the server for " + heartbeatTimeout, 0, null);
        } else if (silent >= heartbeatTimeout.toNanos() / 2 && !pingSent) {
            pingSent = true;
            current.ping();
        }
    }

    /** Something arrived from the server (or was handled): not silence. */
    void heard() {
        lastHeardNanos = System.nanoTime();
        pingSent = false;
    }

    /** The server greeted the connection: how long it lasts decides whether the backoff starts afresh. */
    void greeted() {
        greetedAtNanos = System.nanoTime();
    }

    /** The server's {@code disconnect} announced its close and when to come back (null: not said). */
    void disconnectHint(Long retryAfterMillis) {
        disconnectHintMillis = retryAfterMillis;
    }

    // ---------------------------------------------------------------- endings

    /** Forgets the current socket and returns it, for the engine to close. */
    Socket detach() {
        Socket current = socket;
        socket = null;
        return current;
    }

    /** No attempt or connection is current any more: their late callbacks are ignored, the timers stop. */
    void end() {
        socket = null;
        attempt++;
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        if (reconnect != null) {
            reconnect.cancel(false);
        }
        heartbeat = reconnect = null;
    }

    /**
     * The current attempt or connection was lost; {@code wasGreeted}: it had been greeted. After a
     * connection that lasted {@code backoffResetAfter} the backoff starts again from its minimum.
     */
    void lost(boolean wasGreeted) {
        end();
        if (wasGreeted && System.nanoTime() - greetedAtNanos >= backoffResetAfterNanos) {
            backoff.reset();
        }
    }

    /**
     * How long to wait before the next attempt: the server's {@code disconnect} hint (used once) plus
     * jitter, else the backoff's next delay, lengthened to a refusal's {@code Retry-After} plus jitter.
     */
    Duration reconnectDelay(Long retryAfterMillis) {
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
        return delay;
    }

    void reconnectIn(Duration delay) {
        reconnect = executor.schedule(this::attempt, delay.toMillis(), TimeUnit.MILLISECONDS);
    }

    // ---------------------------------------------------------------- helpers

    private static Throwable unwrap(Throwable failure) {
        Throwable cause = failure;
        while ((cause instanceof CompletionException || cause instanceof ExecutionException) && cause.getCause() != null) {
            cause = cause.getCause();
        }
        return cause;
    }

    /** A failure's root cause, as its class and message, for log lines and close reasons. */
    static String describe(Throwable failure) {
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
