package dev.portcullis.gateway.transport;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The client side of the wire format for {@link WarmupTraffic}, on raw bytes: the fixed frames its
 * connections send (masked, as a browser's are) and the end of an HTTP head. Cheap next to the
 * server, whose code is what the traffic warms. Immutable; the arrays are never written after
 * class initialisation (each send wraps them in a fresh buffer).
 */
final class WarmupFrames {
    /**
     * The masking key of every frame sent. Not zero: a real client's random key makes the server
     * unmask every payload byte, and a zero key (which it may skip) would leave that loop cold.
     * Declared before the frames below, which are masked with it.
     */
    private static final byte[] MASK = {(byte) 0x5A, (byte) 0xC3, 0x1E, (byte) 0x96};
    static final byte[] SUBSCRIBE = subscribe("warmup");
    static final byte[] PUBLISH = frame("{\"type\":\"publish\",\"id\":\"p\",\"channel\":\"warmup\",\"data\":{\"text\":\"warm-up\"}}");
    static final byte[] PING = frame("{\"type\":\"ping\",\"id\":\"g\"}");
    static final byte[] CLOSE = masked((byte) 0x88, new byte[] {0x03, (byte) 0xE8}); // 1000
    static final byte[] PONG = masked((byte) 0x8A, new byte[0]);

    private WarmupFrames() {}

    /** The index after the blank line ending the HTTP head, or -1. */
    static int headerEnd(ByteBuf buf) {
        for (int i = buf.readerIndex(); i + 3 < buf.writerIndex(); i++) {
            if (buf.getByte(i) == '\r' && buf.getByte(i + 1) == '\n' && buf.getByte(i + 2) == '\r' && buf.getByte(i + 3) == '\n') {
                return i + 4;
            }
        }
        return -1;
    }

    static byte[] subscribe(String channel) {
        return frame("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"" + channel + "\"}");
    }

    /** A client text frame. */
    static byte[] frame(String text) {
        return masked((byte) 0x81, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A client frame: {@code first} (FIN and opcode), the length, {@link #MASK}, the masked payload (under 64 KiB). */
    static byte[] masked(byte first, byte[] payload) {
        int lengthBytes = payload.length < 126 ? 0 : 2;
        int header = 2 + lengthBytes + MASK.length;
        byte[] frame = new byte[header + payload.length];
        frame[0] = first;
        if (lengthBytes == 0) {
            frame[1] = (byte) (0x80 | payload.length);
        } else {
            frame[1] = (byte) (0x80 | 126);
            frame[2] = (byte) (payload.length >>> 8);
            frame[3] = (byte) payload.length;
        }
        System.arraycopy(MASK, 0, frame, 2 + lengthBytes, MASK.length);
        for (int i = 0; i < payload.length; i++) {
            frame[header + i] = (byte) (payload[i] ^ MASK[i & 3]);
        }
        return frame;
    }
}
