package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.RawHttp;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.io.IOException;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * "Why was I refused?": {@code GET /ws} with {@code Accept: application/json} answers what an upgrade
 * would get now, without counting an attempt, limited per address, with CORS for allowed origins.
 * The JS client relies on it because a browser sees a refused upgrade only as close 1006.
 */
class RefusalProbeIT {
    private static final String APP = "https://app.example.com";

    @Test
    void aValidTokenIsOkAndTheAnswerNamesTheUser() throws IOException {
        try (TestGateway gateway = TestGateway.start()) {
            RawHttp.Response ok = probe(gateway, "Authorization: Bearer " + Tokens.hs256("alice") + "\r\n");
            assertThat(ok.status()).isEqualTo(200);
            assertThat(ok.body()).startsWith("{\"ok\":true,\"user\":\"alice\",\"expiresAt\":");
            assertThat(ok.header("Content-Type")).startsWith("application/json");
            // The same credentials in the query parameter (and no header) are read as an upgrade reads them.
            assertThat(RawHttp.exchange(gateway.gateway().port(), "GET /ws?token=" + Tokens.hs256("bob")
                    + " HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n\r\n").body()).contains("\"user\":\"bob\"");
            assertThat(gateway.metric("portcullis_refusal_probes_total{result=\"ok\"}")).isEqualTo(2);
            assertThat(gateway.metric("portcullis_connections_active")).as("a probe is no connection").isZero();
        }
    }

    @Test
    void refusalsComeWithTheirStatusReasonAndRetryAfter() throws IOException {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.connect-attempts-per-user-per-minute", "2"))) {
            String expired = Tokens.hs256(b -> b.subject("carol").expirationTime(Date.from(Instant.now().minusSeconds(60))));
            RawHttp.Response refused = probe(gateway, "Authorization: Bearer " + expired + "\r\n");
            assertThat(refused.status()).isEqualTo(401);
            assertThat(refused.body()).contains("\"error\":\"expired\"");
            assertThat(probe(gateway, "").body()).contains("\"error\":\"missing_token\"");

            // Probing counts no attempt: any number of probes leave the user's two upgrades intact.
            String token = Tokens.hs256("dave");
            for (int i = 0; i < 5; i++) {
                assertThat(probe(gateway, "Authorization: Bearer " + token + "\r\n").status()).isEqualTo(200);
            }
            for (int i = 0; i < 2; i++) {
                try (WsClient client = WsClient.connect(gateway.uri(token))) {
                    client.awaitMessage("connected");
                }
            }
            RawHttp.Response limited = probe(gateway, "Authorization: Bearer " + token + "\r\n");
            assertThat(limited.status()).isEqualTo(429);
            assertThat(limited.body()).contains("\"error\":\"attempt_rate\"");
            assertThat(Integer.parseInt(limited.header("Retry-After"))).isBetween(1, 60);
            assertThat(gateway.metric("portcullis_refusal_probes_total{result=\"attempt_rate\"}")).isEqualTo(1);
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"attempt_rate\"}"))
                    .as("a probe is not a refused handshake").isZero();
        }
    }

    @Test
    void probesAreLimitedPerAddress() throws IOException {
        try (TestGateway gateway = TestGateway.start(Map.of("limits.refusal-probes-per-ip-per-minute", "3",
                "server.allowed-origins", List.of(APP)))) {
            for (int i = 0; i < 5; i++) {
                assertThat(probe(gateway, "Origin: https://evil.example.com\r\n").status())
                        .as("a foreign page cannot use up its visitors' probes").isEqualTo(403);
            }
            for (int i = 0; i < 3; i++) {
                assertThat(probe(gateway, "").status()).isEqualTo(401);
            }
            RawHttp.Response limited = probe(gateway, "");
            assertThat(limited.status()).isEqualTo(429);
            assertThat(limited.body()).contains("\"error\":\"probe_rate\"");
            assertThat(limited.header("Retry-After")).isNotNull();
        }
    }

    @Test
    void corsIsAnsweredForAllowedOriginsOnly() throws IOException {
        try (TestGateway gateway = TestGateway.start(Map.of("server.allowed-origins", List.of(APP)))) {
            int port = gateway.gateway().port();
            RawHttp.Response preflight = RawHttp.exchange(port, "OPTIONS /ws HTTP/1.1\r\nHost: x\r\nOrigin: " + APP
                    + "\r\nAccess-Control-Request-Method: GET\r\nAccess-Control-Request-Headers: authorization\r\n\r\n");
            assertThat(preflight.status()).isEqualTo(204);
            assertThat(preflight.header("Access-Control-Allow-Origin")).isEqualTo(APP);
            assertThat(preflight.header("Access-Control-Allow-Credentials")).isEqualTo("true");
            assertThat(preflight.header("Access-Control-Allow-Headers")).containsIgnoringCase("authorization");

            RawHttp.Response answer = probe(gateway, "Origin: " + APP + "\r\n");
            assertThat(answer.status()).isEqualTo(401);
            assertThat(answer.header("Access-Control-Allow-Origin")).isEqualTo(APP);
            assertThat(answer.header("Access-Control-Expose-Headers")).containsIgnoringCase("retry-after");

            String evil = "https://evil.example.com";
            assertThat(RawHttp.exchange(port, "OPTIONS /ws HTTP/1.1\r\nHost: x\r\nOrigin: " + evil
                    + "\r\nAccess-Control-Request-Method: GET\r\n\r\n").status()).isEqualTo(403);
            RawHttp.Response foreign = probe(gateway, "Origin: " + evil + "\r\nAuthorization: Bearer " + Tokens.hs256("eve") + "\r\n");
            assertThat(foreign.status()).isEqualTo(403);
            assertThat(foreign.body()).contains("\"error\":\"origin\"");
            assertThat(foreign.header("Access-Control-Allow-Origin")).isNull();
        }
    }

    @Test
    void aPlainGetWithoutJsonStillGets426AndOtherPathsStill404() throws IOException {
        try (TestGateway gateway = TestGateway.start()) {
            int port = gateway.gateway().port();
            RawHttp.Response plain = RawHttp.exchange(port, "GET /ws HTTP/1.1\r\nHost: x\r\n\r\n");
            assertThat(plain.status()).isEqualTo(426);
            assertThat(plain.body()).contains("upgrade_required");
            assertThat(RawHttp.exchange(port, "GET / HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n").status())
                    .as("no dev site in production").isEqualTo(404);
        }
    }

    private static RawHttp.Response probe(TestGateway gateway, String headers) throws IOException {
        return RawHttp.exchange(gateway.gateway().port(),
                "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n" + headers + "\r\n");
    }
}
