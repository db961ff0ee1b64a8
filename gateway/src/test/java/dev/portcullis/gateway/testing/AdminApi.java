package dev.portcullis.gateway.testing;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * The admin listener of a gateway, in process ({@link TestGateway}) or a real process
 * ({@link GatewayProcess}), through the JDK's HTTP client: backend API calls, and Prometheus series
 * read from {@code /metrics}. Every request has a deadline.
 */
public final class AdminApi {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(WsClient.WAIT).build();
    /**
     * For {@link #publishAsync}: HTTP/1.1 on pooled keep-alive connections, as a backend publishes,
     * with no HTTP/2 upgrade offer on each new connection; a short connect timeout, since a test
     * that publishes this way retries elsewhere when an instance is gone.
     */
    private static final HttpClient BACKEND = HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5))
            .build();

    private final int port;

    public AdminApi(int port) {
        this.port = port;
    }

    public URI uri(String path) {
        return URI.create("http://127.0.0.1:" + port + path);
    }

    public HttpResponse<String> get(String path) {
        return send(HttpRequest.newBuilder(uri(path)).GET());
    }

    /** A backend API call with {@code key} (null: none); {@code body} null for none. */
    public HttpResponse<String> call(String method, String path, String body, String key) {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri(path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json");
        if (key != null) {
            request.header("Authorization", "Bearer " + key);
        }
        return send(request);
    }

    /** Publishes through the API with {@code key}; fails the test unless the answer is 200. Returns the answer's body. */
    public String publish(String key, String channel, String dataJson) {
        HttpResponse<String> response = call("POST", "/api/publish", "{\"channel\":\"" + channel + "\",\"data\":" + dataJson + "}", key);
        if (response.statusCode() != 200) {
            throw new AssertionError("publish answered " + response.statusCode() + " " + response.body());
        }
        return response.body();
    }

    /**
     * Publishes through the API with {@code key} and an idempotency key, without waiting: many
     * publications can be in flight, and one whose instance died mid-request can be retried on
     * another instance with the same idempotency key without publishing twice. Completes with the
     * offset, or exceptionally ({@link IllegalStateException} with the answer) unless the answer is 200.
     */
    public CompletableFuture<Long> publishAsync(String key, String channel, String dataJson, String idempotencyKey) {
        HttpRequest request = HttpRequest.newBuilder(uri("/api/publish"))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"channel\":\"" + channel + "\",\"data\":" + dataJson
                        + ",\"idempotencyKey\":\"" + idempotencyKey + "\"}"))
                .build();
        return BACKEND.sendAsync(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
            if (response.statusCode() != 200) {
                throw new IllegalStateException("admin port " + port + " answered publish with " + response.statusCode() + " " + response.body());
            }
            return WsClient.json(response.body()).path("offset").asLong();
        });
    }

    /** The value of one Prometheus series (exact name and label text), or 0 when absent. */
    public double metric(String series) {
        for (String line : get("/metrics").body().lines().toList()) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    private static HttpResponse<String> send(HttpRequest.Builder request) {
        try {
            return HTTP.send(request.timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }
}
