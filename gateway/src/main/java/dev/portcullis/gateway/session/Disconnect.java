package dev.portcullis.gateway.session;

/**
 * Why the server ends a connection: a WebSocket close code and a short reason (at most 123 bytes
 * of UTF-8 on the wire). 4000-4499 tell the client it may reconnect, 4500-4999 that it must not.
 */
public record Disconnect(int code, String reason) {
    public static final Disconnect SHUTDOWN = new Disconnect(1001, "server shutting down");
    public static final Disconnect UNSUPPORTED_DATA = new Disconnect(1003, "binary frames are not supported");
    public static final Disconnect INVALID_UTF8 = new Disconnect(1007, "invalid UTF-8 in text frame");
    public static final Disconnect TOO_BIG = new Disconnect(1009, "message too big");
    public static final Disconnect PROTOCOL_ERROR = new Disconnect(1002, "WebSocket protocol error");
    public static final Disconnect TOKEN_EXPIRED = new Disconnect(4001, "token expired");
    public static final Disconnect REAUTH_TIMEOUT = new Disconnect(4001, "no fresh token before the re-auth deadline");
    public static final Disconnect HEARTBEAT_TIMEOUT = new Disconnect(4002, "heartbeat timeout");
    public static final Disconnect REPLACED = new Disconnect(4500, "replaced by a newer connection");
    public static final Disconnect VIOLATIONS = new Disconnect(4503, "too many protocol violations");

    public Disconnect {
        if (code < 1000 || code > 4999) {
            throw new IllegalArgumentException("close code out of range: " + code);
        }
    }

    /** May the client reconnect after this? */
    public boolean retryable() {
        return code < 4500;
    }
}
