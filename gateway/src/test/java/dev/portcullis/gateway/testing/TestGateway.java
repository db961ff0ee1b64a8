package dev.portcullis.gateway.testing;

import dev.portcullis.gateway.Gateway;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import java.net.URI;
import java.net.http.HttpResponse;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real gateway on ephemeral ports with test-friendly settings (HS256 test secret, generous
 * per-IP and attempt limits since every test client comes from 127.0.0.1); each test overrides
 * what it exercises.
 */
public final class TestGateway implements AutoCloseable {
    public static final String API_KEY = "test-api-key-0123456789";

    private final Gateway gateway;
    private final GatewayConfig config;

    private TestGateway(Map<String, Object> overrides, boolean serve) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("server.host", "127.0.0.1");
        settings.put("server.port", "0");
        settings.put("admin.port", "0");
        settings.put("auth.hmac-secret", Tokens.SECRET);
        settings.put("auth.clock-skew", "0");
        settings.put("limits.connections-per-ip", "0");
        settings.put("limits.connect-attempts-per-user-per-minute", "0");
        settings.put("shutdown.drain-timeout", "5s");
        settings.put("admin.api-keys", List.of(API_KEY));
        settings.put("limits.messages-per-minute", "0");
        settings.putAll(overrides);
        this.config = ConfigLoader.load(settings);
        this.gateway = serve ? Gateway.serve(config, null) : Gateway.start(config);
    }

    public static TestGateway start() {
        return new TestGateway(Map.of(), false);
    }

    public static TestGateway start(Map<String, Object> overrides) {
        return new TestGateway(overrides, false);
    }

    /** Started as {@code serve} starts it: with the warm-up of {@code server.warmup} (set it in {@code overrides}) before ready. */
    public static TestGateway serve(Map<String, Object> overrides) {
        return new TestGateway(overrides, true);
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
        return admin().uri(path);
    }

    /** The admin listener. */
    public AdminApi admin() {
        return new AdminApi(gateway.adminPort());
    }

    public HttpResponse<String> adminGet(String path) {
        return admin().get(path);
    }

    /** A backend API call with the test key; {@code body} null for GET. */
    public HttpResponse<String> api(String method, String path, String body) {
        return api(method, path, body, API_KEY);
    }

    public HttpResponse<String> api(String method, String path, String body, String key) {
        return admin().call(method, path, body, key);
    }

    /** Publishes through the API and returns the offset. */
    public long publish(String channel, String dataJson) {
        return WsClient.json(admin().publish(API_KEY, channel, dataJson)).path("offset").asLong();
    }

    /** The value of one Prometheus series (exact name and label text), or 0 when absent. */
    public double metric(String series) {
        return admin().metric(series);
    }

    @Override
    public void close() {
        gateway.close();
    }
}
