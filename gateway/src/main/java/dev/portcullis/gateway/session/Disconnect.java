package dev.portcullis.gateway.session;

/**
 * Why the server ends a connection: a WebSocket close code and a short reason (at most 123 bytes
 * of UTF-8 on the wire). 4000-4499 tell the client it may reconnect, 4500-4999 that it must not.
 */
public record Disconnect(int code, String reason) {
    public static final Disconnect SHUTDOWN = new Disconnect(1001, "server shutting down");
    public static final Disconnect AGE = new Disconnect(1001, "connection age limit reached; reconnect");
    public static final Disconnect UNSUPPORTED_DATA = new Disconnect(1003, "binary frames are not supported");
    public static final Disconnect INVALID_UTF8 = new Disconnect(1007, "invalid UTF-8 in text frame");
    public static final Disconnect TOO_BIG = new Disconnect(1009, "message too big");
    public static final Disconnect PROTOCOL_ERROR = new Disconnect(1002, "WebSocket protocol error");
    public static final Disconnect TOKEN_EXPIRED = new Disconnect(4001, "token expired");
    public static final Disconnect REAUTH_TIMEOUT = new Disconnect(4001, "no fresh token before the re-auth deadline");
    public static final Disconnect HEARTBEAT_TIMEOUT = new Disconnect(4002, "heartbeat timeout");
    public static final Disconnect REPLACED = new Disconnect(4500, "replaced by a newer connection");
    public static final Disconnect SLOW_CONSUMER = new Disconnect(4009, "slow consumer: too many unsent bytes");
    public static final Disconnect LOGGED_OUT = new Disconnect(4501, "logged out");
    public static final Disconnect VIOLATIONS = new Disconnect(4503, "too many protocol violations");

    /** RFC 6455 leaves 123 bytes for the reason in a close frame. */
    public static final int MAX_REASON_BYTES = 123;

    public Disconnect {
        if (code < 1000 || code > 4999) {
            throw new IllegalArgumentException("close code out of range: " + code);
        }
        reason = truncate(reason == null ? "" : reason);
    }

    private static String truncate(String reason) {
        byte[] utf8 = reason.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        if (utf8.length <= MAX_REASON_BYTES) {
            return reason;
        }
        int end = reason.length();
        while (reason.substring(0, end).getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
            end--;
        }
        if (end > 0 && Character.isHighSurrogate(reason.charAt(end - 1))) {
            end--;
        }
        return reason.substring(0, end);
    }

    /** May the client reconnect after this? */
    public boolean retryable() {
        return code < 4500;
    }
}
