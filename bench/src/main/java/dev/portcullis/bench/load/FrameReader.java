package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;

/**
 * The raw RFC 6455 side of a {@link WsConnection}'s reads: keeps the bytes of a frame (or of the
 * upgrade answer) that straddles two reads, finds the whole frames in a read by their headers,
 * inflates the compressed ones (permessage-deflate) and hands each to the connection as opcode and
 * payload range, parsed in place. Nothing is copied except a straddling remainder.
 *
 * <p>Its own class because framing knows nothing of what the frames mean: the connection's
 * protocol state (handshake, subscribe, publish, close) stays in {@link WsConnection}, which this
 * asks only whether frames are still wanted and tells what arrived.
 *
 * <p>Threads: one per connection, used only on that connection's event loop, like the connection.
 */
final class FrameReader {
    private static final long MAX_FRAME_BYTES = 16 << 20;

    private final WsConnection connection;
    private ByteBuf cumulation;
    /** Header and payload bytes of the frame being handled, as it came over the wire. */
    private int frameBytes;

    FrameReader(WsConnection connection) {
        this.connection = connection;
    }

    /** The bytes to parse: {@code in} itself, or {@code in} appended to what the previous read left (which takes it over). */
    ByteBuf take(ChannelHandlerContext ctx, ByteBuf in) {
        if (cumulation == null) {
            return in;
        }
        if (cumulation.writableBytes() < in.readableBytes()) {
            ByteBuf bigger = ctx.alloc().buffer(Math.max(cumulation.readableBytes() + in.readableBytes(), 2 * cumulation.capacity()));
            bigger.writeBytes(cumulation);
            cumulation.release();
            cumulation = bigger;
        }
        cumulation.writeBytes(in);
        in.release();
        return cumulation;
    }

    /** After parsing {@code buf} (from {@link #take}): keeps what is left unread for the next read, releases the rest. */
    void keep(ChannelHandlerContext ctx, ByteBuf buf) {
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

    /** The connection is gone: drops a partial frame. */
    void release() {
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    /** The size on the wire of the frame being handed over (for bytes per delivery). */
    int frameBytes() {
        return frameBytes;
    }

    /** Hands every whole frame in {@code buf} to the connection, as long as it still reads frames. */
    void read(ChannelHandlerContext ctx, ByteBuf buf) {
        while (connection.readingFrames()) {
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
                connection.protocolError(ctx, "error.bad_frame"); // servers never mask (RFC 6455 5.1)
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
                    connection.protocolError(ctx, "error.bad_compressed_frame");
                    return;
                }
                try {
                    connection.onFrame(ctx, Frames.TEXT, plain, plain.readerIndex(), plain.writerIndex());
                } finally {
                    plain.release();
                }
            } else {
                connection.onFrame(ctx, b0 & 0x0f, buf, from, to);
            }
            buf.readerIndex(to);
        }
    }
}
