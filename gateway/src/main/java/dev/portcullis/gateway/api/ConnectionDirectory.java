package dev.portcullis.gateway.api;

import dev.portcullis.gateway.session.Disconnect;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** The live connections of this gateway, as the backend API sees them. Implemented by the transport. */
public interface ConnectionDirectory {
    /** The user's connections; completes once every connection's event loop answered (never blocks). */
    CompletableFuture<List<ConnectionInfo>> connections(String user);

    /** Closes every connection of {@code user} with {@code disconnect}; returns how many there were. */
    int disconnect(String user, Disconnect disconnect);

    int active();
}
