package dev.portcullis.gateway.testing;

import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;

/**
 * The application's backend as hooks see it: a real HTTP server (the JDK's
 * {@code com.sun.net.httpserver}) on an ephemeral loopback port. Every request is recorded with its
 * signature headers and body; what it answers is set by the test and can change mid-test.
 * {@link Answer#HANG} holds the request open until {@link #close} (a backend that does not answer).
 */
public final class HookBackend implements AutoCloseable {
    /** One request as received. */
    public record Call(String path, String timestamp, String signature, byte[] body) {
        public JsonNode json() {
            return WsClient.json(new String(body, StandardCharsets.UTF_8));
        }
    }

    /** A status and a JSON body; {@link #HANG} never answers. */
    public record Answer(int status, String body) {
        public static final Answer HANG = new Answer(-1, "");

        public static Answer json(String body) {
            return new Answer(200, body);
        }

        public static final Answer ACCEPT = json("{\"result\":\"accept\"}");
    }

    private final HttpServer server;
    private final ExecutorService threads = Executors.newFixedThreadPool(16);
    private final BlockingQueue<Call> calls = new LinkedBlockingQueue<>();
    private final AtomicInteger count = new AtomicInteger();
    private final CountDownLatch closing = new CountDownLatch(1);
    private volatile Function<Call, Answer> answers = call -> Answer.ACCEPT;

    private HookBackend() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(threads);
        server.createContext("/", this::handle);
        server.start();
    }

    public static HookBackend start() {
        try {
            return new HookBackend();
        } catch (IOException e) {
            throw new AssertionError("cannot start the hook backend", e);
        }
    }

    /** A URL on which nothing listens (a port that was free a moment ago): connections are refused. */
    public static String refusingUrl() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return "http://127.0.0.1:" + socket.getLocalPort() + "/gone";
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    public URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    /** What every request is answered from now on. */
    public void answer(Function<Call, Answer> answers) {
        this.answers = answers;
    }

    public void answer(Answer answer) {
        this.answers = call -> answer;
    }

    /** Requests received so far. */
    public int count() {
        return count.get();
    }

    /** The next request received (in arrival order), waiting up to {@link WsClient#WAIT}. */
    public Call next() {
        try {
            Call call = calls.poll(WsClient.WAIT.toMillis(), TimeUnit.MILLISECONDS);
            if (call == null) {
                fail("no hook request within " + WsClient.WAIT);
            }
            return call;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** Drops the recorded requests. */
    public void clear() {
        calls.clear();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            byte[] body = exchange.getRequestBody().readAllBytes();
            Call call = new Call(exchange.getRequestURI().getPath(), exchange.getRequestHeaders().getFirst("X-Portcullis-Timestamp"),
                    exchange.getRequestHeaders().getFirst("X-Portcullis-Signature"), body);
            count.incrementAndGet();
            calls.add(call);
            Answer answer = answers.apply(call);
            if (answer == Answer.HANG) {
                closing.await(WsClient.WAIT.toMillis() * 3, TimeUnit.MILLISECONDS);
                return;
            }
            byte[] bytes = answer.body().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(answer.status(), bytes.length == 0 ? -1 : bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        closing.countDown();
        server.stop(0);
        threads.shutdownNow();
    }
}
