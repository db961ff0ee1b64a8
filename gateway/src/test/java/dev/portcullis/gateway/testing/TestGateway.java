package dev.portcullis.gateway.testing;

import dev.portcullis.gateway.Gateway;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A real gateway on ephemeral ports with test-friendly settings (HS256 test secret, generous
 * per-IP and attempt limits since every test client comes from 127.0.0.1); each test overrides
 * what it exercises.
 */
public final class TestGateway implements AutoCloseable {
    private final Gateway gateway;
    private final GatewayConfig config;

    private TestGateway(Map<String, Object> overrides) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("server.host", "127.0.0.1");
        settings.put("server.port", "0");
        settings.put("admin.port", "0");
        settings.put("auth.hmac-secret", Tokens.SECRET);
        settings.put("auth.clock-skew", "0");
        settings.put("limits.connections-per-ip", "0");
        settings.put("limits.connect-attempts-per-user-per-minute", "0");
        settings.put("shutdown.drain-timeout", "5s");
        settings.putAll(overrides);
        this.config = ConfigLoader.load(settings);
        this.gateway = Gateway.start(config);
    }

    public static TestGateway start() {
        return new TestGateway(Map.of());
    }

    public static TestGateway start(Map<String, Object> overrides) {
        return new TestGateway(overrides);
    }

    public Gateway gateway() {
        return gateway;
    }

    public GatewayConfig config() {
        return config;
    }

    public URI uri() {
        return URI.create("ws://127.0.0.1:" + gateway.port() + config.server().path());
    }

    public URI uri(String token) {
        return URI.create(uri() + "?token=" + token);
    }

    public URI admin(String path) {
        return URI.create("http://127.0.0.1:" + gateway.adminPort() + path);
    }

    public HttpResponse<String> adminGet(String path) {
        try {
            return HttpClient.newHttpClient().send(HttpRequest.newBuilder(admin(path)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new AssertionError(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(e);
        }
    }

    /** The value of one Prometheus series (exact name and label text), or 0 when absent. */
    public double metric(String series) {
        for (String line : adminGet("/metrics").body().lines().toList()) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1).trim());
            }
        }
        return 0;
    }

    @Override
    public void close() {
        gateway.close();
    }
}
