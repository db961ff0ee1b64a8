package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.testing.MutableClock;
import static dev.portcullis.gateway.auth.AuthConfigs.auth;
import static dev.portcullis.gateway.auth.TestTokens.NOW;
import static dev.portcullis.gateway.auth.TestTokens.SECRET;
import static dev.portcullis.gateway.auth.TestTokens.pem;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.gateway.config.AuthConfig;
import java.net.URI;
import java.security.KeyPair;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class JwtVerifierConfigTest {

    private static final KeyPair RSA = TestTokens.rsa(2048);
    private static final URI JWKS = URI.create("https://idp.example/.well-known/jwks.json");

    private final MutableClock clock = new MutableClock(NOW);

    private void assertRejected(AuthConfigs config, String messageStart) {
        assertRejected(config.build(), messageStart);
    }

    private void assertRejected(AuthConfig config, String messageStart) {
        assertThatThrownBy(() -> JwtVerifier.create(config, clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(messageStart);
    }

    @Test
    void hmacSecretShorterThanTheHashIsRejected() {
        String shortSecret = "s".repeat(31);
        assertRejected(auth("HS256").hmacSecret(shortSecret), "auth.hmac-secret: HS256 needs at least 32 bytes");
        assertRejected(auth("HS256", "HS384").hmacSecret(SECRET), "auth.hmac-secret: HS384 needs at least 48 bytes");
        assertRejected(auth("HS512").hmacSecret("s".repeat(63)), "auth.hmac-secret: HS512 needs at least 64 bytes");
        assertThatCode(() -> JwtVerifier.create(auth("HS512").hmacSecret("s".repeat(64)).build(), clock))
                .doesNotThrowAnyException();
    }

    @Test
    void errorsNeverQuoteTheSecret() {
        String shortSecret = "hunter2-hunter2-hunter2";
        assertThatThrownBy(() -> JwtVerifier.create(auth("HS256").hmacSecret(shortSecret).build(), clock))
                .hasMessageNotContaining(shortSecret);
    }

    @Test
    void exactlyOneKeySourceIsRequired() {
        assertRejected(auth("RS256").hmacSecret(SECRET).publicKey(pem(RSA.getPublic())), "auth: set exactly one of");
        assertRejected(auth("RS256").publicKey(pem(RSA.getPublic())).jwks(JWKS), "auth: set exactly one of");
        assertRejected(auth("RS256"), "auth: set exactly one of");
    }

    @Test
    void noneAndUnknownAlgorithmsAreRejected() {
        assertRejected(auth("none").hmacSecret(SECRET), "auth.algorithms: none");
        assertRejected(auth("HS256", "NONE").hmacSecret(SECRET), "auth.algorithms: none");
        assertRejected(auth("XS256").hmacSecret(SECRET), "auth.algorithms: unsupported algorithm XS256");
        assertRejected(auth().hmacSecret(SECRET), "auth.algorithms:");
    }

    @Test
    void algorithmsMustFitTheKeySource() {
        assertRejected(auth("HS256").publicKey(pem(RSA.getPublic())), "auth.algorithms: HS256 needs auth.hmac-secret");
        assertRejected(auth("RS256", "HS256").jwks(JWKS), "auth.algorithms: HS256 needs auth.hmac-secret");
        assertRejected(auth("RS256").hmacSecret(SECRET), "auth.algorithms: RS256 needs auth.public-key or auth.jwks-url");
        assertRejected(auth("ES256").publicKey(pem(RSA.getPublic())),
                "auth.algorithms: none of ES256 fits auth.public-key, which is an RSA key");
        assertRejected(auth("ES384").publicKey(pem(TestTokens.ec("secp256r1").getPublic())),
                "auth.algorithms: none of ES384 fits auth.public-key, which is a P-256 EC key");
        assertRejected(auth("EdDSA", "ES256").publicKey(pem(RSA.getPublic())), "auth.algorithms: none of");
        assertRejected(auth("RS256").publicKey(pem(TestTokens.ed25519().getPublic())), "auth.algorithms: none of RS256");
    }

    @Test
    void unusablePublicKeysAreRejected() {
        assertRejected(auth("RS256").publicKey(pem(TestTokens.rsa(1024).getPublic())),
                "auth.public-key: RSA key of 1024 bits is too short");
        assertRejected(auth("RS256").publicKey("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"),
                "auth.public-key: not an RSA, EC or Ed25519 public key");
        assertRejected(auth("RS256").publicKey(pem("PRIVATE KEY", RSA.getPrivate().getEncoded())),
                "auth.public-key: holds a private key");
        assertRejected(auth("RS256").publicKey("-----BEGIN PUBLIC KEY----- no end"), "auth.public-key: not a PEM public key");
        assertRejected(auth("RS256").publicKey("/no/such/key.pem"), "auth.public-key: neither PEM text nor a readable PEM file");
        assertRejected(auth("EdDSA").publicKey(pem(TestTokens.generateX25519().getPublic())), "auth.public-key:");
    }

    @Test
    void jwksSettingsAreChecked() {
        assertRejected(auth("RS256").jwks(URI.create("ftp://idp.example/jwks")), "auth.jwks-url: must be an http or https URL");
        assertRejected(auth("RS256").jwks(JWKS).jwksTiming(Duration.ZERO, Duration.ofMinutes(5)),
                "auth.jwks-refresh-min-interval");
        assertRejected(auth("RS256").jwks(JWKS).jwksTiming(Duration.ofSeconds(30), Duration.ofSeconds(-1)),
                "auth.jwks-cache-ttl");
    }

    @Test
    void negativeClockSkewIsRejected() {
        assertRejected(auth("HS256").hmacSecret(SECRET).clockSkew(Duration.ofSeconds(-1)), "auth.clock-skew");
    }
}
