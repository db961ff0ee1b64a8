package dev.portcullis.gateway.config;

import java.time.Duration;

/**
 * Admission and message limits. For every count, 0 means unlimited.
 *
 * @param connectionsPerUser concurrent connections of one user; over it the oldest is closed (4500)
 * @param connectAttemptsPerUserPerMinute handshakes one user may start per minute (429 over it)
 * @param connectionsPerIp concurrent connections from one client address (429 over it)
 * @param maxConnections concurrent connections of the whole gateway (503 over it)
 * @param maxMessageBytes largest inbound message, after reassembly of fragments (1009 over it)
 * @param handshakeTimeout time from TCP accept to a completed upgrade before the socket is dropped
 * @param protocolViolations violations (bad JSON, unknown type) tolerated within the window
 * @param protocolViolationWindow the window; one more violation inside it closes with 4503
 * @param subscriptionsPerConnection channels one connection may subscribe to
 * @param messagesPerMinute inbound messages per connection per minute (token bucket refill)
 * @param messageBurst token bucket capacity
 * @param rateLimitGrace still over the rate this long after the first rejection closes with 4008
 * @param maxOutboundBytes unsent bytes a connection may hold (write-buffer high water mark)
 * @param slowConsumerGrace how long a connection may stay over {@code maxOutboundBytes} (4009 after)
 * @param maxConnectionAge connections older than this are asked to reconnect (rebalancing); zero: never
 * @param refusalProbesPerIpPerMinute "why was I refused?" requests one client address may make per minute (429 over it)
 */
public record LimitsConfig(
        int connectionsPerUser,
        int connectAttemptsPerUserPerMinute,
        int connectionsPerIp,
        int maxConnections,
        int maxMessageBytes,
        Duration handshakeTimeout,
        int protocolViolations,
        Duration protocolViolationWindow,
        int subscriptionsPerConnection,
        int messagesPerMinute,
        int messageBurst,
        Duration rateLimitGrace,
        int maxOutboundBytes,
        Duration slowConsumerGrace,
        Duration maxConnectionAge,
        int refusalProbesPerIpPerMinute) {}
