package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.config.HeartbeatConfig;
import dev.portcullis.gateway.session.Disconnect;
import dev.portcullis.gateway.session.LoopSweep;
import dev.portcullis.gateway.session.Outbound;
import dev.portcullis.gateway.session.Session;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundInvoker;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.TooLongFrameException;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.PingWebSocketFrame;
import io.netty.handler.codec.http.websocketx.PongWebSocketFrame;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketFrameEncoder;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * One upgraded connection on the wire: frames in and out, heartbeat, and the close handshake. The
 * protocol itself lives in {@link Session}; this class only speaks WebSocket.
 *
 * <p>Close handshake: whoever closes first sends a close frame, and the socket lingers until the
 * peer's, at most {@link CloseHandshake#CLOSE_TIMEOUT}; {@link CloseHandshake} holds that state once a
 * close begins. The bound on unsent bytes and the slow-consumer close are {@link OutboundLimit}'s,
 * created when the channel first stops being writable. Both exist only when needed, so an open,
 * keeping-up connection carries neither.
 *
 * <p>Heartbeat: a ping every interval; if nothing at all arrives within the timeout after it, the
 * peer is presumed dead. Any frame counts as a sign of life, not only a pong, so a busy client whose
 * pong queues behind its own data is not dropped. Its clock is two fields checked by the loop's
 * {@link LoopSweep} (this handler is a member), not a scheduled task per connection: a ping or the
 * timeout happens at the first sweep at or after it is due, up to one tick late (at most a tenth of
 * the shorter of interval and timeout, and at most one second), never early.
 */
public final class WebSocketHandler extends SimpleChannelInboundHandler<WebSocketFrame> implements Outbound, LoopSweep.Member {
    private static final Logger log = LoggerFactory.getLogger(WebSocketHandler.class);

    private final Services services;
    private final Channel channel;
    /** permessage-deflate was negotiated: publications go out as the shared compressed frame. */
    private final boolean deflate;
    private final long openedNanos = System.nanoTime();
    private Session session;
    /** Set when the close begins (either side, or the heartbeat gave up): non-null is "closing". */
    private CloseHandshake closing;
    private long lastReadNanos = System.nanoTime();
    /** While {@link #pinged} is false, when the next ping is due; while it is true, when the last ping went out. */
    private long heartbeatNanos;
    private boolean pinged;
    /** Created at the first unwritability: most connections never need it. */
    private OutboundLimit outboundLimit;
    private boolean unflushed;
    private boolean opened;
    /** Where publication frames enter the pipeline: just past the frame encoder (see {@link #frames()}). */
    private ChannelHandlerContext frames;

    WebSocketHandler(Services services, Channel channel, boolean deflate) {
        this.services = services;
        this.channel = channel;
        this.deflate = deflate;
    }

    void attach(Session session) {
        this.session = session;
    }

    public Session session() {
        return session;
    }

    Channel channel() {
        return channel;
    }

    /**
     * Graceful shutdown of this connection after {@code delayMillis}: a {@code disconnect} hint to
     * retry after {@code retryAfterMillis}, then close 1001. From any thread.
     */
    public void goAwayLater(long delayMillis, long retryAfterMillis) {
        channel.eventLoop().schedule(() -> {
            if (session != null) {
                session.goAway(Disconnect.SHUTDOWN, retryAfterMillis);
            } else {
                close(Disconnect.SHUTDOWN);
            }
        }, delayMillis, TimeUnit.MILLISECONDS);
    }

    /** Closes from any thread: the decision is made on the connection's own event loop. */
    public void disconnectLater(Disconnect disconnect) {
        channel.eventLoop().execute(() -> disconnect(disconnect));
    }

    /** Ends the connection with {@code disconnect} through the session when there is one; on the loop. */
    void disconnect(Disconnect disconnect) {
        if (session != null) {
            session.disconnect(disconnect);
        } else {
            close(disconnect);
        }
    }

