package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.metrics.CompressionMetrics;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.codec.http.websocketx.BinaryWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.netty.handler.codec.http.websocketx.TextWebSocketFrame;
import io.netty.handler.codec.http.websocketx.WebSocketCloseStatus;
import io.netty.handler.codec.http.websocketx.WebSocketFrame;
import io.netty.handler.codec.http.websocketx.extensions.WebSocketExtension;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.ByteBuffer;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Inflates a client's compressed messages (permessage-deflate, RFC 7692) on a connection that
 * negotiated it. It sits after the frame aggregator, so a fragmented compressed message arrives here
 * whole (RSV1 set on its first frame only, 6.1; the {@link ReservedBits} check before the aggregator
 * enforces that) and is inflated in one go.
 *
 * <p>No zlib state per connection: the gateway negotiated {@code client_no_context_takeover}, so each
 * message inflates on its own, with the event loop's one {@link Inflater}, reset per message. The
 * inflated size is capped by {@code limits.max-message-bytes}: output is produced in chunks of at
 * most {@link #CHUNK} bytes and inflation stops as soon as it passes the cap, closing with 1009, so a
 * small frame that would inflate to gigabytes (a decompression bomb) costs at most the cap plus one
 * byte of output. Corrupt data closes with 1002. After either, further messages are dropped unread.
 *
 * <p>Threading: one instance per connection, on its event loop.
 */
final class InflateHandler extends ChannelInboundHandlerAdapter {
    static final int CHUNK = 16 * 1024;
    private static final ByteBuffer FLUSH_TAIL = ByteBuffer.wrap(new byte[] {0, 0, (byte) 0xff, (byte) 0xff}).asReadOnlyBuffer();

    private static final FastThreadLocal<Inflater> INFLATERS = new FastThreadLocal<>() {
        @Override
        protected Inflater initialValue() {
            return new Inflater(true); // raw DEFLATE, any window up to 15 bits
        }

        @Override
        protected void onRemoval(Inflater inflater) {
            inflater.end();
        }
    };

    private final int maxMessageBytes;
    private final CompressionMetrics metrics;
    private boolean failed;

    InflateHandler(int maxMessageBytes, CompressionMetrics metrics) {
        this.maxMessageBytes = maxMessageBytes;
        this.metrics = metrics;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof WebSocketFrame frame) || !(frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (failed) {
            frame.release();
            return;
        }
        if ((frame.rsv() & WebSocketExtension.RSV1) == 0) {
            ctx.fireChannelRead(frame);
            return;
        }
        ByteBuf inflated;
        try {
            inflated = inflate(ctx.alloc(), frame.content());
        } catch (CorruptedWebSocketFrameException e) {
            failed = true;
            ctx.fireExceptionCaught(e);
            return;
        } finally {
            frame.release();
        }
        ctx.fireChannelRead(frame instanceof TextWebSocketFrame ? new TextWebSocketFrame(true, 0, inflated) : new BinaryWebSocketFrame(true, 0, inflated));
    }

    /** The message's text; the compressed input is read but not released. */
    ByteBuf inflate(ByteBufAllocator alloc, ByteBuf compressed) {
        Inflater inflater = INFLATERS.get();
        inflater.reset();
        ByteBuf out = alloc.heapBuffer(Math.min(CHUNK, maxMessageBytes + 1), maxMessageBytes + 1);
        try {
            for (ByteBuffer input : compressed.nioBuffers()) {
                inflateAll(inflater, input, out);
            }
            inflateAll(inflater, FLUSH_TAIL.duplicate(), out);
            metrics.inflated(out.writerIndex());
            return out;
        } catch (DataFormatException | RuntimeException e) {
            metrics.inflated(out.writerIndex());
            out.release();
            throw e instanceof RuntimeException unchecked
                    ? unchecked
                    : new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR, "invalid compressed data");
        } finally {
            inflater.reset(); // drop the reference to the frame's memory
        }
    }

    /**
     * Feeds {@code input} and inflates until the inflater wants more input (or the stream ended),
     * never more than {@link #CHUNK} bytes at a time nor past the cap.
     */
    private void inflateAll(Inflater inflater, ByteBuffer input, ByteBuf out) throws DataFormatException {
        if (inflater.finished()) {
            return; // a final block ended the message: what follows (the flush tail) is not read
        }
        inflater.setInput(input);
        while (true) {
            int room = maxMessageBytes + 1 - out.writerIndex();
            if (room <= 0) {
                throw new CorruptedWebSocketFrameException(WebSocketCloseStatus.MESSAGE_TOO_BIG,
                        "message inflates past " + maxMessageBytes + " bytes");
            }
            int chunk = Math.min(CHUNK, room);
            out.ensureWritable(chunk);
            int n = inflater.inflate(out.array(), out.arrayOffset() + out.writerIndex(), chunk);
            out.writerIndex(out.writerIndex() + n);
            if (n == 0) {
                if (inflater.needsInput() || inflater.finished()) {
                    return;
                }
                if (inflater.needsDictionary()) {
                    throw new DataFormatException("a preset dictionary is not part of permessage-deflate");
                }
            }
        }
    }

    /**
     * Before the aggregator, where fragments are still apart: RSV1 only on the first frame of a text
     * or binary message (RFC 7692 6.1), never on a control frame or a continuation, and RSV2/RSV3
     * never (nothing negotiated them). Anything else closes with 1002. The frame decoder lets every
     * reserved bit through once extensions are allowed, so this is where they are checked.
     */
    static final class ReservedBits extends ChannelInboundHandlerAdapter {
        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof WebSocketFrame frame && frame.rsv() != 0
                    && !(frame.rsv() == WebSocketExtension.RSV1 && (frame instanceof TextWebSocketFrame || frame instanceof BinaryWebSocketFrame))) {
                frame.release();
                ctx.fireExceptionCaught(new CorruptedWebSocketFrameException(WebSocketCloseStatus.PROTOCOL_ERROR,
                        "RSV1 is allowed on the first frame of a data message only"));
                return;
            }
            ctx.fireChannelRead(msg);
        }
    }
}
