package dev.portcullis.gateway.transport;

import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Drops a socket that has not completed its WebSocket upgrade within the handshake timeout
 * (slowloris: a client that opens sockets and trickles bytes must not hold them). The upgrade
 * handler removes this handler once the upgrade is done.
 */
final class HandshakeTimeoutHandler extends ChannelInboundHandlerAdapter {
    static final String NAME = "handshake-timeout";

    private final long timeoutMillis;
    private final Runnable onTimeout;
    private ScheduledFuture<?> timer;

    HandshakeTimeoutHandler(long timeoutMillis, Runnable onTimeout) {
        this.timeoutMillis = timeoutMillis;
        this.onTimeout = onTimeout;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (ctx.channel().isActive()) {
            arm(ctx);
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        arm(ctx);
        ctx.fireChannelActive();
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
    }

    private void arm(ChannelHandlerContext ctx) {
        if (timer == null) {
            timer = ctx.executor().schedule(() -> {
                onTimeout.run();
                ctx.close();
            }, timeoutMillis, TimeUnit.MILLISECONDS);
        }
    }
}
