package dev.portcullis.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.zip.DataFormatException;
import java.util.zip.Deflater;
import java.util.zip.Inflater;

/**
 * permessage-deflate payloads (RFC 7692 7.2) done the way a client does them, with the JDK's zlib
 * and nothing of the gateway's: what tests send as compressed messages and how they read compressed
 * frames back.
 */
public final class Deflate {
    private Deflate() {}

    /** Raw DEFLATE with a sync flush, the trailing {@code 00 00 ff ff} removed. */
    public static byte[] compress(byte[] message) {
        Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
        try {
            deflater.setInput(message);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            int n;
            do {
                n = deflater.deflate(chunk, 0, chunk.length, Deflater.SYNC_FLUSH);
                out.write(chunk, 0, n);
            } while (n == chunk.length);
            byte[] all = out.toByteArray();
            return Arrays.copyOf(all, all.length - 4);
        } finally {
            deflater.end();
        }
    }

    /** The message a compressed payload stands for (the flush tail appended, as a receiver does). */
    public static byte[] inflate(byte[] payload) {
        Inflater inflater = new Inflater(true);
        try {
            byte[] input = Arrays.copyOf(payload, payload.length + 4);
            input[input.length - 2] = (byte) 0xff;
            input[input.length - 1] = (byte) 0xff;
            inflater.setInput(input);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] chunk = new byte[8192];
            while (!inflater.needsInput() && !inflater.finished()) {
                out.write(chunk, 0, inflater.inflate(chunk));
            }
            return out.toByteArray();
        } catch (DataFormatException e) {
            throw new AssertionError("not valid DEFLATE data", e);
        } finally {
            inflater.end();
        }
    }
}
