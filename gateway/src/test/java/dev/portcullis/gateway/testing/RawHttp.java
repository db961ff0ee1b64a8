package dev.portcullis.gateway.testing;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * HTTP/1.1 on a plain socket, for requests no client library sends (no WebSocket version, a body on
 * an upgrade, pipelining) and for checking how the server ends the connection: a clean EOF or a
 * reset. Every read has a deadline; a response that does not come fails the test with what arrived.
 */
public final class RawHttp implements AutoCloseable {
    public static final Duration WAIT = Duration.ofSeconds(10);

    /** One response; header names in lower case. */
    public record Response(int status, Map<String, String> headers, String body) {
        public String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }
    }

    private final Socket socket;
    private final InputStream in;
    private final OutputStream out;

    private RawHttp(Socket socket) throws IOException {
        this.socket = socket;
        this.in = socket.getInputStream();
        this.out = socket.getOutputStream();
    }

    /** A connection whose reads give up after {@code readTimeout}. */
    public static RawHttp connect(int port, Duration readTimeout) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout((int) readTimeout.toMillis());
        return new RawHttp(socket);
    }

    /** Sends {@code request}, reads one response and then expects the server to close cleanly. */
    public static Response exchange(int port, String request) throws IOException {
        try (RawHttp http = connect(port, WAIT)) {
            http.write(request);
            Response response = http.readResponse();
            http.awaitCleanEof();
            return response;
        }
    }

    /** The head of a WebSocket upgrade request for {@code pathAndQuery}, without the blank line that ends it. */
    public static String upgradeHead(int port, String pathAndQuery) {
        return "GET " + pathAndQuery + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n";
    }

    public void write(String ascii) throws IOException {
        out.write(ascii.getBytes(StandardCharsets.US_ASCII));
        out.flush();
    }

    public OutputStream output() {
        return out;
    }

    /** Reads a status line, headers and a {@code Content-Length} body. */
    public Response readResponse() throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        byte[] end = {'\r', '\n', '\r', '\n'};
        while (matched < 4) {
            int b = read(head);
            if (b < 0) {
                throw new AssertionError("the connection ended inside the response head: " + text(head));
            }
            head.write(b);
            matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
        }
        String[] lines = text(head).split("\r\n");
        Map<String, String> headers = new LinkedHashMap<>();
        for (int i = 1; i < lines.length; i++) {
            int colon = lines[i].indexOf(':');
            if (colon > 0) {
                headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
            }
        }
        int length = Integer.parseInt(headers.getOrDefault("content-length", "0"));
        ByteArrayOutputStream body = new ByteArrayOutputStream();
        while (body.size() < length) {
            int b = read(body);
            if (b < 0) {
                throw new AssertionError("the connection ended after " + body.size() + " of " + length + " body bytes: "
                        + text(head) + text(body));
            }
            body.write(b);
        }
        return new Response(Integer.parseInt(lines[0].split(" ", 3)[1]), headers, body.toString(StandardCharsets.UTF_8));
    }

    /** Expects the server to end the connection with a FIN (nothing more to read), not a reset. */
    public void awaitCleanEof() throws IOException {
        ByteArrayOutputStream extra = new ByteArrayOutputStream();
        int b;
        while ((b = read(extra)) >= 0) {
            extra.write(b);
        }
        if (extra.size() > 0) {
            throw new AssertionError("unexpected bytes after the response: " + text(extra));
        }
    }

    private int read(ByteArrayOutputStream soFar) throws IOException {
        try {
            return in.read();
        } catch (SocketTimeoutException e) {
            throw new AssertionError("nothing from the server within " + socket.getSoTimeout() + " ms; got so far: " + text(soFar), e);
        } catch (SocketException e) {
            throw new AssertionError("the server reset the connection (" + e.getMessage() + "); got so far: " + text(soFar), e);
        }
    }

    private static String text(ByteArrayOutputStream bytes) {
        return bytes.toString(StandardCharsets.US_ASCII);
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
