package dev.portcullis.gateway.config;

import java.time.Duration;

/**
 * WebSocket ping/pong keep-alive: a ping every {@code interval}; no pong within {@code timeout}
 * of a ping closes the connection.
 */
public record HeartbeatConfig(Duration interval, Duration timeout) {}
