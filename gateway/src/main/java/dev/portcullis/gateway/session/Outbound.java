package dev.portcullis.gateway.session;

import dev.portcullis.gateway.channel.Publication;

/**
 * The transport side of one connection as a {@link Session} sees it: where its replies and its
 * publications are written. Called only on the session's executor (its event loop).
 */
public interface Outbound {
    /** Writes a shared publication frame (taking its own reference); bounded, see the transport. */
    void deliver(Publication publication);

    /** Flushes what {@link #deliver} wrote. */
    void flush();

    /** Queues one text frame. Frames are written in call order. */
    void send(String text);

    /**
     * Starts the close handshake with {@code disconnect}; later sends are dropped. The transport closes
     * the socket when the peer answers or a short timeout passes, then calls {@link Session#closed()}.
     */
    void close(Disconnect disconnect);
}
