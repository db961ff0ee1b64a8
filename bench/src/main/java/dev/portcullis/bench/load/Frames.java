package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import java.util.concurrent.ThreadLocalRandom;

/** Client-to-server WebSocket frames (RFC 6455 section 5: always masked, never fragmented here). */
final class Frames {
    static final int TEXT = 0x1;
    static final int CLOSE = 0x8;
    static final int PING = 0x9;
    static final int PONG = 0xA;

    private Frames() {}

    /** A masked text frame holding {@code payload}. */
    static ByteBuf text(ByteBufAllocator alloc, byte[] payload) {
        ByteBuf frame = header(alloc, TEXT, payload.length);
        int mask = frame.getInt(frame.writerIndex() - 4);
        for (int i = 0; i < payload.length; i++) {
            frame.writeByte(payload[i] ^ (mask >>> (24 - 8 * (i & 3))));
        }
        return frame;
    }

    /** A masked control frame (pong, close) with the bytes {@code [from, to)} of {@code payload}. */
    static ByteBuf control(ByteBufAllocator alloc, int opcode, ByteBuf payload, int from, int to) {
        int length = Math.min(125, to - from);
        ByteBuf frame = header(alloc, opcode, length);
        int mask = frame.getInt(frame.writerIndex() - 4);
        for (int i = 0; i < length; i++) {
            frame.writeByte(payload.getByte(from + i) ^ (mask >>> (24 - 8 * (i & 3))));
        }
        return frame;
    }

    /** A masked close frame with a status code and no reason. */
    static ByteBuf close(ByteBufAllocator alloc, int code) {
        ByteBuf frame = header(alloc, CLOSE, 2);
        int mask = frame.getInt(frame.writerIndex() - 4);
        frame.writeByte((code >>> 8) ^ (mask >>> 24));
        frame.writeByte(code ^ (mask >>> 16));
        return frame;
    }

    private static ByteBuf header(ByteBufAllocator alloc, int opcode, int length) {
        ByteBuf frame = alloc.buffer(length + 14);
        frame.writeByte(0x80 | opcode);
        if (length < 126) {
            frame.writeByte(0x80 | length);
        } else if (length < 65536) {
            frame.writeByte(0x80 | 126);
            frame.writeShort(length);
        } else {
            frame.writeByte(0x80 | 127);
            frame.writeLong(length);
        }
        frame.writeInt(ThreadLocalRandom.current().nextInt());
        return frame;
    }
}
