package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.Gateway;
import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.testing.GatewayProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real gateway in this JVM (embedded mode) on ephemeral ports, with test-friendly limits; tests
 * override what they exercise. Tokens are HS256 with {@link #SECRET}, the backend API key is
 * {@link #API_KEY}. Also launches gateway processes of a Redis cluster with the same secrets
 * ({@link #launchClusterMember}).
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

    /**
     * Launches (without waiting: {@link GatewayProcess#awaitListening}) gateway process {@code name}
     * of a cluster on {@code redisUrl}, files in {@code dir}, WebSocket port {@code port} (0: any):
     * the {@code alerts} channel keeps {@code historySize} publications, no admission limit gets in
     * the way of a test that reconnects hundreds of clients at once, and SIGTERM drains over
     * {@code drain}.
     */
    static GatewayProcess launchClusterMember(String name, Path dir, int port, String redisUrl, int historySize, Duration drain) {
        String yaml = """
                server: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: 0, api-keys: ["%s"]}
                auth: {hmac-secret: "%s"}
                channels: {auto-subscribe-personal: false}
                history: {channels: ["alerts=%d/1h"]}
                broker: {type: redis, redis-url: "%s", instance-id: %s}
                limits:
                  connections-per-user: 0
                  connect-attempts-per-user-per-minute: 0
                  connections-per-ip: 0
                  max-connections: 0
                  messages-per-minute: 0
                shutdown: {drain-timeout: %dms}
                """.formatted(port, API_KEY, SECRET, historySize, redisUrl, name, drain.toMillis());
        return GatewayProcess.launcher(dir).name(name)
                .jvmOptions(List.of("-XX:+IgnoreUnrecognizedVMOptions", "--sun-misc-unsafe-memory-access=allow"))
                .launch(yaml);
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
