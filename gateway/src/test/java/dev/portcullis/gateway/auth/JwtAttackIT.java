package dev.portcullis.gateway.auth;

import static dev.portcullis.gateway.auth.TestTokens.b64;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.RawHttp;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Rows of {@link JwtAttackMatrixTest} end to end, on a real gateway: the upgrade is refused with 401
 * and the reason in its body and in {@code portcullis_handshakes_rejected_total}, and the "why was I
 * refused?" probe gives the same reason. The rows are the ones whose reason was wrong before the
 * matrix (alg NONE with an empty signature, time claims of 1e300) and a few classics.
 */
class JwtAttackIT {
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start();
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    static Stream<Arguments> attacks() {
        long now = Instant.now().getEpochSecond();
        String claims = "{\"sub\":\"mallory\",\"iat\":" + now + ",\"exp\":" + (now + 3600) + "}";
        return Stream.of(
                Arguments.of("alg none", b64("{\"alg\":\"none\"}") + "." + b64(claims) + ".", "algorithm_not_allowed"),
                Arguments.of("alg NONE, empty signature", b64("{\"alg\":\"NONE\"}") + "." + b64(claims) + ".", "algorithm_not_allowed"),
                Arguments.of("JWE", b64("{\"alg\":\"dir\",\"enc\":\"A128GCM\"}") + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA",
                        "algorithm_not_allowed"),
                Arguments.of("exp 1e300", signed("{\"alg\":\"HS256\"}", "{\"sub\":\"mallory\",\"exp\":1e300}"), "lifetime_too_long"),
                Arguments.of("nbf 1e300", signed("{\"alg\":\"HS256\"}",
                        "{\"sub\":\"mallory\",\"exp\":" + (now + 3600) + ",\"nbf\":1e300}"), "not_yet_valid"),
                Arguments.of("iat 10 min ahead", signed("{\"alg\":\"HS256\"}",
                        "{\"sub\":\"mallory\",\"iat\":" + (now + 600) + ",\"exp\":" + (now + 3600) + "}"), "issued_in_future"),
                Arguments.of("unknown crit", signed("{\"alg\":\"HS256\",\"crit\":[\"x\"],\"x\":1}", claims), "malformed"),
                Arguments.of("duplicate sub", signed("{\"alg\":\"HS256\"}",
                        "{\"sub\":\"alice\",\"sub\":\"mallory\",\"exp\":" + (now + 3600) + "}"), "malformed"),
                Arguments.of("HS256 with another secret", TestTokens.hmac("HS256",
                        "not-the-secret-not-the-secret-not".getBytes(StandardCharsets.UTF_8), b64("{\"alg\":\"HS256\"}") + "." + b64(claims)),
                        "bad_signature"));
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("attacks")
    void theUpgradeAndTheProbeNameTheReason(String name, String token, String reason) throws IOException {
        int port = gateway.gateway().port();
        String series = "portcullis_handshakes_rejected_total{reason=\"" + reason + "\"}";
        double before = gateway.metric(series);

        RawHttp.Response upgrade = RawHttp.exchange(port, RawHttp.upgradeHead(port, "/ws?token=" + token)
                + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        assertThat(upgrade.status()).isEqualTo(401);
        assertThat(upgrade.body()).contains("\"error\":\"" + reason + "\"");
        assertThat(gateway.metric(series)).as(series).isEqualTo(before + 1);

        RawHttp.Response probe = RawHttp.exchange(port,
                "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\nAuthorization: Bearer " + token + "\r\n\r\n");
        assertThat(probe.status()).isEqualTo(401);
        assertThat(probe.body()).contains("\"error\":\"" + reason + "\"");
    }

    private static String signed(String header, String payload) {
        return TestTokens.hmac("HS256", Tokens.SECRET.getBytes(StandardCharsets.UTF_8), b64(header) + "." + b64(payload));
    }
}
