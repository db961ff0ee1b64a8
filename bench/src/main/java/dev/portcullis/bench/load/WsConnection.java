package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;

/**
 * One client connection, written by hand on a bare Netty channel: the HTTP upgrade request and its
 * answer, then RFC 6455 frames, with no codec objects in between. Every read is parsed in place
 * (frames and the few JSON fields we need: {@link Scan}); a frame that straddles two reads is the
 * only thing ever copied. What the connection does once open depends on its {@link Role}.
 *
 * <p>Threading: everything runs on the channel's event loop, except the fields the worker reads for
 * its reports ({@link #lastOffset} is volatile; the loss count is read after a barrier on every loop).
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
    private static final long MAX_FRAME_BYTES = 16 << 20;
    static final long CLOSE_WAIT_MS = 5000;
    private static final byte[] SUBSCRIBE_ID = Scan.ascii("s");

    private final Worker worker;
    final Role role;
    /** Global connection number (for the user name); -1 for churning connections. */
    private final int index;
    private final byte[] request;
    private Channel channel;
    private int state;
    long startNanos;
    private ByteBuf cumulation;
    private int closeCode = 1006;
    private boolean weClose;
    private boolean launchReported;
    private String failure;
    private ScheduledFuture<?> timer;
    /** Header and payload bytes of the frame being handled, as it came over the wire. */
    private int frameBytes;

    // SUBSCRIBE and PUBLISH with room subscriptions
    private boolean subscribed;
    volatile long lastOffset = -1;
    private long firstOffset = -1;
    private long gaps;
    private long duplicates;

    // PUBLISH
    private ByteBuf publishFrame;
    private long[] sentNanos;
    private int ringHead;
    private int outstanding;
    private long nextSendNanos;
    private boolean sendScheduled;

    WsConnection(Worker worker, Role role, int index, byte[] request) {
        this.worker = worker;
        this.role = role;
        this.index = index;
        this.request = request;
    }

    Channel channel() {
        return channel;
    }

    long lastOffset() {
        return lastOffset;
    }

    boolean subscribedAndOpen() {
        return subscribed && state == OPEN;
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

    private void fail(String kind) {
        if (role == Role.CHURN) {
            worker.counters().churnFailed.increment();
        } else {
            worker.counters().failed.increment();
        }
        worker.counters().count("fail." + kind);
        reportLaunch(false);
    }

    private void reportLaunch(boolean ok) {
        if (!launchReported) {
            launchReported = true;
            worker.launchDone(this, ok);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        ByteBuf buf;
        if (cumulation == null) {
            buf = in;
        } else {
            if (cumulation.writableBytes() < in.readableBytes()) {
                ByteBuf bigger = ctx.alloc().buffer(Math.max(cumulation.readableBytes() + in.readableBytes(), 2 * cumulation.capacity()));
                bigger.writeBytes(cumulation);
                cumulation.release();
                cumulation = bigger;
            }
            cumulation.writeBytes(in);
            in.release();
            buf = cumulation;
        }
        if (state == HANDSHAKE) {
            readHandshake(ctx, buf);
        }
        if (state == OPEN || state == CLOSING) {
            readFrames(ctx, buf);
        } else if (state != HANDSHAKE) {
            buf.skipBytes(buf.readableBytes()); // a refusal's body, or anything after we gave up
        }
        if (!buf.isReadable()) {
            buf.release();
            cumulation = null;
        } else if (buf != cumulation) {
            cumulation = ctx.alloc().buffer(Math.max(256, buf.readableBytes() * 2));
            cumulation.writeBytes(buf);
            buf.release();
        } else {
            cumulation.discardSomeReadBytes();
        }
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
                onConnected(ctx); // node-ws sends nothing after the upgrade: the client speaks first
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

    private void readFrames(ChannelHandlerContext ctx, ByteBuf buf) {
        while (state == OPEN || state == CLOSING) {
            int readable = buf.readableBytes();
            if (readable < 2) {
                return;
            }
            int i = buf.readerIndex();
            int b0 = buf.getUnsignedByte(i);
            int b1 = buf.getUnsignedByte(i + 1);
            long length = b1 & 0x7f;
            int header = 2;
            if (length == 126) {
                if (readable < 4) {
                    return;
                }
                length = buf.getUnsignedShort(i + 2);
                header = 4;
            } else if (length == 127) {
                if (readable < 10) {
                    return;
                }
                length = buf.getLong(i + 2);
                header = 10;
            }
            if ((b1 & 0x80) != 0 || length > MAX_FRAME_BYTES || length < 0) {
                worker.counters().count("error.bad_frame"); // servers never mask (RFC 6455 5.1)
                state = DONE;
                ctx.close();
                return;
            }
            if (readable < header + length) {
                return;
            }
            int from = i + header;
            int to = from + (int) length;
            frameBytes = header + (int) length;
            if ((b0 & 0x40) != 0 && (b0 & 0x0f) == Frames.TEXT) {
                ByteBuf plain = Inflation.inflate(ctx.alloc(), buf, from, to); // permessage-deflate: RSV1 = compressed
                if (plain == null) {
                    worker.counters().count("error.bad_compressed_frame");
                    state = DONE;
                    ctx.close();
                    return;
                }
                try {
                    onFrame(ctx, Frames.TEXT, plain, plain.readerIndex(), plain.writerIndex());
                } finally {
                    plain.release();
                }
            } else {
                onFrame(ctx, b0 & 0x0f, buf, from, to);
            }
            buf.readerIndex(to);
        }
    }

    private void onFrame(ChannelHandlerContext ctx, int opcode, ByteBuf buf, int from, int to) {
        switch (opcode) {
            case Frames.TEXT -> onText(ctx, buf, from, to);
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

    private void onText(ChannelHandlerContext ctx, ByteBuf buf, int from, int to) {
        byte[] b = Scan.head(buf, from, to);
        int end = Math.min(Scan.HEAD_BYTES, to - from);
        int type = Scan.after(b, 0, end, Scan.TYPE);
        byte t = type < 0 || type >= end ? 0 : b[type];
        switch (t) {
            case 'm' -> onMessage(b, type, end);
            case 'c' -> onConnected(ctx);
            case 'a' -> onAck(ctx, b, type, end);
            case 's' -> onSubscribed(); // node-ws: {"type":"subscribed","channel":...}
            case 'e' -> onError(ctx, b, type, end);
            case 'r' -> onReauth(ctx);
            case 'd' -> worker.counters().count("message.disconnect");
            case 'p' -> {}
            default -> worker.counters().otherMessages.increment();
        }
    }

    /** A publication: the fan-out channel's are counted for delivery rate, gaps and latency. */
    private void onMessage(byte[] b, int from, int to) {
        if (role != Role.SUBSCRIBE) {
            if (role == Role.PUBLISH) {
                worker.counters().count("room_deliveries");
            } else {
                worker.counters().otherMessages.increment();
            }
            return;
        }
        int channelAt = Scan.after(b, from, to, Scan.CHANNEL);
        if (!Scan.quotedEquals(b, channelAt, to, worker.channelBytes())) {
            worker.counters().otherMessages.increment(); // e.g. the personal channel
            return;
        }
        long offset = Scan.numberAfter(b, channelAt, to, worker.sequenceKey());
        long last = lastOffset;
        if (last < 0) {
            firstOffset = offset;
        } else if (offset > last + 1) {
            gaps += offset - last - 1;
        } else if (offset <= last) {
            duplicates++;
            worker.counters().count("duplicates");
            return;
        }
        lastOffset = offset;
        worker.counters().deliveries.increment();
        worker.counters().deliveryBytes.add(frameBytes);
        long sentMicros = Scan.numberAfter(b, channelAt, to, Scan.TS);
        if (sentMicros != Scan.NONE && sentMicros >= worker.measureFromMicros()) {
            worker.delivery().recordValue(Math.max(0, Scan.wallMicros() - sentMicros));
        }
    }

    private void onConnected(ChannelHandlerContext ctx) {
        switch (role) {
            case SUBSCRIBE -> {
                if (worker.plan().autoSubscribe()) {
                    subscribedNow(); // the gateway joins automatic channels before it sends connected
                } else {
                    send(ctx, worker.subscribeMessage());
                }
            }
            case PUBLISH -> {
                if (worker.plan().subscribeRooms()) {
                    send(ctx, worker.roomSubscribeMessage(index));
                }
                if (worker.sending()) {
                    startSending();
                }
            }
            case CHURN -> {
                long hold = worker.plan().churnHoldMs();
                if (hold <= 0) {
                    closeGracefully();
                } else {
                    ctx.executor().schedule(this::closeGracefully, hold, TimeUnit.MILLISECONDS);
                }
            }
            default -> {}
        }
    }

    private void onSubscribed() {
        if (role == Role.SUBSCRIBE && !worker.plan().target().acksSubscribeById()) {
            subscribedNow();
        } else {
            worker.counters().otherMessages.increment();
        }
    }

    private void subscribedNow() {
        if (!subscribed) {
            subscribed = true;
            worker.counters().subscribed.increment();
            reportLaunch(true);
        }
    }

    private void onAck(ChannelHandlerContext ctx, byte[] b, int from, int to) {
        int id = Scan.after(b, from, to, Scan.ID);
        if (Scan.quotedEquals(b, id, to, SUBSCRIBE_ID)) {
            subscribedNow();
            return;
        }
        if (role == Role.PUBLISH && outstanding > 0) {
            worker.counters().accepted.increment();
            worker.ack().recordValue((System.nanoTime() - popSent()) / 1000);
            sendMore(ctx);
        }
    }

    private void onError(ChannelHandlerContext ctx, byte[] b, int from, int to) {
        int id = Scan.after(b, from, to, Scan.ID);
        int codeAt = Scan.after(b, from, to, Scan.CODE);
        boolean rateLimited = codeAt > 0 && codeAt + 1 < to && b[codeAt] == 'r' && b[codeAt + 1] == 'a';
        if (rateLimited) {
            worker.counters().rateLimited.increment();
        } else {
            worker.counters().count("error." + Scan.quoted(b, codeAt, to));
        }
        if (Scan.quotedEquals(b, id, to, SUBSCRIBE_ID)) {
            fail("subscribe_" + Scan.quoted(b, codeAt, to));
            return;
        }
        if (role == Role.PUBLISH && outstanding > 0) {
            popSent();
            if (rateLimited) {
                long retryMs = Scan.numberAfter(b, from, to, Scan.RETRY_AFTER);
                nextSendNanos = Math.max(nextSendNanos, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, retryMs)));
            }
            sendMore(ctx);
        }
    }

    private void onReauth(ChannelHandlerContext ctx) {
        String token = worker.freshToken(index);
        if (token == null) {
            worker.counters().count("reauth_unanswered");
            return;
        }
        worker.counters().reauths.increment();
        send(ctx, ("{\"type\":\"auth\",\"token\":\"" + token + "\"}").getBytes(StandardCharsets.US_ASCII));
    }

    private void send(ChannelHandlerContext ctx, byte[] text) {
        ctx.writeAndFlush(Frames.text(ctx.alloc(), text), ctx.voidPromise());
    }

    // ---- inbound publishing -------------------------------------------------------------------

    /** Starts (or resumes) publishing; on the event loop. */
    void startSending() {
        if (state != OPEN || role != Role.PUBLISH) {
            return;
        }
        if (publishFrame == null) {
            // One frame per connection, masked once and resent: the server unmasks every copy as usual.
            ByteBuf frame = Frames.text(channel.alloc(), worker.publishMessage(index));
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            frame.release();
            publishFrame = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes));
            sentNanos = new long[Math.max(1, worker.plan().inFlight())];
        }
        sendMore(channel.pipeline().context(this));
    }

    private void sendMore(ChannelHandlerContext ctx) {
        if (!worker.sending() || state != OPEN || sendScheduled) {
            return;
        }
        double rate = worker.plan().perConnectionRate();
        long interval = rate > 0 ? (long) (1e9 / rate) : 0;
        while (outstanding < sentNanos.length) {
            long now = System.nanoTime();
            if (nextSendNanos - now > 0) {
                sendScheduled = true;
                ctx.executor().schedule(() -> {
                    sendScheduled = false;
                    sendMore(ctx);
                }, nextSendNanos - now, TimeUnit.NANOSECONDS);
                return;
            }
            sentNanos[(ringHead + outstanding) % sentNanos.length] = now;
            outstanding++;
            nextSendNanos = Math.max(nextSendNanos, now - interval) + interval; // no catch-up bursts
            worker.counters().sent.increment();
            ctx.writeAndFlush(publishFrame.duplicate(), ctx.voidPromise());
        }
    }

    private long popSent() {
        long sent = sentNanos[ringHead];
        ringHead = (ringHead + 1) % sentNanos.length;
        outstanding--;
        return sent;
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
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
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
        long seen = lastOffset;
        if (seen < 0) {
            return last - first + 1;
        }
        return Math.max(0, firstOffset - first) + gaps + Math.max(0, last - seen);
    }

    long duplicates() {
        return duplicates;
    }
}
