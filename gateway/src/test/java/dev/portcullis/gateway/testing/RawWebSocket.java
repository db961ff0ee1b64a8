package dev.portcullis.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A WebSocket client written against RFC 6455 by hand, for what a well-behaved client library will
 * not do: ignore pings, send invalid UTF-8 or oversized fragments, read a refusal's HTTP body.
 */
public final class RawWebSocket implements AutoCloseable {
    public static final int TEXT = 0x1, CONTINUATION = 0x0, BINARY = 0x2, CLOSE = 0x8, PING = 0x9, PONG = 0xA;

    /** One frame as received; {@code rsv1} is the permessage-deflate "compressed" bit. */
    public record Frame(int opcode, byte[] payload, boolean rsv1) {
        public int closeCode() {
            return payload.length >= 2 ? ((payload[0] & 0xff) << 8) | (payload[1] & 0xff) : 1005;
        }

        public String text() {
            int from = opcode == CLOSE ? Math.min(2, payload.length) : 0;
            return new String(payload, from, payload.length - from, StandardCharsets.UTF_8);
        }
    }

    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;
    private final String responseHead;

    private RawWebSocket(Socket socket, String responseHead) throws IOException {
        this.socket = socket;
        this.in = new DataInputStream(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.responseHead = responseHead;
    }

    /** Sends an upgrade request for {@code pathAndQuery}; returns whatever the server answered. */
    public static RawWebSocket open(int port, String pathAndQuery, String... extraHeaders) throws IOException {
        return open(port, 0, pathAndQuery, extraHeaders);
    }

    /**
     * As {@link #open(int, String, String...)}, with the socket's receive buffer fixed at
     * {@code receiveBufferBytes} (0: the system's default): a small one lets a client that never reads
     * back up the server's writes after little traffic.
     */
    public static RawWebSocket open(int port, int receiveBufferBytes, String pathAndQuery, String... extraHeaders) throws IOException {
        Socket socket = new Socket();
        if (receiveBufferBytes > 0) {
            socket.setReceiveBufferSize(receiveBufferBytes); // before connecting, so that the window is agreed small
        }
        socket.connect(new InetSocketAddress("127.0.0.1", port));
        socket.setSoTimeout(15_000);
        byte[] nonce = new byte[16];
        ThreadLocalRandom.current().nextBytes(nonce);
        StringBuilder request = new StringBuilder()
                .append("GET ").append(pathAndQuery).append(" HTTP/1.1\r\n")
                .append("Host: 127.0.0.1:").append(port).append("\r\n")
                .append("Upgrade: websocket\r\nConnection: Upgrade\r\n")
                .append("Sec-WebSocket-Key: ").append(Base64.getEncoder().encodeToString(nonce)).append("\r\n")
                .append("Sec-WebSocket-Version: 13\r\n");
        for (String header : extraHeaders) {
            request.append(header).append("\r\n");
        }
        request.append("\r\n");
        socket.getOutputStream().write(request.toString().getBytes(StandardCharsets.US_ASCII));
        socket.getOutputStream().flush();
        return new RawWebSocket(socket, readHead(socket.getInputStream()));
    }

    public int status() {
        return Integer.parseInt(responseHead.split(" ", 3)[1]);
    }

    public String head() {
        return responseHead;
    }

    /** The rest of the stream as text (a refusal's body; the server closes after it). */
    public String readBody() throws IOException {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }

    public void send(int opcode, byte[] payload, boolean fin) throws IOException {
        send(opcode, payload, fin, false);
    }

    /** As {@link #send(int, byte[], boolean)}, with RSV1 (permessage-deflate: the message is compressed) set or not. */
    public void send(int opcode, byte[] payload, boolean fin, boolean rsv1) throws IOException {
        out.write(frame(opcode, payload, fin, rsv1));
        out.flush();
    }

    private static byte[] frame(int opcode, byte[] payload, boolean fin) {
        return frame(opcode, payload, fin, false);
    }

    private static byte[] frame(int opcode, byte[] payload, boolean fin, boolean rsv1) {
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write((fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else if (payload.length < 65536) {
            frame.write(0x80 | 126);
            frame.write(payload.length >>> 8);
            frame.write(payload.length & 0xff);
        } else {
            frame.write(0x80 | 127);
            for (int shift = 56; shift >= 0; shift -= 8) {
                frame.write((int) ((long) payload.length >>> shift) & 0xff);
            }
        }
        byte[] mask = new byte[4];
        ThreadLocalRandom.current().nextBytes(mask);
        frame.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }

    /**
     * Writes {@code times} copies of one frame (each with its own mask) in a single write: a flood
     * that costs the test little. Blocks while the server does not read; throws once it closed.
     */
    public void sendRepeated(int opcode, byte[] payload, int times) throws IOException {
        ByteArrayOutputStream frames = new ByteArrayOutputStream();
        for (int i = 0; i < times; i++) {
            frames.writeBytes(frame(opcode, payload, true));
        }
        out.write(frames.toByteArray());
        out.flush();
    }

    public void sendText(String text) throws IOException {
        send(TEXT, text.getBytes(StandardCharsets.UTF_8), true);
    }

    /** Bytes that arrived and were not read yet (what a read would return without blocking). */
    public int available() throws IOException {
        return in.available();
    }

    /** Next frame, or null when the server closed the TCP connection. */
    public Frame read() throws IOException {
        int b0;
        try {
            b0 = in.read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("no frame within the socket timeout", e);
        }
        if (b0 < 0) {
            return null;
        }
        int b1 = in.readUnsignedByte();
        long length = b1 & 0x7f;
        if (length == 126) {
            length = in.readUnsignedShort();
        } else if (length == 127) {
            length = in.readLong();
        }
        byte[] payload = new byte[(int) length];
        in.readFully(payload);
        return new Frame(b0 & 0x0f, payload, (b0 & 0x40) != 0);
    }

    /** Reads past data frames (and ignores pings: this client never pongs) until a close frame or EOF. */
    public Frame readUntilClose() throws IOException {
        while (true) {
            Frame frame = read();
            if (frame == null || frame.opcode() == CLOSE) {
                return frame;
            }
        }
    }

    /** True when the server closed the TCP connection (EOF) within the socket timeout. */
    public boolean awaitEof() throws IOException {
        try {
            while (in.read() >= 0) {
                // discard
            }
            return true;
        } catch (EOFException e) {
            return true;
        } catch (IOException e) {
            return e.getMessage() != null && e.getMessage().contains("reset");
        }
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        return head.toString(StandardCharsets.US_ASCII);
    }
}
