package dev.portcullis.client;

import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

/**
 * One JDK WebSocket, adapted to the client thread. The JDK calls the {@link WebSocket.Listener}
 * methods on its own threads; they only assemble text frames and hand every event to the client
 * thread, never blocking. Demand is bounded ({@link #READ_AHEAD}): the client thread asks for one
 * more frame ({@link #requestNext}) each time it handled one, which is what carries back-pressure
 * from a slow application to the server. Sends are chained, since the JDK allows one outstanding send.
 */
final class Socket implements WebSocket.Listener {
    /**
     * Frames the JDK may read ahead of the client thread. Each handled frame asks for one more, so at
     * most this many wait on the client thread: bounded memory, and a slow application still slows
     * the reading down, without a thread hand-off stall between every two frames.
     */
    static final int READ_AHEAD = 16;
    /** Largest server message assembled from fragments; a larger one is treated as a broken connection. */
    static final int MAX_MESSAGE_CHARS = 16 * 1024 * 1024;

    /** What the client thread hears from this socket. */
    interface Events {
        void frame(Socket socket, String text);

        void heard(Socket socket);

        void closed(Socket socket, int code, String reason);

        void failed(Socket socket, Throwable error);
    }

    private final Executor clientThread;
    private final Events events;
    private final StringBuilder partial = new StringBuilder();
    private volatile WebSocket webSocket;
    private CompletableFuture<?> sends = CompletableFuture.completedFuture(null);

    Socket(Executor clientThread, Events events) {
        this.clientThread = clientThread;
        this.events = events;
    }

    @Override
    public void onOpen(WebSocket webSocket) {
        this.webSocket = webSocket;
        webSocket.request(READ_AHEAD);
    }

    @Override
    public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
        partial.append(data);
        if (partial.length() > MAX_MESSAGE_CHARS) {
            partial.setLength(0);
            webSocket.abort();
            hand(() -> events.failed(this, new IllegalStateException("server message over " + MAX_MESSAGE_CHARS + " characters")));
            return null;
        }
        if (!last) {
            webSocket.request(1);
            return null;
        }
        String text = partial.toString();
        partial.setLength(0);
        hand(() -> events.frame(this, text));
        return null;
    }

    @Override
    public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
        hand(() -> events.heard(this)); // the protocol has no binary frames; ignored
        return null;
    }

    @Override
    public CompletionStage<?> onPing(WebSocket webSocket, ByteBuffer message) {
        hand(() -> events.heard(this)); // the JDK answers with a pong by itself
        return null;
    }

    @Override
    public CompletionStage<?> onPong(WebSocket webSocket, ByteBuffer message) {
        hand(() -> events.heard(this));
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
        hand(() -> events.closed(this, statusCode, reason));
        return null; // the JDK answers the close frame at once
    }

    @Override
    public void onError(WebSocket webSocket, Throwable error) {
        hand(() -> events.failed(this, error));
    }

    /** Set once the handshake completed (the JDK calls {@link #onOpen} first; this covers both orders). */
    void opened(WebSocket webSocket) {
        this.webSocket = webSocket;
    }

    /** Client thread: ready for the next frame. */
    void requestNext() {
        WebSocket ws = webSocket;
        if (ws != null) {
            ws.request(1);
        }
    }

    /** Client thread: sends a text frame after those already sent. */
    void send(String text) {
        chain(ws -> ws.sendText(text, true));
    }

    /** Client thread: a WebSocket ping, to provoke a sign of life. */
    void ping() {
        chain(ws -> ws.sendPing(ByteBuffer.allocate(0)));
    }

    /** Client thread: a normal close; the connection is dropped if the server does not answer soon. */
    void close(int code, String reason) {
        WebSocket ws = webSocket;
        if (ws == null) {
            return;
        }
        sends = sends.handle((ok, failure) -> null).thenCompose(ignored -> ws.sendClose(code, reason));
        CompletableFuture.delayedExecutor(2, TimeUnit.SECONDS).execute(ws::abort);
    }

    /** Drops the connection at once (no close frame). */
    void abort() {
        WebSocket ws = webSocket;
        if (ws != null) {
            ws.abort();
        }
    }

    private void chain(java.util.function.Function<WebSocket, CompletableFuture<WebSocket>> send) {
        WebSocket ws = webSocket;
        if (ws == null) {
            return;
        }
        CompletableFuture<?> next = sends.thenCompose(ignored -> send.apply(ws));
        next.whenComplete((ok, failure) -> {
            if (failure != null) {
                hand(() -> events.failed(this, failure));
            }
        });
        sends = next;
    }

    private void hand(Runnable event) {
        try {
            clientThread.execute(event);
        } catch (RejectedExecutionException stopped) {
            WebSocket ws = webSocket;
            if (ws != null) {
                ws.abort(); // the client stopped; nobody listens any more
            }
        }
    }
}
