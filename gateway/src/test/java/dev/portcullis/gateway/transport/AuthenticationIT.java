package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.JWTClaimsSet;
import dev.portcullis.gateway.testing.RawWebSocket;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Acceptance 1 and 2: authentication happens before the upgrade, from any of the four places. */
class AuthenticationIT {
    private static final String ORIGIN = "https://app.example.com";
    private static TestGateway gateway;

    @BeforeAll
    static void start() {
        gateway = TestGateway.start(Map.of(
                "auth.cookie-name", "pc_token",
                "server.allowed-origins", List.of(ORIGIN),
                "auth.issuer", "https://login.example.com",
                "auth.audience", List.of("portcullis"),
                "limits.connections-per-user", "0"));
    }

    @AfterAll
    static void stop() {
        gateway.close();
    }

    private static String valid(String user) {
        return Tokens.hs256(b -> b.subject(user).issuer("https://login.example.com").audience("portcullis")
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
    }

    @Test
    void noTokenIsRefusedWith401AndAJsonBody() throws Exception {
        try (RawWebSocket raw = RawWebSocket.open(gateway.gateway().port(), "/ws", "Origin: " + ORIGIN)) {
            assertThat(raw.status()).isEqualTo(401);
            assertThat(raw.head()).doesNotContainIgnoringCase("Upgrade: websocket");
            JsonNode body = WsClient.json(raw.readBody());
            assertThat(body.path("error").asText()).isEqualTo("missing_token");
            assertThat(body.path("message").asText()).isNotBlank();
        }
        assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"missing_token\"}")).isGreaterThanOrEqualTo(1);
    }

    @Test
    void tokenInTheQueryParameter() {
        assertConnected(WsClient.attempt(gateway.uri(valid("q-user")), Map.of("Origin", ORIGIN), List.of()), "q-user");
    }

    @Test
    void tokenInTheAuthorizationHeader() {
        assertConnected(WsClient.attempt(gateway.uri(), Map.of("Origin", ORIGIN, "Authorization", "Bearer " + valid("h-user")), List.of()), "h-user");
    }

    @Test
    void tokenInACookie() {
        assertConnected(WsClient.attempt(gateway.uri(), Map.of("Origin", ORIGIN, "Cookie", "theme=dark; pc_token=" + valid("c-user")), List.of()), "c-user");
    }

    @Test
    void tokenInTheSubprotocolListAndOnlyTheVersionIsEchoed() {
        WsClient.Attempt attempt = WsClient.attempt(gateway.uri(), Map.of("Origin", ORIGIN),
                List.of("portcullis.v1", "portcullis.bearer." + valid("s-user")));
        assertConnected(attempt, "s-user");
        assertThat(attempt.client().subprotocol()).isEqualTo("portcullis.v1");
    }

    @Test
    void badTokensAreRefusedWith401Each() throws Exception {
        Instant now = Instant.now();
        String expired = Tokens.hs256(b -> b.subject("u").issuer("https://login.example.com").audience("portcullis")
                .expirationTime(Date.from(now.minusSeconds(60))));
        String notYetValid = Tokens.hs256(b -> b.subject("u").issuer("https://login.example.com").audience("portcullis")
                .notBeforeTime(Date.from(now.plusSeconds(600))).expirationTime(Date.from(now.plusSeconds(3600))));
        String wrongIssuer = Tokens.hs256(b -> b.subject("u").issuer("https://evil.example.com").audience("portcullis")
                .expirationTime(Date.from(now.plusSeconds(3600))));
        String wrongAudience = Tokens.hs256(b -> b.subject("u").issuer("https://login.example.com").audience("other")
                .expirationTime(Date.from(now.plusSeconds(3600))));
        String missingSub = Tokens.hs256(b -> b.issuer("https://login.example.com").audience("portcullis")
                .expirationTime(Date.from(now.plusSeconds(3600))));
        String good = valid("u");
        String[] parts = good.split("\\.");
        String tamperedPayload = parts[0] + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(
                new String(Base64.getUrlDecoder().decode(parts[1])).replace("\"u\"", "\"admin\"").getBytes()) + "." + parts[2];
        String tamperedSignature = parts[0] + "." + parts[1] + "." + (parts[2].charAt(0) == 'A' ? 'B' : 'A') + parts[2].substring(1);
        String algNone = new PlainJWT(new JWTClaimsSet.Builder().subject("u").issuer("https://login.example.com")
                .audience("portcullis").expirationTime(Date.from(now.plusSeconds(3600))).build()).serialize();
        String otherSecret = Tokens.sign(new MACSigner("another-secret-another-secret-another-secret"), JWSAlgorithm.HS256,
                b -> b.subject("u").issuer("https://login.example.com").audience("portcullis").expirationTime(Date.from(now.plusSeconds(3600))));
        Map<String, String> cases = Map.of(
                "expired", expired, "not yet valid", notYetValid, "wrong issuer", wrongIssuer, "wrong audience", wrongAudience,
                "missing sub", missingSub, "tampered payload", tamperedPayload, "tampered signature", tamperedSignature,
                "alg none", algNone, "other secret", otherSecret, "garbage", "not-a-jwt");
        for (Map.Entry<String, String> c : cases.entrySet()) {
            WsClient.Attempt attempt = WsClient.attempt(gateway.uri(c.getValue()), Map.of("Origin", ORIGIN), List.of());
            assertThat(attempt.upgraded()).as(c.getKey()).isFalse();
            assertThat(attempt.status()).as(c.getKey()).isEqualTo(401);
        }
    }

    @Test
    void hs256SignedWithTheRsaPublicKeyIsRefusedWhenRs256IsConfigured() throws Exception {
        KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
        generator.initialize(2048);
        KeyPair keys = generator.generateKeyPair();
        String pem = "-----BEGIN PUBLIC KEY-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(keys.getPublic().getEncoded())
                + "\n-----END PUBLIC KEY-----\n";
        try (TestGateway rsa = TestGateway.start(Map.of("auth.hmac-secret", "", "auth.public-key", pem, "auth.algorithms", List.of("RS256")))) {
            Date exp = Date.from(Instant.now().plusSeconds(3600));
            String genuine = Tokens.sign(new RSASSASigner(keys.getPrivate()), JWSAlgorithm.RS256, b -> b.subject("r").expirationTime(exp));
            assertConnected(WsClient.attempt(rsa.uri(genuine)), "r");

            byte[] pemBytes = pem.getBytes();
            String confused = Tokens.sign(new MACSigner(pemBytes), JWSAlgorithm.HS256, b -> b.subject("r").expirationTime(exp));
            String confusedDer = Tokens.sign(new MACSigner(keys.getPublic().getEncoded()), JWSAlgorithm.HS256,
                    b -> b.subject("r").expirationTime(exp));
            assertThat(WsClient.attempt(rsa.uri(confused)).status()).isEqualTo(401);
            assertThat(WsClient.attempt(rsa.uri(confusedDer)).status()).isEqualTo(401);
        }
    }

    @Test
    void aTokenNeverAppearsInTheRejectionBody() throws Exception {
        String token = Tokens.hs256("leak-check", Duration.ofSeconds(-120));
        try (RawWebSocket raw = RawWebSocket.open(gateway.gateway().port(), "/ws?token=" + token, "Origin: " + ORIGIN)) {
            assertThat(raw.status()).isEqualTo(401);
            assertThat(raw.readBody()).doesNotContain(token).contains("expired");
        }
    }

    private static void assertConnected(WsClient.Attempt attempt, String user) {
        assertThat(attempt.upgraded()).as("refused with %s %s", attempt.status(), attempt.body()).isTrue();
        try (WsClient client = attempt.client()) {
            JsonNode connected = client.awaitMessage("connected");
            assertThat(connected.path("user").asText()).isEqualTo(user);
            assertThat(connected.path("connection").asText()).isNotBlank();
            assertThat(connected.path("expiresAt").asLong()).isGreaterThan(System.currentTimeMillis());
        }
    }
}
