package dev.portcullis.gateway.transport;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.handler.timeout.IdleState;
import io.netty.handler.timeout.IdleStateEvent;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Keeps the admin listener from taking the gateway down: at most {@code admin.max-connections}
 * connections (more get 503 and are closed, so idle sockets cannot use every file handle and leave
 * the WebSocket listener failing {@code accept} with EMFILE), a request must arrive whole within
 * {@code admin.request-timeout} of its first byte (408: a body trickling in at a byte a second is
 * cut off), and a connection idle between requests for {@code admin.idle-timeout} is closed (the
 * idle part is an {@link io.netty.handler.timeout.IdleStateHandler} before this one).
 *
 * <p>Sits between the HTTP codec and the aggregator, where it sees the start and the end of each
 * request. One instance per connection; {@code open} is shared by the listener's connections.
 */
final class AdminGuard extends ChannelDuplexHandler {
    private final AtomicInteger open;
    private final int maxConnections;
    private final long requestTimeoutMillis;
    private boolean counted;
    private ScheduledFuture<?> requestTimer;

    AdminGuard(AtomicInteger open, int maxConnections, long requestTimeoutMillis) {
        this.open = open;
        this.maxConnections = maxConnections;
        this.requestTimeoutMillis = requestTimeoutMillis;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (open.incrementAndGet() > maxConnections) {
            open.decrementAndGet();
            HttpResponses.sendAndClose(ctx, HttpResponses.error(HttpResponseStatus.SERVICE_UNAVAILABLE, "admin_connections",
                    "too many admin connections"));
            return;
        }
        counted = true;
        ctx.fireChannelActive();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (counted) {
            counted = false;
            open.decrementAndGet();
        }
        cancelTimer();
        ctx.fireChannelInactive();
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!counted) {
            io.netty.util.ReferenceCountUtil.release(msg); // refused: answered already, nothing more is read
            return;
        }
        if (msg instanceof HttpRequest && requestTimer == null) {
            requestTimer = ctx.executor().schedule(() -> {
                HttpResponses.sendAndClose(ctx, HttpResponses.error(HttpResponseStatus.REQUEST_TIMEOUT, "request_timeout",
                        "the request did not arrive in time"));
            }, requestTimeoutMillis, TimeUnit.MILLISECONDS);
        }
        if (msg instanceof LastHttpContent) {
            cancelTimer();
        }
        ctx.fireChannelRead(msg);
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event instanceof IdleStateEvent idle && idle.state() == IdleState.ALL_IDLE && requestTimer == null) {
            ctx.close(); // idle between requests (a request in progress has its own timer)
            return;
        }
        ctx.fireUserEventTriggered(event);
    }

    private void cancelTimer() {
        if (requestTimer != null) {
            requestTimer.cancel(false);
            requestTimer = null;
        }
    }
}
