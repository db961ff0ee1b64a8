package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.http.CappedBody;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Fetches a JWKS over HTTP on its own daemon thread, {@code portcullis-jwks}: requests start there,
 * and the deadline and the returned futures complete there, never on the caller's thread.
 */
final class JwksFetcher implements AutoCloseable {

    static final Duration TIMEOUT = Duration.ofSeconds(5);
    static final int MAX_BODY_BYTES = 512 * 1024;

    private final URI url;
    private final ScheduledExecutorService thread;
    private final HttpClient client;

    JwksFetcher(URI url) {
        this.url = url;
        this.thread = Executors.newSingleThreadScheduledExecutor(task -> {
            Thread fetchThread = new Thread(task, "portcullis-jwks");
            fetchThread.setDaemon(true);
            return fetchThread;
        });
        this.client = HttpClient.newBuilder()
                .executor(thread)
                .connectTimeout(TIMEOUT)
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    /**
     * Starts one fetch. Completes with the parsed keys, or fails on a connection error, a non-200
     * status, a body over {@link #MAX_BODY_BYTES}, invalid JSON, or no answer within {@link #TIMEOUT}.
     */
    CompletableFuture<KeySet> fetch() {
        CompletableFuture<KeySet> keys = new CompletableFuture<>();
        try {
            // Even starting a request may block (name resolution), so it starts on the fetch thread too.
            thread.execute(() -> start(keys));
        } catch (RejectedExecutionException e) {
            keys.completeExceptionally(e);
        }
        return keys;
    }

    private void start(CompletableFuture<KeySet> keys) {
        try {
            HttpRequest request = HttpRequest.newBuilder(url)
                    .timeout(TIMEOUT)
                    .header("Accept", "application/json")
                    .GET()
                    .build();
            CompletableFuture<HttpResponse<byte[]>> response = client.sendAsync(request, info ->
                    info.statusCode() == 200
                            ? new CappedBody(MAX_BODY_BYTES)
                            : HttpResponse.BodySubscribers.replacing(null));
            // The request timeout stops at the headers; this deadline also bounds a slow body.
            ScheduledFuture<?> deadline =
                    thread.schedule(() -> response.cancel(true), TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            // The JDK completes sendAsync futures on the common pool: hop back to the fetch thread.
            response.whenCompleteAsync((answer, failure) -> {
                deadline.cancel(false);
                try {
                    if (failure != null) {
                        keys.completeExceptionally(failure);
                    } else if (answer.statusCode() != 200) {
                        keys.completeExceptionally(new IOException("HTTP status " + answer.statusCode()));
                    } else {
                        keys.complete(KeySet.parse(new String(answer.body(), StandardCharsets.UTF_8)));
                    }
                } catch (Exception e) {
                    keys.completeExceptionally(e);
                }
            }, thread);
        } catch (RuntimeException e) {
            keys.completeExceptionally(e);
        }
    }

    /** The URL without user info or query, fit for a log line. */
    String where() {
        return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort()) + url.getPath();
    }

    @Override
    public void close() {
        client.shutdownNow();
        thread.shutdownNow();
    }
}