    /** A close has begun: nothing more is written but the close frame. */
    boolean closing() {
        return closing != null;
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        if (!channel.isActive()) {
            return;
        }
        opened = true;
        services.metrics().connections().opened();
        HeartbeatConfig heartbeat = services.config().heartbeat();
        heartbeatNanos = System.nanoTime() + heartbeat.interval().toNanos();
        Duration shorter = heartbeat.interval().compareTo(heartbeat.timeout()) <= 0 ? heartbeat.interval() : heartbeat.timeout();
        LoopSweep.join(channel.eventLoop(), shorter, this);
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, WebSocketFrame frame) {
        lastReadNanos = System.nanoTime();
        switch (frame) {
            case TextWebSocketFrame text -> {
                if (closing == null) {
                    session.onText(text.text());
                }
            }
            case CloseWebSocketFrame close -> onPeerClose(close);
            case PingWebSocketFrame ping -> {
                if (closing == null && withinOutboundLimit() && session.admitPing()) {
                    ctx.writeAndFlush(new PongWebSocketFrame(ping.content().retain()), ctx.voidPromise());
                }
            }
            case PongWebSocketFrame ignored -> {}
            case BinaryWebSocketFrame ignored -> session.disconnect(Disconnect.UNSUPPORTED_DATA);
            default -> session.disconnect(Disconnect.PROTOCOL_ERROR);
        }
    }

    public EventExecutor executor() {
        return channel.eventLoop();
    }

    /**
     * Writes a shared publication frame. Unsent bytes are bounded: past the write-buffer high water
     * mark ({@code limits.max-outbound-bytes}) the connection has {@code limits.slow-consumer-grace}
     * to drain, and past twice the mark it is closed at once, with 4009 either way. The close frame
     * queues behind at most that much, so a client that resumes reading still learns why. With
     * permessage-deflate the frame is the publication's shared compressed one. Replies
     * ({@link #send}) and control frames always go out uncompressed: RFC 7692 lets the sender choose
     * per message, they are short, and compressing them would need zlib state here or a compression
     * per reply.
     */
    @Override
    public void deliver(Publication publication) {
        if (closing != null || !channel.isActive() || !withinOutboundLimit()) {
            return;
        }
        ByteBuf frame = deflate ? publication.retainedDeflatedWireFrame(services.metrics().compression()) : publication.retainedWireFrame();
        frames().write(frame, channel.voidPromise());
        unflushed = true;
    }

    /**
     * The frame encoder's context (the channel while there is none). A publication is already a complete frame, so it is written from
     * there: it skips the tail and the inbound handlers a {@code channel.write} would walk past, and
     * still goes through TLS when there is TLS. Replies and control frames take the whole pipeline.
     * Fan-out writes one of these per subscriber, so the few nanoseconds add up. An outbound handler
     * added later between the encoder and this handler (byte counting, say) would not see
     * publications: add it before the encoder instead.
     */
    private ChannelOutboundInvoker frames() {
        if (frames == null) {
            frames = channel.pipeline().context(WebSocketFrameEncoder.class);
            if (frames == null) {
                return channel; // torn down: the whole pipeline, and look again next time
            }
        }
        return frames;
    }

    /**
     * False (and the connection closing with 4009) once more than twice
     * {@code limits.max-outbound-bytes} wait unsent. Every outbound write goes through here: replies,
     * pongs and publications alike, so a client that sends but never reads is bounded too. A writable
     * channel is under the mark, the common case, answered here without {@link OutboundLimit}.
     */
    private boolean withinOutboundLimit() {
        return channel.isWritable() || outboundLimit().withinHardLimit();
    }

    private OutboundLimit outboundLimit() {
        if (outboundLimit == null) {
            outboundLimit = new OutboundLimit(this, channel, services);
        }
        return outboundLimit;
    }

    @Override
    public void flush() {
        if (unflushed) {
            unflushed = false;
            frames().flush();
        }
    }

