package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Acceptance 3, 4 and 5: newest connection wins, attempt rate, per-address and global caps, origin. */
class AdmissionIT {

    @Test
    void aSecondConnectionOfTheSameUserClosesTheFirstWith4500() {
        try (TestGateway gateway = TestGateway.start()) {
            WsClient first = WsClient.connect(gateway.uri(Tokens.hs256("alice")));
            first.awaitMessage("connected");
            try (WsClient second = WsClient.connect(gateway.uri(Tokens.hs256("alice")))) {
                second.awaitMessage("connected");
                WsClient.Closed closed = first.awaitClose();
                assertThat(closed.code()).isEqualTo(4500);
                second.send("{\"type\":\"ping\",\"id\":\"p1\"}");
                assertThat(second.awaitMessage("pong").path("id").asText()).isEqualTo("p1");
                await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().active() == 1);
            }
        }
    }

    @Test
    void theSixthAttemptOfAUserWithinAMinuteGets429WithRetryAfter() {
        try (TestGateway gateway = TestGateway.start(Map.of(
                "limits.connect-attempts-per-user-per-minute", "5", "limits.connections-per-user", "0"))) {
            List<WsClient> open = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                open.add(WsClient.connect(gateway.uri(Tokens.hs256("bob"))));
            }
            WsClient.Attempt sixth = WsClient.attempt(gateway.uri(Tokens.hs256("bob")));
            assertThat(sixth.status()).isEqualTo(429);
            assertThat(sixth.headers().get("retry-after")).singleElement()
                    .satisfies(value -> assertThat(Integer.parseInt(value)).isBetween(1, 60));
            WsClient.connect(gateway.uri(Tokens.hs256("carol"))).close();
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"attempt_rate\"}")).isEqualTo(1);
            open.forEach(WsClient::close);
        }
    }

    @Test
    void overThePerAddressLimitGets429() {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.connections-per-ip", "3"))) {
            List<WsClient> open = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                open.add(WsClient.connect(gateway.uri(Tokens.hs256("ip-user-" + i))));
            }
            assertThat(WsClient.attempt(gateway.uri(Tokens.hs256("ip-user-x"))).status()).isEqualTo(429);
            open.get(0).close();
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.gateway().connections().sockets() == 2);
            open.set(0, WsClient.connect(gateway.uri(Tokens.hs256("ip-user-y"))));
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"ip_limit\"}")).isEqualTo(1);
            open.forEach(WsClient::close);
        }
    }

    @Test
    void overTheGlobalLimitGets503() {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.max-connections", "2"))) {
            WsClient a = WsClient.connect(gateway.uri(Tokens.hs256("g1")));
            WsClient b = WsClient.connect(gateway.uri(Tokens.hs256("g2")));
            assertThat(WsClient.attempt(gateway.uri(Tokens.hs256("g3"))).status()).isEqualTo(503);
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"max_connections\"}")).isEqualTo(1);
            a.close();
            b.close();
        }
    }

    @Test
    void aBadOriginGets403AndAnAllowedOneConnects() {
        try (TestGateway gateway = TestGateway.start(Map.of("server.allowed-origins", List.of("https://app.example.com")))) {
            assertThat(WsClient.attempt(gateway.uri(Tokens.hs256("o1")), Map.of("Origin", "https://evil.example.com"), List.of())
                    .status()).isEqualTo(403);
            WsClient.Attempt noOrigin = WsClient.attempt(gateway.uri(Tokens.hs256("o2")), Map.of(), List.of());
            assertThat(noOrigin.upgraded()).as("a non-browser client sends no Origin").isTrue();
            noOrigin.client().close();
            WsClient.Attempt ok = WsClient.attempt(gateway.uri(Tokens.hs256("o1")), Map.of("Origin", "https://app.example.com"), List.of());
            assertThat(ok.upgraded()).isTrue();
            ok.client().close();
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"origin\"}")).isEqualTo(1);
        }
    }

    @Test
    void aSocketThatNeverCompletesItsHandshakeIsDroppedAndHeldItsSlotUntilThen() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.handshake-timeout", "1s", "limits.connections-per-ip", "2"))) {
            try (Socket first = new Socket("127.0.0.1", gateway.gateway().port());
                    Socket second = new Socket("127.0.0.1", gateway.gateway().port())) {
                second.getOutputStream().write("GET /ws HTTP/1.1\r\nHost: x\r\n".getBytes()); // trickles, never ends
                await().atMost(Duration.ofSeconds(5)).until(() -> gateway.gateway().connections().sockets() == 2);
                assertThat(WsClient.attempt(gateway.uri(Tokens.hs256("slow-1"))).status())
                        .as("two silent sockets fill the per-address cap").isEqualTo(429);
                first.setSoTimeout(10_000);
                second.setSoTimeout(10_000);
                assertThat(first.getInputStream().read()).as("dropped: EOF").isEqualTo(-1);
                assertThat(second.getInputStream().read()).as("dropped: EOF").isEqualTo(-1);
            }
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"handshake_timeout\"}")).isGreaterThanOrEqualTo(2);
            await().atMost(Duration.ofSeconds(5)).until(() -> gateway.gateway().connections().sockets() == 0);
            WsClient.connect(gateway.uri(Tokens.hs256("slow-2"))).close();
        }
    }
}
