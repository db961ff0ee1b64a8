package dev.portcullis.gateway.session;

import dev.portcullis.gateway.channel.Subscriber;

/**
 * The transport side of one connection as a {@link Session} sees it: where its own replies go, and
 * the {@link Subscriber} that publications of its channels are written to. Called only on the
 * session's executor (its event loop).
 */
public interface Outbound extends Subscriber {
    /** Queues one text frame. Frames are written in call order. */
    void send(String text);

    /**
     * Starts the close handshake with {@code disconnect}; later sends are dropped. The transport closes
     * the socket when the peer answers or a short timeout passes, then calls {@link Session#closed()}.
     */
    void close(Disconnect disconnect);
}
