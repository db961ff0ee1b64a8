package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.session.Disconnect;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.util.concurrent.ScheduledFuture;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A connection's close handshake once it has begun, from either side: the close code it ends with
 * (what the connection-closed metric is tagged with), the frame that says so, and the timer that
 * ends the socket whatever the peer does.
 *
 * <p>Whoever closes first sends a close frame; the server then half-closes its side and keeps
 * reading (and discarding) until the peer closes, at most {@link #CLOSE_TIMEOUT}. Closing the socket
 * outright while the peer's data is unread would make the kernel answer with a reset, and the peer
 * could lose our close frame (and with it the code that says why).
 *
 * <p>Apart from {@link WebSocketHandler} because it is state that exists only once a connection is
 * closing: the handler creates one then, and "has one" is its closing flag, so an open connection
 * carries no close state and the fan-out path still checks a single field.
 *
 * <p>Threading: confined to the connection's event loop, like its handler; the timer is scheduled on
 * that loop.
 */
final class CloseHandshake {
    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final Channel channel;
    private int code;
    private ScheduledFuture<?> closeTimer;

    /** A close that has begun, ending with {@code code} unless {@link #answer} says otherwise. */
    CloseHandshake(Channel channel, int code) {
        this.channel = channel;
        this.code = code;
    }

    /** The close code the connection ended with: ours, or the peer's (0 for a non-standard one). */
    int code() {
        return code;
    }

    /** We close first: the close frame, then the write side shut once it is out, and the timeout. */
    void send(Disconnect disconnect) {
        if (!channel.isActive()) {
            return;
        }
        channel.writeAndFlush(new CloseWebSocketFrame(disconnect.code(), disconnect.reason()))
                .addListener((ChannelFutureListener) f -> {
                    if (f.isSuccess() && channel instanceof DuplexChannel duplex) {
                        duplex.shutdownOutput();
                    }
                });
        armCloseTimeout();
    }

    /** The peer closed first: echo its code (or refuse an undefined one) and close once that is out. */
    void answer(CloseWebSocketFrame frame) {
        int peerCode = frame.statusCode();
        CloseWebSocketFrame echo;
        if (peerCode > 4999) {
            // RFC 6455 7.4.2: codes from 5000 up are not defined; Netty's decoder lets them through
            // (it checks the ranges below 5000), so the peer gets a protocol error instead of an echo.
            code = Disconnect.PROTOCOL_ERROR.code();
            echo = new CloseWebSocketFrame(Disconnect.PROTOCOL_ERROR.code(), "invalid close code");
        } else {
            // A peer chooses its code freely; only standard ones become metric tags, the rest "other" (0).
            code = peerCode == -1 ? 1005 : peerCode >= 1000 && peerCode <= 1015 ? peerCode : 0;
            echo = peerCode == -1 ? new CloseWebSocketFrame() : new CloseWebSocketFrame(peerCode, "");
        }
        channel.writeAndFlush(echo).addListener(ChannelFutureListener.CLOSE);
        armCloseTimeout(); // a peer that closes and then stops reading must not hold the socket
    }

    /** The connection is gone: the timeout has nothing left to close. */
    void cancel() {
        if (closeTimer != null) {
            closeTimer.cancel(false);
        }
    }

    /** Whatever the peer does, the socket is gone {@link #CLOSE_TIMEOUT} after the first close frame. */
    private void armCloseTimeout() {
        if (closeTimer == null) {
            closeTimer = channel.eventLoop().schedule(() -> {
                channel.close();
            }, CLOSE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }
}
