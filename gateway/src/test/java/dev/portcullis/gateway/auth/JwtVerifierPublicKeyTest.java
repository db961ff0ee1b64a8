package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.testing.MutableClock;
import static dev.portcullis.gateway.auth.AuthConfigs.auth;
import static dev.portcullis.gateway.auth.TestTokens.NOW;
import static dev.portcullis.gateway.auth.TestTokens.accepted;
import static dev.portcullis.gateway.auth.TestTokens.claims;
import static dev.portcullis.gateway.auth.TestTokens.header;
import static dev.portcullis.gateway.auth.TestTokens.hmac;
import static dev.portcullis.gateway.auth.TestTokens.pem;
import static dev.portcullis.gateway.auth.TestTokens.reason;
import static dev.portcullis.gateway.auth.TestTokens.sign;
import static dev.portcullis.gateway.auth.TestTokens.tamper;
import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JwtVerifierPublicKeyTest {

    private static final KeyPair RSA = TestTokens.rsa(2048);
    private static final KeyPair P256 = TestTokens.ec("secp256r1");
    private static final KeyPair ED25519 = TestTokens.ed25519();

    private final MutableClock clock = new MutableClock(NOW);

    private JwtVerifier verifier(String pem, String... algorithms) {
        return JwtVerifier.create(auth(algorithms).publicKey(pem).build(), clock);
    }

    @Test
    void rsaTokensVerifyAtOnceWithAnSpkiPemKey() {
        JwtVerifier verifier = verifier(pem(RSA.getPublic()), "RS256", "PS256");

        CompletableFuture<Principal> rs256 = verifier.verify(sign("RS256", RSA.getPrivate(), null, claims("alice")));
        assertThat(rs256).isCompleted();
        assertThat(accepted(rs256).subject()).isEqualTo("alice");
        assertThat(accepted(verifier.verify(sign("PS256", RSA.getPrivate(), null, claims("bob")))).subject())
                .isEqualTo("bob");
    }

    @Test
    void rsaKeyIsAlsoReadFromPkcs1PemAFileAndEscapedNewlines(@TempDir Path dir) throws Exception {
        String token = sign("RS256", RSA.getPrivate(), null, claims("alice"));
        Path file = dir.resolve("key.pem");
        Files.writeString(file, pem(RSA.getPublic()));

        for (String source : new String[] {
                pem("RSA PUBLIC KEY", pkcs1(RSA.getPublic().getEncoded())),
                file.toString(),
                pem(RSA.getPublic()).replace("\n", "\\n")}) {
            assertThat(accepted(verifier(source, "RS256").verify(token)).subject()).isEqualTo("alice");
        }
    }

    @Test
    void ecTokensVerify() {
        KeyPair p384 = TestTokens.ec("secp384r1");

        assertThat(accepted(verifier(pem(P256.getPublic()), "ES256")
                .verify(sign("ES256", P256.getPrivate(), null, claims("alice")))).subject()).isEqualTo("alice");
        assertThat(accepted(verifier(pem(p384.getPublic()), "ES384")
                .verify(sign("ES384", p384.getPrivate(), null, claims("bob")))).subject()).isEqualTo("bob");
    }

    @Test
    void ed25519TokensVerifyUnderEitherAlgorithmName() {
        JwtVerifier verifier = verifier(pem(ED25519.getPublic()), "EdDSA", "Ed25519");

        assertThat(accepted(verifier.verify(sign("EdDSA", ED25519.getPrivate(), null, claims("alice")))).subject())
                .isEqualTo("alice");
        assertThat(accepted(verifier.verify(sign("Ed25519", ED25519.getPrivate(), null, claims("bob")))).subject())
                .isEqualTo("bob");
    }

    @Test
    void tamperedOrForeignSignaturesAreRejectedForEveryKeyType() {
        KeyPair otherEd = TestTokens.ed25519();
        JwtVerifier rsa = verifier(pem(RSA.getPublic()), "RS256");
        JwtVerifier ec = verifier(pem(P256.getPublic()), "ES256");
        JwtVerifier ed = verifier(pem(ED25519.getPublic()), "EdDSA");
        String rsaToken = sign("RS256", RSA.getPrivate(), null, claims("alice"));
        String ecToken = sign("ES256", P256.getPrivate(), null, claims("alice"));
        String edToken = sign("EdDSA", ED25519.getPrivate(), null, claims("alice"));

        assertThat(reason(rsa.verify(tamper(rsaToken, 1)))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(rsa.verify(tamper(rsaToken, 2)))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(ec.verify(tamper(ecToken, 1)))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(ec.verify(tamper(ecToken, 2)))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(ed.verify(tamper(edToken, 1)))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(ed.verify(tamper(edToken, 2)))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(ed.verify(sign("EdDSA", otherEd.getPrivate(), null, claims("alice")))))
                .isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void ecdsaSignatureInDerInsteadOfJoseFormatIsRejected() throws Exception {
        String input = TestTokens.signingInput(header("ES256", null), claims("alice"));
        Signature der = Signature.getInstance("SHA256withECDSA");
        der.initSign(P256.getPrivate());
        der.update(input.getBytes(StandardCharsets.US_ASCII));
        String token = input + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(der.sign());

        assertThat(reason(verifier(pem(P256.getPublic()), "ES256").verify(token))).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void hmacTokenSignedWithThePublicKeyIsRejected() {
        // Key confusion: an attacker signs HS256 with the (public) RSA key as the HMAC secret.
        String pem = pem(RSA.getPublic());
        JwtVerifier verifier = verifier(pem, "RS256");

        for (byte[] secret : new byte[][] {pem.getBytes(StandardCharsets.US_ASCII), RSA.getPublic().getEncoded()}) {
            String forged = hmac("HS256", secret, header("HS256", null), claims("mallory"));
            assertThat(reason(verifier.verify(forged))).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        }
    }

    @Test
    void tokenAlgorithmThatDoesNotMatchTheKeyIsRejected() {
        JwtVerifier rs256 = verifier(pem(RSA.getPublic()), "RS256");
        KeyPair p384 = TestTokens.ec("secp384r1");

        assertThat(reason(rs256.verify(sign("RS384", RSA.getPrivate(), null, claims("alice")))))
                .isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(reason(verifier(pem(P256.getPublic()), "ES256")
                .verify(sign("ES384", p384.getPrivate(), null, claims("alice")))))
                .isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void algorithmsThatDoNotFitTheKeyAreDroppedAsTheLoaderDefaultNeeds() {
        // ConfigLoader's default for a public key is RS256, ES256 and EdDSA, whatever the key type.
        JwtVerifier verifier = verifier(pem(P256.getPublic()), "RS256", "ES256", "EdDSA");

        assertThat(accepted(verifier.verify(sign("ES256", P256.getPrivate(), null, claims("alice")))).subject())
                .isEqualTo("alice");
        assertThat(reason(verifier.verify(sign("RS256", RSA.getPrivate(), null, claims("alice")))))
                .isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(reason(verifier.verify(sign("EdDSA", ED25519.getPrivate(), null, claims("alice")))))
                .isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
    }

    /** Extracts the PKCS#1 RSAPublicKey from an SPKI encoding (a 2048-bit key's fixed 24-byte prefix). */
    private static byte[] pkcs1(byte[] spki) {
        return Arrays.copyOfRange(spki, 24, spki.length);
    }
}
