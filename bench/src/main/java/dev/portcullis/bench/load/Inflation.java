package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.util.concurrent.FastThreadLocal;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * The client's side of permessage-deflate (RFC 7692) for {@code --deflate}: a compressed message's
 * payload with {@code 00 00 ff ff} appended, inflated on its own. The gateway answers with
 * {@code server_no_context_takeover}, so no window is kept between messages and one inflater per
 * event loop, reset per message, is enough. Threading: event loops only.
 */
final class Inflation {
    private static final byte[] TAIL = {0, 0, (byte) 0xff, (byte) 0xff};
    private static final int MAX_BYTES = 16 << 20;
    private static final FastThreadLocal<Inflater> INFLATERS = new FastThreadLocal<>() {
        @Override
        protected Inflater initialValue() {
            return new Inflater(true);
        }

        @Override
        protected void onRemoval(Inflater inflater) {
            inflater.end();
        }
    };

    private Inflation() {}

    /** The inflated message (the caller releases it), or null when the data is corrupt or past 16 MiB. */
    static ByteBuf inflate(ByteBufAllocator alloc, ByteBuf buf, int from, int to) {
        Inflater inflater = INFLATERS.get();
        inflater.reset();
        ByteBuf out = alloc.heapBuffer(Math.max(256, (to - from) * 4));
        try {
            inflater.setInput(buf.nioBuffer(from, to - from));
            if (!drain(inflater, out)) {
                inflater.setInput(TAIL);
                drain(inflater, out);
            }
            return out;
        } catch (DataFormatException | IndexOutOfBoundsException e) {
            out.release();
            return null;
        } finally {
            inflater.reset();
        }
    }

    /** Inflates what the input gives; true when the stream ended (a final block). */
    private static boolean drain(Inflater inflater, ByteBuf out) throws DataFormatException {
        while (true) {
            if (out.writableBytes() < 1024) {
                if (out.capacity() >= MAX_BYTES) {
                    throw new IndexOutOfBoundsException("inflates past 16 MiB");
                }
                out.capacity(Math.min(MAX_BYTES, out.capacity() * 2));
            }
            int n = inflater.inflate(out.array(), out.arrayOffset() + out.writerIndex(), out.writableBytes());
            out.writerIndex(out.writerIndex() + n);
            if (inflater.finished()) {
                return true;
            }
            if (n == 0 && inflater.needsInput()) {
                return false;
            }
            if (n == 0 && inflater.needsDictionary()) {
                throw new DataFormatException("preset dictionary");
            }
        }
    }
}
