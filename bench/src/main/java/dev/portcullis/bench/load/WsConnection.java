package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * One client connection, written by hand on a bare Netty channel: the HTTP upgrade request and its
 * answer, then RFC 6455 frames, with no codec objects in between. Every read is parsed in place
 * (frames and the few JSON fields we need: {@link Scan}); a frame that straddles two reads is the
 * only thing ever copied. What the connection does once open depends on its {@link Role}.
 *
 * <p>This class keeps the connection's life: the upgrade and its outcome, pings, the close
 * handshake, and how the connection ended (the counters). The framing is {@link FrameReader}'s,
 * what the gateway's messages mean {@link GatewayMessages}'.
 *
 * <p>Threading: everything runs on the channel's event loop, except what the worker reads for its
 * reports ({@link SubscriberOffsets} says how that is safe).
 *
 * <p>Closing: when we close, we send a close frame and wait for the server to close the socket (so
 * that TIME_WAIT stays on the server's side, not in our ephemeral ports), at most {@link #CLOSE_WAIT_MS}.
 */
final class WsConnection extends ChannelInboundHandlerAdapter {
    enum Role {
        /** connect: stay open, answer pings. */
        HOLD,
        /** fanout, churn: be subscribed to the channel, count deliveries and their latency. */
        SUBSCRIBE,
        /** inbound: publish into a room as fast as allowed. */
        PUBLISH,
        /** churn: open, get {@code connected}, close. */
        CHURN,
        /** reject: expect a 401 answer to the upgrade. */
        REJECT
    }

    private static final int HANDSHAKE = 1;
    private static final int OPEN = 2;
    private static final int CLOSING = 3;
    /** The upgrade was answered with something other than 101. */
    private static final int REFUSED = 4;
    private static final int DONE = 5;
    private static final int MAX_HEADER_BYTES = 16384;
    static final long CLOSE_WAIT_MS = 5000;

    private final Worker worker;
    final Role role;
    private final byte[] request;
    private Channel channel;
    private int state;
    long startNanos;
    private final FrameReader frames = new FrameReader(this);
    private int closeCode = 1006;
    private boolean weClose;
    private boolean launchReported;
    private String failure;
    private ScheduledFuture<?> timer;
    private final GatewayMessages messages;

    /** {@code index}: the global connection number (for the user name); -1 for churning connections. */
    WsConnection(Worker worker, Role role, int index, byte[] request) {
        this.worker = worker;
        this.role = role;
        this.request = request;
        this.messages = new GatewayMessages(this, worker, index);
    }

    Channel channel() {
        return channel;
    }

    /** The latest offset this subscriber received; -1 before the first, or when it is no subscriber. */
    long lastOffset() {
        return messages.lastOffset();
    }

    /** Open, and not closing: the publisher may send. */
    boolean open() {
        return state == OPEN;
    }

    boolean subscribedAndOpen() {
        return messages.subscribed() && state == OPEN;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        channel = ctx.channel();
        state = HANDSHAKE;
        worker.live(this, true);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(request), ctx.voidPromise());
        timer = ctx.executor().schedule(() -> {
            if (state == HANDSHAKE) {
                failure = "handshake_timeout";
                ctx.close();
            }
        }, worker.plan().handshakeTimeoutMs(), TimeUnit.MILLISECONDS);
        ctx.fireChannelActive();
    }

    /** The TCP connect itself failed (refused, timeout, out of files or ports). */
    void connectFailed(Throwable cause) {
        fail(Dialer.failureKind(cause));
    }

    /** Set-up failed: counted by {@code kind}. */
    void fail(String kind) {
        if (role == Role.CHURN) {
            worker.counters().churnFailed.increment();
        } else {
            worker.counters().failed.increment();
        }
        worker.counters().count("fail." + kind);
        reportLaunch(false);
    }

    /** Tells the worker, once, that this connection's set-up finished (opened, subscribed, or failed). */
    void reportLaunch(boolean ok) {
        if (!launchReported) {
            launchReported = true;
            worker.launchDone(this, ok);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf buf = frames.take(ctx, (ByteBuf) msg);
        if (state == HANDSHAKE) {
            readHandshake(ctx, buf);
        }
        if (readingFrames()) {
            frames.read(ctx, buf);
        } else if (state != HANDSHAKE) {
            buf.skipBytes(buf.readableBytes()); // a refusal's body, or anything after we gave up
        }
        frames.keep(ctx, buf);
    }

    private void readHandshake(ChannelHandlerContext ctx, ByteBuf buf) {
        int start = buf.readerIndex();
        int end = Scan.after(buf, start, buf.writerIndex(), Scan.HEADER_END);
        if (end < 0) {
            if (buf.readableBytes() > MAX_HEADER_BYTES) {
                failure = "bad_response";
                state = DONE;
                channel.close();
            }
            return;
        }
        buf.readerIndex(end);
        int status = (int) Scan.number(buf, start + 9, Math.min(end, start + 12)); // "HTTP/1.1 101 ..."
        if (status == 101 && role == Role.REJECT) {
            worker.counters().count("status.101"); // the gateway accepted a bad token
            state = OPEN;
            closeGracefully();
            return;
        }
        if (status == 101) {
            state = OPEN;
            timer.cancel(false);
            long micros = (System.nanoTime() - startNanos) / 1000;
            if (role == Role.CHURN) {
                worker.counters().churnOpened.increment();
                worker.churnHandshake().recordValue(micros);
            } else {
                worker.counters().opened.increment();
                worker.handshake().recordValue(micros);
            }
            if (role == Role.HOLD || role == Role.PUBLISH && !worker.plan().subscribeRooms()) {
                reportLaunch(true);
            }
            if (!worker.plan().target().greets()) {
                messages.onConnected(ctx); // node-ws sends nothing after the upgrade: the client speaks first
            }
            return;
        }
        state = REFUSED;
        if (role == Role.REJECT) {
            worker.handshake().recordValue((System.nanoTime() - startNanos) / 1000);
            if (status == 401) {
                worker.counters().rejected.increment();
            }
        } else if (role == Role.CHURN) {
            worker.counters().churnFailed.increment();
        } else {
            worker.counters().failed.increment();
        }
        worker.counters().count("status." + (status < 0 ? "unparsable" : status));
        // The gateway closes a refused socket itself; waiting for that keeps TIME_WAIT on its side.
        timer.cancel(false);
        timer = channel.eventLoop().schedule(() -> channel.close(), 2, TimeUnit.SECONDS);
    }

    /** The upgrade is done and the socket not yet given up: frames are read. */
    boolean readingFrames() {
        return state == OPEN || state == CLOSING;
    }

    /** The server broke the protocol: counted, and the connection closed. */
    void protocolError(ChannelHandlerContext ctx, String counter) {
        worker.counters().count(counter);
        state = DONE;
        ctx.close();
    }

    /** A whole frame from {@link FrameReader}: its opcode and payload {@code [from, to)} of {@code buf}. */
    void onFrame(ChannelHandlerContext ctx, int opcode, ByteBuf buf, int from, int to) {
        switch (opcode) {
            case Frames.TEXT -> messages.onText(ctx, buf, from, to, frames.frameBytes());
            case Frames.PING -> {
                worker.counters().pings.increment();
                if (state == OPEN) {
                    ctx.writeAndFlush(Frames.control(ctx.alloc(), Frames.PONG, buf, from, to), ctx.voidPromise());
                }
            }
            case Frames.PONG -> {}
            case Frames.CLOSE -> {
                closeCode = to - from >= 2 ? buf.getUnsignedShort(from) : 1005;
                if (state == OPEN) {
                    // The server closes (shutdown 1001, slow consumer 4009, replaced 4500...): echo, then close our side.
                    state = CLOSING;
                    ctx.writeAndFlush(Frames.close(ctx.alloc(), closeCode == 1005 ? 1000 : closeCode))
                            .addListener(ChannelFutureListener.CLOSE);
                }
                // Our own close answered: the server closes the socket next.
            }
            default -> worker.counters().count("error.unexpected_opcode_" + opcode);
        }
    }


    /** Starts (or resumes) publishing; on the event loop. */
    void startSending() {
        if (state != OPEN || role != Role.PUBLISH) {
            return;
        }
        messages.startSending(channel, channel.pipeline().context(this));
    }

    // ---- closing ------------------------------------------------------------------------------

    /** Starts our close handshake (code 1000); on the event loop. */
    void closeGracefully() {
        weClose = true;
        if (state == OPEN) {
            state = CLOSING;
            channel.writeAndFlush(Frames.close(channel.alloc(), 1000), channel.voidPromise());
            if (timer != null) {
                timer.cancel(false);
            }
            timer = channel.eventLoop().schedule(() -> channel.close(), CLOSE_WAIT_MS, TimeUnit.MILLISECONDS);
        } else if (state == HANDSHAKE || state == REFUSED) {
            channel.close();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        if (failure == null) {
            failure = Dialer.failureKind(cause);
        }
        ctx.close();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
        if (timer != null) {
            timer.cancel(false);
        }
        frames.release();
        worker.live(this, false);
        switch (state) {
            case HANDSHAKE -> {
                if (weClose) {
                    worker.counters().count("fail.aborted");
                    reportLaunch(false);
                } else {
                    fail(failure != null ? failure : "closed_before_response");
                }
            }
            case REFUSED -> reportLaunch(role == Role.REJECT);
            case OPEN, CLOSING -> {
                if (role == Role.REJECT) {
                    reportLaunch(false);
                } else if (weClose) {
                    if (role == Role.CHURN) {
                        worker.counters().churnClosed.increment();
                        reportLaunch(true);
                    } else {
                        worker.counters().closed.increment();
                    }
                } else {
                    worker.counters().lost.increment();
                    worker.counters().count("close." + closeCode);
                    if (failure != null) {
                        worker.counters().count("lost." + failure);
                    }
                    reportLaunch(false);
                }
            }
            default -> reportLaunch(false);
        }
        state = DONE;
        ctx.fireChannelInactive();
    }

    /** Publications of {@code [first, last]} this subscriber never received (after a barrier on its loop). */
    long missing(long first, long last) {
        return messages.offsets().missing(first, last);
    }

    long duplicates() {
        return messages.offsets().duplicates();
    }
}
