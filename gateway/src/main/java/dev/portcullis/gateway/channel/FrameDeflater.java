package dev.portcullis.gateway.channel;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocal;
import java.nio.ByteBuffer;
import java.util.zip.Deflater;

/**
 * Compresses one message payload into a complete permessage-deflate frame (RFC 7692: FIN, RSV1 and
 * the text opcode, then the raw DEFLATE data with the {@code 00 00 ff ff} of the final sync flush
 * removed, 7.2.1). The gateway negotiates {@code server_no_context_takeover}, so every message is
 * compressed on its own: the frame does not depend on what a connection received before, and one
 * frame can go to every compressing subscriber of a publication.
 *
 * <p>Threading: one {@link Deflater} per thread, reset before each message. Publications are
 * compressed on the event loop of the first compressing subscriber that delivers them, so this is
 * one deflater (about 256 KiB of zlib state) per event loop, never one per connection.
 *
 * <p>Messages under {@link #MIN_PAYLOAD_BYTES} are not compressed (RFC 7692 lets the sender choose
 * per message): below that the saving is a few bytes of a frame that is mostly TCP/IP header anyway,
 * and a one-subscriber channel pays a compression per delivery (the measurement is in BENCHMARKS.md,
 * "Compressed fan-out"). A message that does not get smaller is not compressed either.
 */
public final class FrameDeflater {
    /** Payloads shorter than this go out plain (see the class comment). */
    public static final int MIN_PAYLOAD_BYTES = 128;
    /** zlib's level 6 (its default): on JSON it compresses nearly as well as 9 for much less CPU. */
    static final int LEVEL = 6;
    private static final int MAX_HEADER = 10;
    private static final int FLUSH_TAIL = 4;
    private static final byte[] NOTHING = new byte[0];

    private static final FastThreadLocal<Deflater> DEFLATERS = new FastThreadLocal<>() {
        @Override
        protected Deflater initialValue() {
            return new Deflater(LEVEL, true); // raw DEFLATE: RFC 7692 has no zlib header or checksum
        }

        @Override
        protected void onRemoval(Deflater deflater) {
            deflater.end();
        }
    };

    private FrameDeflater() {}

    /**
     * The compressed frame for {@code payload} (which is not consumed), or null when it stays plain:
     * too short, or not smaller compressed. The caller owns the returned buffer.
     */
    public static ByteBuf deflate(ByteBufAllocator alloc, ByteBuf payload) {
        int length = payload.readableBytes();
        if (length < MIN_PAYLOAD_BYTES) {
            return null;
        }
        Deflater deflater = DEFLATERS.get();
        deflater.reset();
        deflater.setInput(payload.nioBuffer());
        // Room for as many bytes as the plain payload plus the flush tail: output that does not fit
        // would not be smaller, so it is not worth finishing.
        ByteBuf frame = alloc.directBuffer(MAX_HEADER + length + FLUSH_TAIL);
        try {
            ByteBuffer out = frame.nioBuffer(MAX_HEADER, length + FLUSH_TAIL);
            deflater.deflate(out, Deflater.SYNC_FLUSH);
            int produced = out.position();
            // SYNC_FLUSH fills the buffer exactly when it had more to say: then it is not smaller.
            if (!out.hasRemaining() || produced <= FLUSH_TAIL || !endsWithFlushTail(frame, MAX_HEADER + produced)) {
                frame.release();
                return null;
            }
            int compressed = produced - FLUSH_TAIL;
            if (compressed >= length) {
                frame.release();
                return null;
            }
            int header = Publication.header(compressed);
            int start = MAX_HEADER - header;
            frame.writerIndex(MAX_HEADER + compressed);
            frame.readerIndex(start);
            Publication.setHeader(frame, start, 0xC1, compressed); // FIN + RSV1 (compressed) + text
            return frame;
        } catch (RuntimeException e) {
            frame.release();
            throw e;
        } finally {
            deflater.setInput(NOTHING); // drop the reference to the payload's memory (a reset would clear zlib's 64 KiB hash table twice per message)
        }
    }

    private static boolean endsWithFlushTail(ByteBuf frame, int end) {
        return frame.getInt(end - FLUSH_TAIL) == 0x0000ffff;
    }
}
