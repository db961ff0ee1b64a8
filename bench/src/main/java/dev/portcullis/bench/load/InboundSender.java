package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import java.util.concurrent.TimeUnit;

/**
 * The inbound scenario's publishing for one connection: sends the same chat message again and
 * again, with at most {@code --in-flight} of them unacknowledged and at most
 * {@code --per-connection-rate} per second, records each one's ack latency, and waits as long as
 * a {@code rate_limited} error's {@code retryAfterMs} asks.
 *
 * <p>Its own class because the pacing (a ring of send times, the next allowed send) belongs to
 * publishing connections only; {@link WsConnection} tells it when the connection opened, and when
 * an ack or an error for one of its messages came.
 *
 * <p>Threads: one per publishing connection, used only on that connection's event loop.
 */
final class InboundSender {
    private final WsConnection connection;
    private final Worker worker;
    private final int index;
    private ByteBuf publishFrame;
    private long[] sentNanos;
    private int ringHead;
    private int outstanding;
    private long nextSendNanos;
    private boolean sendScheduled;

    InboundSender(WsConnection connection, Worker worker, int index) {
        this.connection = connection;
        this.worker = worker;
        this.index = index;
    }

    /** Starts (or resumes) publishing on the open connection's {@code channel}. */
    void start(Channel channel, ChannelHandlerContext ctx) {
        if (publishFrame == null) {
            // One frame per connection, masked once and resent: the server unmasks every copy as usual.
            ByteBuf frame = Frames.text(channel.alloc(), worker.publishMessage(index));
            byte[] bytes = new byte[frame.readableBytes()];
            frame.readBytes(bytes);
            frame.release();
            publishFrame = Unpooled.unreleasableBuffer(Unpooled.wrappedBuffer(bytes));
            sentNanos = new long[Math.max(1, worker.plan().inFlight())];
        }
        sendMore(ctx);
    }

    private void sendMore(ChannelHandlerContext ctx) {
        if (!worker.sending() || !connection.open() || sendScheduled) {
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

    /** An ack that is not the room subscription's: the oldest message in flight was accepted. */
    void acked(ChannelHandlerContext ctx) {
        if (outstanding > 0) {
            worker.counters().accepted.increment();
            worker.ack().recordValue((System.nanoTime() - popSent()) / 1000);
            sendMore(ctx);
        }
    }

    /** An error that is not the room subscription's: the oldest message in flight was refused; a rate limit says how long to wait. */
    void refused(ChannelHandlerContext ctx, boolean rateLimited, byte[] b, int from, int to) {
        if (outstanding > 0) {
            popSent();
            if (rateLimited) {
                long retryMs = Scan.numberAfter(b, from, to, Scan.RETRY_AFTER);
                nextSendNanos = Math.max(nextSendNanos, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.max(1, retryMs)));
            }
            sendMore(ctx);
        }
    }

    private long popSent() {
        long sent = sentNanos[ringHead];
        ringHead = (ringHead + 1) % sentNanos.length;
        outstanding--;
        return sent;
    }
}
