package dev.portcullis.client;

/**
 * Whether a lost connection or a refused handshake is worth another attempt. The table and the
 * reasons are in {@link PortcullisClient}'s documentation ("Reconnecting").
 */
final class ClosePolicy {
    private ClosePolicy() {}

    /** May the client reconnect after the server (or the network) ended a connection with {@code code}? */
    static boolean reconnectAfterClose(int code) {
        if (code >= 4500 && code <= 4999) {
            return false; // the server says: do not come back (replaced, logged out, violations)
        }
        return switch (code) {
            // protocol or policy errors: this client sent something the server refuses; a reconnect would repeat it
            case 1002, 1003, 1007, 1008, 1010 -> false;
            default -> true; // 1000, 1001, 1005, 1006, 1009, 1011-1015, 3000-4499
        };
    }

    /** May the client try again after a handshake refused with HTTP {@code status}? */
    static boolean reconnectAfterRefusal(int status) {
        return switch (status) {
            case 401 -> true; // token refused: the next attempt fetches a fresh one
            case 408, 425, 429 -> true; // slow, early or too many attempts: wait and retry
            default -> status >= 500 && status <= 599; // 503 draining or full, 502/504 from a proxy
        };
    }
}
