package dev.portcullis.client;

/**
 * The life of a client's connection. Called on the client's own thread, one call at a time, in the
 * order things happened (see {@link PortcullisClient} for the threading contract). A listener must
 * not block for long: the client reads nothing from the server meanwhile. Exceptions it throws are
 * logged and otherwise ignored.
 */
public interface ConnectionListener {
    /** The server greeted a new connection; subscriptions are being restored. */
    default void onConnected(Connected connected) {}

    /**
     * A connection ended or an attempt failed. When {@link Disconnected#willReconnect()} is false the
     * client has stopped for good (a terminal close code, a refused handshake that retrying cannot
     * fix, or {@link PortcullisClient#close()}), and this is the last call.
     */
    default void onDisconnected(Disconnected disconnected) {}

    /** The server accepted a fresh token in answer to its {@code reauth} request. */
    default void onReauthenticated(java.time.Instant expiresAt) {}
}
