package dev.portcullis.client;

import java.time.Duration;

/**
 * A connection ended, or a connection attempt failed.
 *
 * @param code           the WebSocket close code: the server's, 1000 when the application closed the
 *                       client, or 1006 when there was no close frame (network failure, refused
 *                       handshake, heartbeat timeout)
 * @param reason         the close reason or a description of the failure (never contains a token)
 * @param httpStatus     the HTTP status of a refused handshake (401, 403, 429, 503...), or 0
 * @param willReconnect  false when the client stopped for good; no callback follows then
 * @param reconnectDelay how long the client waits before its next attempt; null when it will not
 */
public record Disconnected(int code, String reason, int httpStatus, boolean willReconnect, Duration reconnectDelay) {}
