package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.portcullis.gateway.testing.RawHttp;
import dev.portcullis.gateway.testing.RawWebSocket;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * Regression tests for the hardening review: clients that misbehave at the socket level (stop
 * reading, flood pings, hold idle sockets, send odd handshakes, reset, pipeline) and a few edges of
 * the handshake and close. Each test fails against the gateway as it was before the fixes and passes
 * now. Deadlines are generous upper bounds for a busy machine, never measurements.
 */
class HardeningIT {
    private static final String KEY = "dGhlIHNhbXBsZSBub25jZQ==";
    private static final byte[] PING_PAYLOAD = new byte[125];

    @Test
    void aPeerThatClosesAndThenStopsReadingIsDroppedAfterTheCloseTimeout() throws Exception {
        int payloadBytes = 8 << 20;
        // An outbound limit far above the publication keeps the connection writable: only the close
        // timeout can end it, not the slow-consumer cut-off.
        try (TestGateway gateway = TestGateway.start(Map.of(
                "limits.max-outbound-bytes", Integer.toString(256 << 20),
                "channels.auto-subscribe", List.of("bulk"), "channels.sanitize-default", "none",
                "admin.max-body-bytes", Integer.toString(payloadBytes + 1024)));
                RawWebSocket client = RawWebSocket.open(gateway.gateway().port(), 4096, "/ws?token=" + Tokens.hs256("closer"))) {
            assertThat(client.status()).isEqualTo(101);
            assertThat(client.read().text()).contains("\"connected\"");
            await().atMost(Duration.ofSeconds(10))
                    .until(() -> gateway.api("GET", "/api/connections?user=closer", null).body().contains("\"bulk\""));
            // One frame of 8 MiB, written and flushed by one task: more than the client's small receive
            // window and the server's send buffer hold. Once its first bytes arrive, all of it waits
            // on the server, and the echo of the client's close will queue behind it for good.
            gateway.publish("bulk", "\"" + "x".repeat(payloadBytes) + "\"");
            await().atMost(Duration.ofSeconds(10)).until(() -> client.available() > 0);
            client.send(RawWebSocket.CLOSE, new byte[] {0x03, (byte) 0xE8}, true);

            awaitNoConnections(gateway, Duration.ofSeconds(30));
            assertThat(gateway.metric("portcullis_connections_closed_total{code=\"1000\"}")).as("closed as the peer asked").isEqualTo(1);
            assertThat(gateway.metric("portcullis_slow_consumers_total")).isZero();
        }
    }

