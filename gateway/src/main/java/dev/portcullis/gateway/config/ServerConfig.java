package dev.portcullis.gateway.config;

import java.time.Duration;
import java.util.List;

/**
 * The public WebSocket listener.
 *
 * @param host address to bind, {@code 0.0.0.0} for all
 * @param port TCP port, 0 for an ephemeral one (tests)
 * @param path the only HTTP path that upgrades to WebSocket
 * @param allowedOrigins exact {@code Origin} values accepted; empty accepts any origin (and then
 *     cookie authentication is refused at start-up)
 * @param tls TLS settings; {@link TlsConfig#enabled()} is false for plain {@code ws://}
 * @param proxyProtocol every connection starts with a PROXY protocol header
 * @param trustedProxies addresses or CIDRs whose {@code X-Forwarded-For} header is believed
 * @param compression permessage-deflate is negotiated with clients that offer it
 * @param warmup the longest warm-up {@code serve} runs before it says ready; zero for none
 * @param transport {@code auto}, {@code epoll}, {@code io_uring} or {@code nio}: how the event loops
 *     drive sockets (see {@code EventLoops.Transport})
 * @param ioThreads event-loop threads for the connections, 0 for one per core
 */
public record ServerConfig(
        String host, int port, String path, List<String> allowedOrigins, TlsConfig tls, boolean proxyProtocol,
        List<String> trustedProxies, boolean compression, Duration warmup, String transport, int ioThreads) {
    public ServerConfig {
        allowedOrigins = List.copyOf(allowedOrigins);
        trustedProxies = List.copyOf(trustedProxies);
    }

    /** The event-loop threads to start: {@link #ioThreads}, or one per core when it is 0. */
    public int ioThreadsOrCores() {
        return ioThreads > 0 ? ioThreads : Runtime.getRuntime().availableProcessors();
    }
}
