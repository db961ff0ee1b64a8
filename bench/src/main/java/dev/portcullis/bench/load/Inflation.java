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

    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[4096];
        }
    };

    private Inflation() {}

    /** The inflated message (the caller releases it), or null when the data is corrupt or past 16 MiB. */
    static ByteBuf inflate(ByteBufAllocator alloc, ByteBuf buf, int from, int to) {
        // One copy of the (short) payload with the tail appended makes one input and few JNI calls:
        // this runs for every delivery, and the generator must stay cheaper than the gateway.
        int length = to - from;
        byte[] input = SCRATCH.get();
        if (input.length < length + TAIL.length) {
            input = new byte[Math.max(length + TAIL.length, 2 * input.length)];
            SCRATCH.set(input);
        }
        buf.getBytes(from, input, 0, length);
        System.arraycopy(TAIL, 0, input, length, TAIL.length);
        Inflater inflater = INFLATERS.get();
        inflater.reset();
        inflater.setInput(input, 0, length + TAIL.length);
        ByteBuf out = alloc.heapBuffer(length * 4 + 256);
        try {
            drain(inflater, out);
            return out;
        } catch (DataFormatException | IndexOutOfBoundsException e) {
            out.release();
            return null;
        }
    }

    /** Inflates what the input gives; true when the stream ended (a final block). */
    private static boolean drain(Inflater inflater, ByteBuf out) throws DataFormatException {
        while (true) {
            if (!out.isWritable()) {
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
