package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RawWebSocket;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Acceptance 7 and 8: heartbeat and re-authentication, on short durations. */
class ConnectionLifeIT {

    @Test
    void aClientThatStopsAnsweringPingsIsClosed() throws Exception {
        try (TestGateway gateway = TestGateway.start(Map.of("heartbeat.interval", "300ms", "heartbeat.timeout", "300ms"))) {
            try (WsClient healthy = WsClient.connect(gateway.uri(Tokens.hs256("healthy")));
                    RawWebSocket silent = RawWebSocket.open(gateway.gateway().port(), "/ws?token=" + Tokens.hs256("silent"))) {
                assertThat(silent.status()).isEqualTo(101);
                healthy.awaitMessage("connected");
                RawWebSocket.Frame frame;
                int pings = 0;
                do {
                    frame = silent.read();
                    if (frame != null && frame.opcode() == RawWebSocket.PING) {
                        pings++;
                    }
                } while (frame != null && frame.opcode() != RawWebSocket.CLOSE);
                assertThat(pings).isGreaterThanOrEqualTo(1);
                assertThat(frame).isNotNull();
                assertThat(frame.closeCode()).isEqualTo(4002);
                assertThat(silent.awaitEof()).isTrue();
                assertThat(gateway.metric("portcullis_heartbeat_timeouts_total")).isEqualTo(1);
                // The JDK client answers pings, so it outlives several heartbeat rounds.
                assertThat(healthy.staysQuiet(Duration.ofMillis(1500))).isTrue();
                assertThat(gateway.gateway().connections().active()).isEqualTo(1);
            }
        }
    }

    @Test
    void aFreshTokenKeepsTheConnectionAndSilenceClosesWith4001() {
        try (TestGateway gateway = TestGateway.start(Map.of("auth.reauth-interval", "1s", "auth.reauth-grace", "1s"))) {
            try (WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("renewer", Duration.ofMinutes(5))))) {
                client.awaitMessage("connected");
                for (int round = 0; round < 2; round++) {
                    JsonNode reauth = client.awaitMessage("reauth");
                    assertThat(reauth.path("deadlineMs").asLong()).isGreaterThan(System.currentTimeMillis() - 1000);
                    client.send("{\"type\":\"auth\",\"id\":\"r" + round + "\",\"token\":\"" + Tokens.hs256("renewer", Duration.ofMinutes(10)) + "\"}");
                    JsonNode ack = client.awaitMessage("ack");
                    assertThat(ack.path("id").asText()).isEqualTo("r" + round);
                    assertThat(ack.path("expiresAt").asLong()).isGreaterThan(System.currentTimeMillis() + 9 * 60_000);
                }
                client.awaitMessage("reauth");
                WsClient.Closed closed = client.awaitClose();
                assertThat(closed.code()).isEqualTo(4001);
            }
        }
    }

    @Test
    void aTokenForAnotherUserOrABadTokenClosesWith4001() {
        try (TestGateway gateway = TestGateway.start(Map.of("auth.reauth-interval", "0"))) {
            try (WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("mallory")))) {
                client.awaitMessage("connected");
                client.send("{\"type\":\"auth\",\"token\":\"" + Tokens.hs256("alice") + "\"}");
                assertThat(client.awaitClose().code()).isEqualTo(4001);
            }
            try (WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("trudy")))) {
                client.awaitMessage("connected");
                client.send("{\"type\":\"auth\",\"token\":\"" + Tokens.hs256("trudy", Duration.ofSeconds(-60)) + "\"}");
                assertThat(client.awaitClose().code()).isEqualTo(4001);
            }
        }
    }

    @Test
    void aTokenThatExpiresWhileConnectedClosesWith4001() {
        try (TestGateway gateway = TestGateway.start()) {
            try (WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("short-lived", Duration.ofSeconds(2))))) {
                client.awaitMessage("connected");
                WsClient.Closed closed = client.awaitClose();
                assertThat(closed.code()).isEqualTo(4001);
                assertThat(closed.reason()).contains("expired");
            }
        }
    }
}
