package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.Gateway;
import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.ConfigLoader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real gateway in this JVM (embedded mode) on ephemeral ports, with test-friendly limits; tests
 * override what they exercise. Tokens are HS256 with {@link #SECRET}.
 */
final class GatewayFixture implements AutoCloseable {
    static final String SECRET = "portcullis-client-test-secret-0123456789abcdef";
    static final String API_KEY = "client-test-api-key-0123456789";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Gateway gateway;

    private GatewayFixture(Map<String, Object> overrides) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("server.host", "127.0.0.1");
        settings.put("server.port", "0");
        settings.put("admin.port", "0");
        settings.put("auth.hmac-secret", SECRET);
        settings.put("auth.clock-skew", "0");
        settings.put("admin.api-keys", List.of(API_KEY));
        settings.put("limits.connections-per-ip", "0");
        settings.put("limits.connect-attempts-per-user-per-minute", "0");
        settings.put("limits.messages-per-minute", "0");
        settings.put("shutdown.drain-timeout", "2s");
        settings.putAll(overrides);
        this.gateway = Gateway.start(ConfigLoader.load(settings));
    }

    static GatewayFixture start() {
        return new GatewayFixture(Map.of());
    }

    static GatewayFixture start(Map<String, Object> overrides) {
        return new GatewayFixture(overrides);
    }

    /** A port that was free a moment ago, for a test that needs to start a second gateway on the same port. */
    static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    URI uri() {
        return URI.create("ws://127.0.0.1:" + gateway.port() + "/ws");
    }

    int port() {
        return gateway.port();
    }

    /** A token for {@code user} with channel permissions (e.g. {@code Map.of("news", "r")}). */
    static String token(String user, Duration ttl, Map<String, String> channels) {
        return TokenMinter.hs256(SECRET, user, Instant.now(), ttl, Map.of("channels", channels));
    }

    /** Publishes through the backend API; returns the answer ({@code offset}, and {@code epoch} once the server has history). */
    JsonNode publish(String channel, String dataJson) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.adminPort() + "/api/publish"))
                .header("Authorization", "Bearer " + API_KEY)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"channel\":\"" + channel + "\",\"data\":" + dataJson + "}"))
                .build();
        try {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                throw new AssertionError("publish answered " + response.statusCode() + " " + response.body());
            }
            return Frames.JSON.readTree(response.body());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    @Override
    public void close() {
        gateway.close();
    }
}
