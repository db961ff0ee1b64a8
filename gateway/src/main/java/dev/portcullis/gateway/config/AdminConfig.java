package dev.portcullis.gateway.config;

import java.util.List;

/**
 * The admin listener: metrics, health, readiness and the backend API. Keep it off the public
 * network.
 *
 * @param apiKeys bearer keys accepted by the backend API; never logged
 * @param maxBodyBytes largest API request body (413 over it)
 */
public record AdminConfig(String host, int port, List<String> apiKeys, int maxBodyBytes) {
    public AdminConfig {
        apiKeys = List.copyOf(apiKeys);
    }

    @Override
    public String toString() {
        return "AdminConfig[host=" + host + ", port=" + port + ", apiKeys=<" + apiKeys.size() + " redacted>, maxBodyBytes=" + maxBodyBytes + "]";
    }
}
