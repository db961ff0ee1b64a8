package dev.portcullis.gateway.transport;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * One request of {@link WarmupTraffic} to the admin listener (a backend API publish, a metrics
 * scrape) on its own connection, closed by the server ({@code Connection: close}) or after
 * {@code stallMillis}; counted in {@code answered} when the status is 2xx. Confined to its channel's
 * event loop.
 */
final class WarmupAdminRequest extends ChannelInboundHandlerAdapter {
    /** A metrics scrape. */
    static final String METRICS = "GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";

    private final String request;
    private final Consumer<Channel> track;
    private final AtomicLong answered;
    private final long stallMillis;
    private boolean seen;

    WarmupAdminRequest(String request, Consumer<Channel> track, AtomicLong answered, long stallMillis) {
        this.request = request;
        this.track = track;
        this.answered = answered;
        this.stallMillis = stallMillis;
    }

    /** A backend API publish on channel {@code warmup}, with {@code apiKey}. */
    static String publish(String apiKey) {
        String body = "{\"channel\":\"warmup\",\"data\":{\"text\":\"warm-up from the API\"}}";
        return "POST /api/publish HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + apiKey
                + "\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: " + body.length() + "\r\n\r\n" + body;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        track.accept(ctx.channel());
        ctx.executor().schedule(() -> {
            ctx.close();
        }, stallMillis, TimeUnit.MILLISECONDS);
        ctx.writeAndFlush(Unpooled.wrappedBuffer(request.getBytes(StandardCharsets.US_ASCII)));
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        try {
            if (!seen && in.readableBytes() >= 10) {
                seen = true;
                if (in.getByte(in.readerIndex() + 9) == '2') { // "HTTP/1.1 2xx"
                    answered.incrementAndGet();
                }
            }
        } finally {
            in.release();
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