    /** Over the high water mark the client is not read and has a grace to drain ({@link OutboundLimit}). */
    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) {
        outboundLimit().writabilityChanged();
        ctx.fireChannelWritabilityChanged();
    }

    @Override
    public void send(String text) {
        if (closing == null && channel.isActive() && withinOutboundLimit()) {
            // Straight into a pooled buffer: TextWebSocketFrame(String) copies into an unpooled heap one.
            channel.writeAndFlush(new TextWebSocketFrame(ByteBufUtil.writeUtf8(channel.alloc(), text)), channel.voidPromise());
        }
    }

    @Override
    public void close(Disconnect disconnect) {
        if (closing != null) {
            return;
        }
        closing = new CloseHandshake(channel, disconnect.code());
        closing.send(disconnect);
    }

    private void onPeerClose(CloseWebSocketFrame frame) {
        if (closing != null) {
            channel.close();
            return;
        }
        closing = new CloseHandshake(channel, 1006);
        closing.answer(frame);
        if (session != null) {
            session.closed();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        Disconnect disconnect;
        if (cause instanceof CorruptedWebSocketFrameException corrupted) {
            int status = corrupted.closeStatus().code();
            disconnect = status == 1009 ? Disconnect.TOO_BIG : status == 1007 ? Disconnect.INVALID_UTF8 : Disconnect.PROTOCOL_ERROR;
        } else if (cause instanceof TooLongFrameException) {
            disconnect = Disconnect.TOO_BIG;
        } else if (cause instanceof IOException) {
            try (var ignored = MDC.putCloseable("conn", id())) {
                log.debug("I/O error: {}", cause.toString());
            }
            ctx.close();
            return;
        } else if (cause instanceof io.netty.handler.codec.PrematureChannelClosureException) {
            // The client left between the fragments of a message (the aggregator says so as the
            // channel goes inactive): its own business, counted, never a warning a client can
            // repeat at will.
            services.metrics().protocolViolation("left_mid_message");
            try (var ignored = MDC.putCloseable("conn", id())) {
                log.debug("closed in the middle of a fragmented message");
            }
            ctx.close();
            return;
        } else {
            try (var ignored = MDC.putCloseable("conn", id())) {
                log.warn("unexpected error, closing", cause);
            }
            disconnect = new Disconnect(1011, "internal error");
        }
        services.metrics().protocolViolation("frame_" + disconnect.code());
        disconnect(disconnect);
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (outboundLimit != null) {
            outboundLimit.cancel();
        }
        if (closing != null) {
            closing.cancel();
        }
        if (!opened) {
            ctx.fireChannelInactive();
            return;
        }
        Duration lived = Duration.ofNanos(System.nanoTime() - openedNanos);
        int closeCode = closing == null ? 1006 : closing.code();
        services.metrics().connections().closed(closeCode, lived);
        if (session != null) {
            session.closed();
            try (var ignored = MDC.putCloseable("conn", session.id())) {
                log.debug("closed code={} after {}", closeCode, lived);
            }
        }
        ctx.fireChannelInactive();
    }

    /**
     * The heartbeat, once per tick of the loop's sweep: a ping when one is due; after a ping, the next
     * one is due {@code max(interval, timeout)} after it once anything was read, and the connection
     * closes once the timeout passed without. False (leave the sweep) once the connection is closing.
     */
    @Override
    public boolean sweep() {
        if (closing != null || !channel.isActive()) {
            return false;
        }
        long now = System.nanoTime();
        HeartbeatConfig heartbeat = services.config().heartbeat();
        if (!pinged) {
            if (now - heartbeatNanos >= 0) {
                channel.writeAndFlush(new PingWebSocketFrame(), channel.voidPromise());
                heartbeatNanos = now;
                pinged = true;
            }
        } else if (lastReadNanos - heartbeatNanos >= 0) {
            pinged = false;
            heartbeatNanos += Math.max(heartbeat.interval().toNanos(), heartbeat.timeout().toNanos());
        } else if (now - heartbeatNanos >= heartbeat.timeout().toNanos()) {
            heartbeatTimedOut();
            return false;
        }
        return true;
    }

    private void heartbeatTimedOut() {
        services.metrics().heartbeatTimeout();
        try (var ignored = MDC.putCloseable("conn", id())) {
            log.debug("heartbeat timeout: nothing received within {} of a ping", services.config().heartbeat().timeout());
        }
        closing = new CloseHandshake(channel, Disconnect.HEARTBEAT_TIMEOUT.code());
        if (session != null) {
            session.closed();
        }
        // The peer is presumed dead: say why in case it is only slow, but do not wait for it.
        channel.writeAndFlush(new CloseWebSocketFrame(Disconnect.HEARTBEAT_TIMEOUT.code(), Disconnect.HEARTBEAT_TIMEOUT.reason()));
        channel.close();
    }

    String id() {
        return session == null ? "-" : session.id();
    }
}