    @Test
    void aBackendDisconnectReasonIsCutToFitACloseFrame() {
        try (TestGateway gateway = TestGateway.start();
                WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("eve")))) {
            client.awaitMessage("connected");
            String reason = "\u20ac".repeat(100); // 300 bytes of UTF-8; a close frame has room for 123
            assertThat(gateway.api("POST", "/api/users/eve/disconnect", "{\"reason\":\"" + reason + "\"}").statusCode()).isEqualTo(200);
            WsClient.Closed closed = client.awaitClose();
            assertThat(closed.code()).isEqualTo(4501);
            assertThat(closed.reason().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(123);
            assertThat(reason).startsWith(closed.reason());
            assertThat(closed.reason()).isNotEmpty();
        }
    }

    @Test
    void clientsThatFloodPingsAreCutOffAndHeldToBoundedMemory() throws Exception {
        long floodBytes = 128L << 20;
        try (TestGateway gateway = TestGateway.start(Map.of(
                "limits.max-outbound-bytes", Integer.toString(64 * 1024), "limits.slow-consumer-grace", "500ms",
                "limits.rate-limit-grace", "200ms"))) {
            int port = gateway.gateway().port();
            ByteBufAllocatorMetric allocator = ((ByteBufAllocatorMetricProvider) ByteBufAllocator.DEFAULT).metric();
            long directBefore = allocator.usedDirectMemory();
            try (RawWebSocket wsPinger = RawWebSocket.open(port, 4096, "/ws?token=" + Tokens.hs256("ws-pinger"));
                    RawWebSocket appPinger = RawWebSocket.open(port, 4096, "/ws?token=" + Tokens.hs256("app-pinger"))) {
                assertThat(wsPinger.status()).isEqualTo(101);
                assertThat(appPinger.status()).isEqualTo(101);
                // WebSocket pings are answered by the frame handler within their own budget (past it: not
                // answered, then 4008); app pings by the session (unlimited here): it cannot send faster
                // than the client reads, so the slow-consumer cut-off (4009) ends it.
                CompletableFuture<Flood> wsFlood = flood(wsPinger, RawWebSocket.PING, PING_PAYLOAD, floodBytes);
                byte[] appPing = ("{\"type\":\"ping\",\"id\":\"" + "i".repeat(64) + "\"}").getBytes(StandardCharsets.UTF_8);
                CompletableFuture<Flood> appFlood = flood(appPinger, RawWebSocket.TEXT, appPing, floodBytes);

                // About 10 s on an idle machine (the floods must first fill the kernel's buffers, then the
                // 4009 close frame waits out the close timeout); the deadline leaves room for a loaded one.
                long[] peakDirect = {directBefore};
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    peakDirect[0] = Math.max(peakDirect[0], allocator.usedDirectMemory());
                    return gateway.gateway().connections().sockets() == 0;
                });
                awaitNoConnections(gateway, Duration.ofSeconds(5));
                assertThat(gateway.metric("portcullis_connections_closed_total{code=\"4009\"}")).as("the app pinger").isEqualTo(1);
                assertThat(gateway.metric("portcullis_connections_closed_total{code=\"4008\"}")).as("the WebSocket pinger").isEqualTo(1);
                assertThat(gateway.metric("portcullis_slow_consumers_total")).isGreaterThanOrEqualTo(1);
                for (Flood flood : List.of(wsFlood.get(10, TimeUnit.SECONDS), appFlood.get(10, TimeUnit.SECONDS))) {
                    assertThat(flood.stoppedBy()).as("the server closed the socket under the flood").isNotNull();
                    assertThat(flood.bytesSent()).as("the flood was cut off long before its end").isLessThan(floodBytes / 2);
                }
                assertThat(peakDirect[0] - directBefore).as("direct memory held for the floods").isLessThan(32L << 20);
            }
        }
    }

    @Test
    void socketsRefusedByTheGlobalCapAtAcceptAreClosedLongBeforeTheHandshakeTimeout() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.max-connections", "2", "limits.handshake-timeout", "30s"))) {
            assertIdleRefusedSocketsAreDropped(gateway);
        }
    }

    @Test
    void socketsRefusedByThePerAddressCapAtAcceptAreClosedLongBeforeTheHandshakeTimeout() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.connections-per-ip", "2", "limits.handshake-timeout", "30s"))) {
            assertIdleRefusedSocketsAreDropped(gateway);
        }
    }

    @Test
    void anUpgradeWithoutWebSocketVersion13Gets426NamingVersion13() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.handshake-timeout", "30s"))) {
            int port = gateway.gateway().port();
            String head = RawHttp.upgradeHead(port, "/ws?token=" + Tokens.hs256("old-browser")) + "Sec-WebSocket-Key: " + KEY + "\r\n";
            for (String version : List.of("", "Sec-WebSocket-Version: 8\r\n")) {
                // RawHttp gives up after 10 s, well before the 30 s handshake timeout: a hang fails here.
                RawHttp.Response response = RawHttp.exchange(port, head + version + "\r\n");
                assertThat(response.status()).as("version header '%s'", version.trim()).isEqualTo(426);
                assertThat(response.header("Sec-WebSocket-Version")).isEqualTo("13");
                assertThat(WsClient.json(response.body()).path("error").asText()).isEqualTo("unsupported_version");
            }
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"unsupported_version\"}")).isEqualTo(2);
            assertThat(gateway.gateway().connections().active()).isZero();
        }
    }

    @Test
    void version13WithoutAValidKeyGets400() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.handshake-timeout", "30s"))) {
            int port = gateway.gateway().port();
            String head = RawHttp.upgradeHead(port, "/ws?token=" + Tokens.hs256("keyless")) + "Sec-WebSocket-Version: 13\r\n";
            List<String> keys = List.of(
                    "",                                                    // no key at all
                    "Sec-WebSocket-Key: not a key\r\n",
                    "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==\r\n",     // 24 characters, not base64
                    "Sec-WebSocket-Key: AAAAAAAAAAAAAAAAAAAA\r\n");        // base64 of 15 bytes, not 16
            for (String key : keys) {
                RawHttp.Response response = RawHttp.exchange(port, head + key + "\r\n");
                assertThat(response.status()).as("key header '%s'", key.trim()).isEqualTo(400);
                assertThat(WsClient.json(response.body()).path("error").asText()).isEqualTo("bad_request");
            }
            assertThat(gateway.gateway().connections().active()).isZero();
        }
    }

    @Test
    void aClientLeavingInTheMiddleOfAFragmentedMessageIsCountedNotLoggedAsAWarning() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        try (TestGateway gateway = TestGateway.start()) {
            int leavers = 3;
            for (int i = 0; i < leavers; i++) {
                RawWebSocket client = RawWebSocket.open(gateway.gateway().port(), "/ws?token=" + Tokens.hs256("fragment-" + i));
                assertThat(client.read().text()).contains("\"connected\"");
                client.send(RawWebSocket.TEXT, "{\"type\":\"pi".getBytes(StandardCharsets.UTF_8), false); // first fragment only
                client.close();
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().active() == 0);
            await().atMost(Duration.ofSeconds(10)).until(
                    () -> gateway.metric("portcullis_protocol_violations_total{kind=\"left_mid_message\"}") == leavers);
            assertThat(logged.list).filteredOn(event -> event.getLevel().isGreaterOrEqual(Level.WARN))
                    .as("warnings logged for clients that left mid-message")
                    .isEmpty();
        } finally {
            root.detachAppender(logged);
        }
    }

    @Test
    void aResetBeforeTheRequestIsCountedQuietly() throws Exception {
        Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        root.addAppender(logged);
        try (TestGateway gateway = TestGateway.start()) {
            int resets = 3;
            for (int i = 0; i < resets; i++) {
                Socket socket = new Socket("127.0.0.1", gateway.gateway().port());
                await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().sockets() == 1);
                socket.getOutputStream().write("GET /ws HTTP/1.1\r\n".getBytes(StandardCharsets.US_ASCII));
                socket.setSoLinger(true, 0);
                socket.close(); // a reset, not a FIN
                await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().sockets() == 0);
            }
            await().atMost(Duration.ofSeconds(10)).until(
                    () -> gateway.metric("portcullis_protocol_violations_total{kind=\"io_before_upgrade\"}") == resets);
            assertThat(logged.list).filteredOn(event -> event.getLevel().isGreaterOrEqual(Level.WARN))
                    .as("warnings logged for client resets")
                    .isEmpty();
        } finally {
            root.detachAppender(logged);
        }
    }

    @Test
    void allowedOriginsAreComparedInTheFormBrowsersSend() {
        try (TestGateway gateway = TestGateway.start(Map.of("server.allowed-origins", List.of("https://App.Example.com:443")))) {
            WsClient.Attempt browser = WsClient.attempt(gateway.uri(Tokens.hs256("origin-user")),
                    Map.of("Origin", "https://app.example.com"), List.of());
            assertThat(browser.upgraded()).as("refused: %s %s", browser.status(), browser.body()).isTrue();
            browser.client().awaitMessage("connected");
            browser.client().close();
            WsClient.Attempt otherPort = WsClient.attempt(gateway.uri(Tokens.hs256("origin-user-2")),
                    Map.of("Origin", "https://app.example.com:8443"), List.of());
            assertThat(otherPort.status()).isEqualTo(403);
        }
    }

    @Test
    void aBearerSubprotocolWithoutV1IsRefusedAndLeavesTheUsersConnectionOpen() {
        try (TestGateway gateway = TestGateway.start();
                WsClient existing = WsClient.connect(gateway.uri(Tokens.hs256("dana")))) {
            existing.awaitMessage("connected");
            WsClient.Attempt bearerOnly = WsClient.attempt(gateway.uri(), Map.of(), List.of("portcullis.bearer." + Tokens.hs256("dana")));
            if (bearerOnly.upgraded()) {
                bearerOnly.client().close();
            }
            assertThat(bearerOnly.status()).isEqualTo(400);
            assertThat(WsClient.json(bearerOnly.body()).path("error").asText()).isEqualTo("bad_request");

            existing.send("{\"type\":\"ping\",\"id\":\"still-here\"}");
            assertThat(existing.awaitMessage("pong").path("id").asText()).isEqualTo("still-here");
            assertThat(gateway.gateway().connections().active()).isEqualTo(1);
            assertThat(gateway.metric("portcullis_connections_closed_total{code=\"4500\"}")).isZero();
        }
    }

    @Test
    void malformedUpgradesGet400() throws Exception {
        try (TestGateway gateway = TestGateway.start()) {
            int port = gateway.gateway().port();
            String token = "?token=" + Tokens.hs256("strict");
            String good = "GET /ws" + token + " HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n";
            Map<String, String> bad = Map.of(
                    "HTTP/1.0", good.replace("HTTP/1.1", "HTTP/1.0") + "\r\n",
                    "no Host", good.replace("Host: x\r\n", "") + "\r\n",
                    "two Hosts", good + "Host: y\r\n\r\n",
                    "two keys", good + "Sec-WebSocket-Key: " + KEY + "\r\n\r\n",
                    "two versions", good + "Sec-WebSocket-Version: 13\r\n\r\n",
                    "a body", good + "Content-Length: 3\r\n\r\nabc");
            for (var entry : bad.entrySet()) {
                RawHttp.Response response = RawHttp.exchange(port, entry.getValue());
                assertThat(response.status()).as(entry.getKey()).isEqualTo(400);
                assertThat(response.body()).as(entry.getKey()).contains("bad_request");
            }
            try (RawWebSocket ok = RawWebSocket.open(port, "/ws" + token)) {
                assertThat(ok.status()).as("the well-formed request still upgrades").isEqualTo(101);
            }
        }
    }

    @Test
    void aCloseCodeFrom5000UpIsAnsweredWithAProtocolError() throws Exception {
        try (TestGateway gateway = TestGateway.start();
                RawWebSocket client = RawWebSocket.open(gateway.gateway().port(), "/ws?token=" + Tokens.hs256("closer5000"))) {
            assertThat(client.read().text()).contains("\"connected\"");
            client.send(RawWebSocket.CLOSE, new byte[] {0x13, (byte) 0x88}, true); // 5000
            RawWebSocket.Frame answer = client.read();
            while (answer.opcode() != RawWebSocket.CLOSE) {
                answer = client.read();
            }
            assertThat(answer.closeCode()).isEqualTo(1002);
        }
    }

    @Test
    void aRefusalReachesAClientThatSentABodyAndPipelinedRequests() throws Exception {
        try (TestGateway gateway = TestGateway.start()) {
            int port = gateway.gateway().port();
            String refused = RawHttp.upgradeHead(port, "/ws") + "Sec-WebSocket-Key: " + KEY + "\r\nSec-WebSocket-Version: 13\r\n"
                    + "Content-Length: 500\r\n\r\n" + "b".repeat(500);
            // More pipelined bytes than the server reads before it answers: closing on unread bytes
            // would send a reset instead of a FIN, and the client could lose the answer.
            String pipelined = ("GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1000\r\n\r\n" + "p".repeat(1000)).repeat(256);
            try (RawHttp http = RawHttp.connect(port, RawHttp.WAIT)) {
                CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                    try {
                        http.write(refused + pipelined);
                    } catch (IOException e) {
                        throw new RuntimeException(e);
                    }
                }, task -> Thread.ofPlatform().daemon().start(task));
                RawHttp.Response response = http.readResponse();
                assertThat(response.status()).as("an upgrade with a body is malformed").isEqualTo(400);
                assertThat(WsClient.json(response.body()).path("message").asText()).contains("no body");
                http.awaitCleanEof();
                writer.get(10, TimeUnit.SECONDS); // the server read (and ignored) the pipelined requests
            }
        }
    }

    /** Two idle sockets take the two slots; 50 more are refused at accept and must go within seconds. */
    private static void assertIdleRefusedSocketsAreDropped(TestGateway gateway) throws Exception {
        int port = gateway.gateway().port();
        List<Socket> sockets = new ArrayList<>();
        try {
            for (int i = 0; i < 2; i++) {
                sockets.add(new Socket("127.0.0.1", port));
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().sockets() == 2);
            List<Socket> refused = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                Socket socket = new Socket("127.0.0.1", port);
                sockets.add(socket);
                refused.add(socket);
            }
            for (Socket socket : refused) {
                // The handshake timeout is 30 s: an EOF within 10 s is the refused-socket wait.
                socket.setSoTimeout(10_000);
                assertThat(socket.getInputStream().read()).as("the server closed the refused socket").isEqualTo(-1);
            }
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().sockets() == 2);
        } finally {
            for (Socket socket : sockets) {
                socket.close();
            }
        }
    }

    private static void awaitNoConnections(TestGateway gateway, Duration atMost) {
        await().atMost(atMost).untilAsserted(() -> {
            assertThat(gateway.gateway().connections().sockets()).as("sockets").isZero();
            assertThat(gateway.gateway().connections().active()).as("upgraded connections").isZero();
            assertThat(gateway.gateway().metrics().connections().active()).as("active connections gauge").isZero();
        });
    }

    private record Flood(long bytesSent, IOException stoppedBy) {}

    /** Sends copies of one frame, without ever reading, until {@code totalBytes} went out or the socket failed. */
    private static CompletableFuture<Flood> flood(RawWebSocket client, int opcode, byte[] payload, long totalBytes) {
        int perWrite = 512;
        long bytesPerWrite = (long) perWrite * (payload.length + (payload.length < 126 ? 6 : 8));
        return CompletableFuture.supplyAsync(() -> {
            long sent = 0;
            try {
                while (sent < totalBytes) {
                    client.sendRepeated(opcode, payload, perWrite);
                    sent += bytesPerWrite;
                }
                return new Flood(sent, null);
            } catch (IOException e) {
                return new Flood(sent, e);
            }
        }, task -> Thread.ofPlatform().daemon().name("flood").start(task));
    }
}
