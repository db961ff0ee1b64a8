package dev.portcullis.gateway.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A test client on the JDK's own {@code java.net.http.WebSocket}: an implementation independent of
 * Netty. Everything the server sends lands in an event queue; tests wait on it with deadlines,
 * never with sleeps. The JDK answers server pings by itself.
 */
public final class WsClient implements AutoCloseable {
    public static final Duration WAIT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient SHARED = HttpClient.newHttpClient();

    public sealed interface Event {}

    public record Text(String text) implements Event {}

    public record Closed(int code, String reason) implements Event {}

    public record Failed(Throwable error) implements Event {}

    /** How a connection attempt ended: upgraded, or refused with an HTTP status and body. */
    public record Attempt(WsClient client, int status, String body, Map<String, List<String>> headers) {
        public boolean upgraded() {
            return client != null;
        }
    }

    private final BlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private volatile WebSocket socket;

    private WsClient() {}

    public static Attempt attempt(URI uri) {
        return attempt(uri, Map.of(), List.of());
    }

    public static Attempt attempt(URI uri, Map<String, String> headers, List<String> subprotocols) {
        return attempt(SHARED, uri, headers, subprotocols);
    }

    public static Attempt attempt(HttpClient http, URI uri, Map<String, String> headers, List<String> subprotocols) {
        WsClient client = new WsClient();
        WebSocket.Builder builder = http.newWebSocketBuilder().connectTimeout(WAIT);
        headers.forEach(builder::header);
        if (!subprotocols.isEmpty()) {
            builder.subprotocols(subprotocols.get(0), subprotocols.subList(1, subprotocols.size()).toArray(String[]::new));
        }
        try {
            client.socket = builder.buildAsync(uri, client.listener()).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            return new Attempt(client, 101, "", Map.of());
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                var response = refused.getResponse();
                Object body = response.body();
                return new Attempt(null, response.statusCode(), body == null ? "" : body.toString(), response.headers().map());
            }
            throw new AssertionError("connection failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException | TimeoutException e) {
            throw new AssertionError("connection timed out", e);
        }
    }

    /** Connects and expects the upgrade to succeed. */
    public static WsClient connect(URI uri) {
        Attempt attempt = attempt(uri);
        assertThat(attempt.upgraded()).as("upgrade refused: %s %s", attempt.status(), attempt.body()).isTrue();
        return attempt.client();
    }

    public WebSocket socket() {
        return socket;
    }

    public String subprotocol() {
        return socket.getSubprotocol();
    }

    public void send(String text) {
        socket.sendText(text, true).join();
    }

    /** Next event of any kind. */
    public Event next(Duration timeout) {
        Event event = pollEvent(timeout);
        if (event == null) {
            fail("no event from the server within " + timeout);
        }
        return event;
    }

    /** Next event of any kind within {@code wait}, else null. */
    public Event pollEvent(Duration wait) {
        try {
            return events.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Next message, which must be a JSON text of the given {@code type}; earlier other types are skipped. */
    public JsonNode awaitMessage(String type) {
        return json(awaitText(type));
    }

    /** As {@link #awaitMessage}, but the frame's text exactly as received (to compare bytes, not values). */
    public String awaitText(String type) {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Event event = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (event instanceof Text text) {
                if (type.equals(json(text.text()).path("type").asText())) {
                    return text.text();
                }
            } else {
                fail("expected a '" + type + "' message, got " + event);
            }
        }
    }

    /** Next message whose type is one of {@code types} (e.g. a request's {@code ack} or {@code error}); others are skipped. */
    public JsonNode awaitAnyOf(String... types) {
        List<String> wanted = List.of(types);
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (true) {
            Event event = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (event instanceof Text text) {
                JsonNode node = json(text.text());
                if (wanted.contains(node.path("type").asText())) {
                    return node;
                }
            } else {
                fail("expected one of " + wanted + ", got " + event);
            }
        }
    }

    /** Skips messages until the server's close arrives. */
    public Closed awaitClose() {
        return awaitClose(WAIT);
    }

    public Closed awaitClose(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            Event event = next(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (event instanceof Closed closed) {
                return closed;
            }
            if (event instanceof Failed failed) {
                fail("expected a close frame, the connection failed: " + failed.error());
            }
        }
    }

    /** True once a close with 4500 arrived (other events are kept). */
    public boolean closedBy4500() {
        return events.stream().anyMatch(e -> e instanceof Closed c && c.code() == 4500);
    }

    /** The next message of {@code type} within {@code wait} (other messages are skipped), else null. */
    public JsonNode pollMessage(String type, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                Event event = events.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
                if (event == null) {
                    return null;
                }
                if (event instanceof Text text) {
                    JsonNode node = json(text.text());
                    if (type.equals(node.path("type").asText())) {
                        return node;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** Discards text messages until none arrives for {@code quiet}. */
    public void drainMessages(Duration quiet) {
        while (pollMessage("message", quiet) != null) {
            // discard
        }
    }

    /** Skips messages for up to {@code wait}; the close if one arrived, else null. */
    public Closed pollClose(Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        try {
            while (true) {
                long left = deadline - System.nanoTime();
                Event event = events.poll(Math.max(0, left), TimeUnit.NANOSECONDS);
                if (event == null) {
                    return null;
                }
                if (event instanceof Closed closed) {
                    return closed;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return null;
        }
    }

    /** True if no event arrives within {@code quiet} (used only to confirm a connection stays open). */
    public boolean staysQuiet(Duration quiet) {
        try {
            Event event = events.poll(quiet.toMillis(), TimeUnit.MILLISECONDS);
            if (event != null && !(event instanceof Text)) {
                return false;
            }
            return event == null;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    public static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + text, e);
        }
    }

    @Override
    public void close() {
        WebSocket ws = socket;
        if (ws != null && !ws.isOutputClosed()) {
            try {
                ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(2, TimeUnit.SECONDS);
            } catch (ExecutionException | TimeoutException | CompletionException e) {
                ws.abort();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                ws.abort();
            }
        }
    }

    public void abort() {
        socket.abort();
    }

    private WebSocket.Listener listener() {
        return new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    events.add(new Text(partial.toString()));
                    partial.setLength(0);
                }
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onBinary(WebSocket ws, ByteBuffer data, boolean last) {
                ws.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
                events.add(new Closed(statusCode, reason));
                return CompletableFuture.completedFuture(null);
            }

            @Override
            public void onError(WebSocket ws, Throwable error) {
                events.add(new Failed(error));
            }
        };
    }
}
