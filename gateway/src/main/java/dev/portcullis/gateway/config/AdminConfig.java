package dev.portcullis.gateway.config;

import java.util.List;

/**
 * The admin listener: metrics, health, readiness and the backend API. Keep it off the public
 * network.
 *
 * @param apiKeys bearer keys accepted by the backend API; never logged
 * @param maxBodyBytes largest API request body (413 over it)
 * @param maxConnections concurrent admin connections; more get 503 and are closed (inside the file
 *     reserve the WebSocket cap leaves, so the admin port can never exhaust the process's files)
 * @param idleTimeout an admin connection with no request in progress is closed after this
 * @param requestTimeout a request must arrive whole within this of its first byte (408 after)
 * @param tls HTTPS for the admin listener, with client certificates when it has a client CA;
 *     {@link TlsConfig#DISABLED} for plain HTTP
 */
public record AdminConfig(String host, int port, List<String> apiKeys, int maxBodyBytes, int maxConnections,
        java.time.Duration idleTimeout, java.time.Duration requestTimeout, TlsConfig tls) {
    public AdminConfig {
        apiKeys = List.copyOf(apiKeys);
    }

    @Override
    public String toString() {
        return "AdminConfig[host=" + host + ", port=" + port + ", apiKeys=<" + apiKeys.size() + " redacted>, maxBodyBytes=" + maxBodyBytes
                + ", maxConnections=" + maxConnections + ", idleTimeout=" + idleTimeout + ", requestTimeout=" + requestTimeout + ", tls=" + tls + "]";
    }
}
