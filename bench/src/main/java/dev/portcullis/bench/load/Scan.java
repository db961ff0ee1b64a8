package dev.portcullis.bench.load;

import io.netty.buffer.ByteBuf;
import java.nio.charset.StandardCharsets;

/**
 * The receive path's JSON "parser": finds a key's bytes in a frame payload and reads the number or
 * the first characters after it, without allocating. It relies on what the gateway writes (compact
 * JSON, keys in a fixed order, our own data object), not on JSON in general: a load generator must
 * not spend its CPU on a JSON library. The hot path scans a {@code byte[]} (the head of the payload,
 * copied once into a per-thread scratch array: plain array reads, no bounds-checked buffer calls);
 * the {@link ByteBuf} forms serve the rare paths (the HTTP answer, the admin API's replies).
 */
final class Scan {
    static final byte[] TYPE = ascii("\"type\":\"");
    static final byte[] CHANNEL = ascii("\"channel\":\"");
    static final byte[] OFFSET = ascii("\"offset\":");
    static final byte[] TS = ascii("\"ts\":");
    static final byte[] ID = ascii("\"id\":\"");
    static final byte[] CODE = ascii("\"code\":\"");
    static final byte[] RETRY_AFTER = ascii("\"retryAfterMs\":");
    static final byte[] HEADER_END = ascii("\r\n\r\n");
    /** What {@link #number} returns when no digits follow. */
    static final long NONE = Long.MIN_VALUE;

    private Scan() {}

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** Bytes of a text frame the receive path looks at: every field it reads is near the start. */
    static final int HEAD_BYTES = 512;

    private static final io.netty.util.concurrent.FastThreadLocal<byte[]> SCRATCH = new io.netty.util.concurrent.FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[HEAD_BYTES];
        }
    };

    /** This thread's scratch array holding the first (up to) {@link #HEAD_BYTES} bytes of {@code [from, to)}. */
    static byte[] head(ByteBuf buf, int from, int to) {
        byte[] scratch = SCRATCH.get();
        buf.getBytes(from, scratch, 0, Math.min(HEAD_BYTES, to - from));
        return scratch;
    }

    /** The index just after the first occurrence of {@code needle} in {@code b[from, to)}, or -1. */
    static int after(byte[] b, int from, int to, byte[] needle) {
        byte first = needle[0];
        int last = to - needle.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (b[i] != first) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (b[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i + needle.length;
        }
        return -1;
    }

    /** The (optionally negative) decimal integer starting at {@code at} in {@code b}, or {@link #NONE}. */
    static long number(byte[] b, int at, int to) {
        if (at < 0 || at >= to) {
            return NONE;
        }
        boolean negative = b[at] == '-';
        int i = negative ? at + 1 : at;
        long value = 0;
        int digits = 0;
        while (i < to) {
            int c = b[i] - '0';
            if (c < 0 || c > 9) {
                break;
            }
            value = value * 10 + c;
            digits++;
            i++;
        }
        if (digits == 0) {
            return NONE;
        }
        return negative ? -value : value;
    }

    static long numberAfter(byte[] b, int from, int to, byte[] key) {
        int at = after(b, from, to, key);
        return at < 0 ? NONE : number(b, at, to);
    }

    static boolean quotedEquals(byte[] b, int at, int to, byte[] expected) {
        if (at < 0 || at + expected.length >= to) {
            return false;
        }
        for (int j = 0; j < expected.length; j++) {
            if (b[at + j] != expected[j]) {
                return false;
            }
        }
        return b[at + expected.length] == '"';
    }

    /** The string value starting at {@code at} up to the next quote (rare paths only: allocates). */
    static String quoted(byte[] b, int at, int to) {
        if (at < 0) {
            return "";
        }
        int end = at;
        while (end < to && b[end] != '"' && end - at < 64) {
            end++;
        }
        return new String(b, at, end - at, StandardCharsets.US_ASCII);
    }

    /** The index just after the first occurrence of {@code needle} in {@code [from, to)}, or -1. */
    static int after(ByteBuf buf, int from, int to, byte[] needle) {
        byte first = needle[0];
        int last = to - needle.length;
        outer:
        for (int i = from; i <= last; i++) {
            if (buf.getByte(i) != first) {
                continue;
            }
            for (int j = 1; j < needle.length; j++) {
                if (buf.getByte(i + j) != needle[j]) {
                    continue outer;
                }
            }
            return i + needle.length;
        }
        return -1;
    }

    /** The (optionally negative) decimal integer starting at {@code at}, or {@link #NONE}. */
    static long number(ByteBuf buf, int at, int to) {
        if (at < 0 || at >= to) {
            return NONE;
        }
        boolean negative = buf.getByte(at) == '-';
        int i = negative ? at + 1 : at;
        long value = 0;
        int digits = 0;
        while (i < to) {
            int c = buf.getByte(i) - '0';
            if (c < 0 || c > 9) {
                break;
            }
            value = value * 10 + c;
            digits++;
            i++;
        }
        if (digits == 0) {
            return NONE;
        }
        return negative ? -value : value;
    }

    /** The number after {@code key} in {@code [from, to)}, or {@link #NONE}. */
    static long numberAfter(ByteBuf buf, int from, int to, byte[] key) {
        int at = after(buf, from, to, key);
        return at < 0 ? NONE : number(buf, at, to);
    }

    /** A reading of the wall clock and of {@link System#nanoTime()} at the same moment. */
    private record Anchor(long wallMicros, long nanos) {
        static Anchor now() {
            java.time.Instant wall = java.time.Instant.now();
            return new Anchor(wall.getEpochSecond() * 1_000_000L + wall.getNano() / 1000, System.nanoTime());
        }
    }

    private static volatile Anchor anchor = Anchor.now();

    /**
     * Wall-clock time in microseconds since the epoch, comparable across the generator's processes
     * (publish-to-receive latency subtracts one process's reading from another's). Read as the
     * monotonic clock's distance from an anchor, because {@code Instant.now()} allocates on every
     * delivery; {@link #reanchor()} once a second bounds the drift between the two clocks.
     */
    static long wallMicros() {
        Anchor a = anchor;
        return a.wallMicros + (System.nanoTime() - a.nanos) / 1000;
    }

    static void reanchor() {
        anchor = Anchor.now();
    }
}
