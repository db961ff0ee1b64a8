package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The client address behind load balancers: PROXY protocol and trusted X-Forwarded-For, as limits and the API see it. */
class ClientAddressIT {

    /** Opens a socket, sends {@code prefix} and an upgrade request, returns the status and keeps the socket open. */
    private static Socket upgrade(int port, String prefix, String token, int[] status) throws IOException {
        Socket socket = new Socket("127.0.0.1", port);
        socket.setSoTimeout(10_000);
        String request = prefix
                + "GET /ws?token=" + token + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
        socket.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
        InputStream in = socket.getInputStream();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            line.write(b);
        }
        String first = line.toString(StandardCharsets.US_ASCII);
        status[0] = first.isEmpty() ? -1 : Integer.parseInt(first.split(" ")[1]);
        return socket;
    }

    private static JsonNode connectionsOf(TestGateway gateway, String user) {
        return WsClient.json(gateway.api("GET", "/api/connections?user=" + user, null).body()).path("connections");
    }

    @Test
    void proxyProtocolGivesTheClientAddressForLimitsAndListings() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("server.proxy-protocol", "true", "limits.connections-per-ip", "1"))) {
            int port = gateway.gateway().port();
            int[] status = new int[1];
            try (Socket first = upgrade(port, "PROXY TCP4 203.0.113.7 127.0.0.1 5555 8080\r\n", Tokens.hs256("pp-1"), status)) {
                assertThat(status[0]).isEqualTo(101);
                JsonNode listed = connectionsOf(gateway, "pp-1");
                assertThat(listed.get(0).path("remote").asText()).isEqualTo("203.0.113.7:5555");
                try (Socket sameClient = upgrade(port, "PROXY TCP4 203.0.113.7 127.0.0.1 5556 8080\r\n", Tokens.hs256("pp-2"), status)) {
                    assertThat(status[0]).as("203.0.113.7 already holds its one connection").isEqualTo(429);
                }
                try (Socket otherClient = upgrade(port, "PROXY TCP4 198.51.100.4 127.0.0.1 7777 8080\r\n", Tokens.hs256("pp-3"), status)) {
                    assertThat(status[0]).as("another client behind the same balancer").isEqualTo(101);
                }
            }
            try (Socket noHeader = upgrade(port, "", Tokens.hs256("pp-4"), status)) {
                assertThat(status[0]).as("no PROXY header: dropped without an answer").isEqualTo(-1);
            }
        }
    }

    @Test
    void xForwardedForIsBelievedOnlyFromTrustedProxies() throws Exception {
        try (TestGateway trusting = TestGateway.start(Map.of("server.trusted-proxies", List.of("127.0.0.0/8", "10.0.0.0/8")))) {
            WsClient client = WsClient.attempt(trusting.uri(Tokens.hs256("xff-1")),
                    Map.of("X-Forwarded-For", "192.0.2.66, 198.51.100.9, 10.1.2.3"), List.of()).client();
            client.awaitMessage("connected");
            assertThat(connectionsOf(trusting, "xff-1").get(0).path("remote").asText())
                    .as("rightmost entry that is not a trusted proxy; the spoofable left part is ignored")
                    .isEqualTo("198.51.100.9:0");
            client.close();
        }
        try (TestGateway untrusting = TestGateway.start()) {
            WsClient client = WsClient.attempt(untrusting.uri(Tokens.hs256("xff-2")),
                    Map.of("X-Forwarded-For", "198.51.100.9"), List.of()).client();
            client.awaitMessage("connected");
            assertThat(connectionsOf(untrusting, "xff-2").get(0).path("remote").asText()).startsWith("127.0.0.1:");
            client.close();
        }
    }
}
