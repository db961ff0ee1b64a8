package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A hand-written WebSocket server that plays a script per connection: what a gateway may do but is
 * hard to make it do on cue (a {@code disconnect} hint, a recovered ack with a replay, silence, a
 * 429 with {@code Retry-After}), or what a gateway does not do yet. It checks the client side of the
 * protocol, not the gateway. Each connection runs on its own virtual thread; a script that throws
 * records the failure in {@link #failures} for the test to assert empty.
 */
final class ScriptedServer implements AutoCloseable {

    /** What to do with connection number {@code index} (from 0). */
    interface Script {
        void play(Connection connection, int index) throws Exception;
    }

    private final ServerSocket server;
    private final Script script;
    private final AtomicInteger connections = new AtomicInteger();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    /** The {@code Authorization} header of every handshake, in order. */
    final List<String> authorizations = new CopyOnWriteArrayList<>();

    ScriptedServer(Script script) throws IOException {
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.script = script;
        Thread.ofPlatform().daemon().name("scripted-server-accept").start(this::acceptLoop);
    }

    URI uri() {
        return URI.create("ws://127.0.0.1:" + server.getLocalPort() + "/ws");
    }

    int connections() {
        return connections.get();
    }

    private void acceptLoop() {
        while (!server.isClosed()) {
            try {
                Socket socket = server.accept();
                sockets.add(socket);
                int index = connections.getAndIncrement();
                Thread.ofVirtual().start(() -> {
                    try (socket) {
                        script.play(new Connection(socket, this), index);
                    } catch (Exception | AssertionError e) {
                        if (!server.isClosed()) {
                            failures.add(e);
                        }
                    }
                });
            } catch (IOException closed) {
                return;
            }
        }
    }

    @Override
    public void close() throws IOException {
        server.close();
        for (Socket socket : sockets) {
            socket.close();
        }
    }

    /** One client connection, from the raw HTTP request on. */
    static final class Connection {
        private final Socket socket;
        private final ScriptedServer server;
        private final InputStream in;
        private final OutputStream out;
        private String key;

        Connection(Socket socket, ScriptedServer server) throws IOException {
            this.socket = socket;
            this.server = server;
            this.in = socket.getInputStream();
            this.out = socket.getOutputStream();
            readRequest();
        }

        private void readRequest() throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new EOFException("request ended early");
                }
                head.write(b);
            }
            for (String line : head.toString(StandardCharsets.ISO_8859_1).split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0) {
                    String name = line.substring(0, colon).trim();
                    String value = line.substring(colon + 1).trim();
                    if (name.equalsIgnoreCase("Sec-WebSocket-Key")) {
                        key = value;
                    } else if (name.equalsIgnoreCase("Authorization")) {
                        server.authorizations.add(value);
                    }
                }
            }
        }

        /** Completes the upgrade (101). */
        void accept() throws IOException {
            String acceptKey;
            try {
                acceptKey = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1")
                        .digest((key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.ISO_8859_1)));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + acceptKey + "\r\nSec-WebSocket-Protocol: portcullis.v1\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** Refuses the upgrade with an HTTP status; {@code headers} like {@code "Retry-After: 3\r\n"}. */
        void refuse(int status, String headers) throws IOException {
            String body = "{\"error\":\"refused\",\"message\":\"scripted refusal\"}";
            out.write(("HTTP/1.1 " + status + " Refused\r\nContent-Type: application/json\r\nConnection: close\r\n" + headers
                    + "Content-Length: " + body.length() + "\r\n\r\n" + body).getBytes(StandardCharsets.ISO_8859_1));
            out.flush();
        }

        /** Accepts and greets like a gateway. */
        void acceptAndGreet(String connectionId) throws IOException {
            accept();
            send("{\"type\":\"connected\",\"connection\":\"" + connectionId + "\",\"user\":\"alice\",\"expiresAt\":"
                    + (System.currentTimeMillis() + 3_600_000) + "}");
        }

        void send(String text) throws IOException {
            writeFrame(0x1, text.getBytes(StandardCharsets.UTF_8));
        }

        void close(int code, String reason) throws IOException {
            byte[] utf8 = reason.getBytes(StandardCharsets.UTF_8);
            byte[] payload = new byte[2 + utf8.length];
            payload[0] = (byte) (code >> 8);
            payload[1] = (byte) code;
            System.arraycopy(utf8, 0, payload, 2, utf8.length);
            writeFrame(0x8, payload);
            socket.setSoTimeout(5000);
            try {
                for (int b0 = in.read(); b0 >= 0; b0 = in.read()) {
                    readPayload();
                    if ((b0 & 0x0f) == 0x8) {
                        return; // the client's answering close: the server closes the TCP connection
                    }
                }
            } catch (SocketTimeoutException | java.net.SocketException gone) {
                // done
            }
        }

        /** The next text message from the client as JSON (pings and pongs skipped, never answered); fails on close or timeout. */
        JsonNode read(Duration timeout) throws IOException {
            socket.setSoTimeout((int) timeout.toMillis());
            while (true) {
                int b0 = in.read();
                if (b0 < 0) {
                    throw new EOFException("client closed the connection");
                }
                int opcode = b0 & 0x0f;
                byte[] payload = readPayload();
                if (opcode == 0x1) {
                    return Frames.JSON.readTree(new String(payload, StandardCharsets.UTF_8));
                }
                if (opcode == 0x8) {
                    throw new EOFException("client sent close");
                }
            }
        }

        /** Reads and discards everything (pings unanswered) until the client goes away. */
        void readUntilClosed(Duration atMost) throws IOException {
            socket.setSoTimeout((int) atMost.toMillis());
            try {
                while (in.read() >= 0) {
                    // nothing: a dead peer that still holds the TCP connection
                }
            } catch (SocketTimeoutException | java.net.SocketException gone) {
                // done
            }
        }

        private byte[] readPayload() throws IOException {
            int b1 = in.read();
            long length = b1 & 0x7f;
            if (length == 126) {
                length = (in.read() << 8) | in.read();
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) {
                    length = (length << 8) | in.read();
                }
            }
            byte[] mask = (b1 & 0x80) != 0 ? in.readNBytes(4) : null;
            byte[] payload = in.readNBytes((int) length);
            if (mask != null) {
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i % 4];
                }
            }
            return payload;
        }

        private synchronized void writeFrame(int opcode, byte[] payload) throws IOException {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            frame.write(0x80 | opcode);
            if (payload.length < 126) {
                frame.write(payload.length);
            } else if (payload.length <= 0xffff) {
                frame.write(126);
                frame.write(payload.length >> 8);
                frame.write(payload.length & 0xff);
            } else {
                frame.write(127);
                for (int i = 7; i >= 0; i--) {
                    frame.write((int) ((long) payload.length >> (8 * i)) & 0xff);
                }
            }
            frame.write(payload);
            out.write(frame.toByteArray());
            out.flush();
        }
    }
}
