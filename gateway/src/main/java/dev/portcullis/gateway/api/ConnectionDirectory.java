package dev.portcullis.gateway.api;

import dev.portcullis.gateway.session.Disconnect;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The live connections of this gateway, as the backend API sees them. Implemented by the transport. */
public interface ConnectionDirectory {
    /** The user's connections; completes once every connection's event loop answered (never blocks). */
    CompletableFuture<List<ConnectionInfo>> connections(String user);

    /** Closes every connection of {@code user} with {@code disconnect}; completes with how many there were. */
    CompletableFuture<Integer> disconnect(String user, Disconnect disconnect);

    /** Open connections (cluster-wide for a cluster directory; refreshed every few seconds there). */
    int active();

    /** Closes one connection held here; false when it is not (anymore). */
    boolean disconnectConnection(String connectionId, Disconnect disconnect);

    /** The users with connections here (a snapshot). */
    java.util.Set<String> users();
}
