package dev.portcullis.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.ECGenParameterSpec;
import java.security.spec.MGF1ParameterSpec;
import java.security.spec.PSSParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keys and tokens for tests, built with the JDK alone (no Nimbus), so the verifier is checked
 * against an independent signer; also crafts tokens no honest signer would make.
 */
final class TestTokens {

    static final String SECRET = "0123456789abcdef0123456789abcdef"; // 32 bytes
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private TestTokens() {}

    /** sub, iat = NOW, exp = NOW + 1 h; mutable so tests can add or remove claims. */
    static Map<String, Object> claims(String subject) {
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put("sub", subject);
        claims.put("iat", NOW.getEpochSecond());
        claims.put("exp", NOW.plus(Duration.ofHours(1)).getEpochSecond());
        return claims;
    }

    static Map<String, Object> header(String alg, String kid) {
        Map<String, Object> header = new LinkedHashMap<>();
        header.put("alg", alg);
        header.put("typ", "JWT");
        if (kid != null) {
            header.put("kid", kid);
        }
        return header;
    }

    static String signingInput(Map<String, Object> header, Map<String, Object> claims) {
        return b64(json(header)) + "." + b64(json(claims));
    }

    static String hmac(String alg, byte[] secret, Map<String, Object> header, Map<String, Object> claims) {
        return hmac(alg, secret, signingInput(header, claims));
    }

    /** Signs any signing input, well-formed or not. */
    static String hmac(String alg, byte[] secret, String input) {
        try {
            String jdk = "Hmac" + "SHA" + alg.substring(2);
            Mac mac = Mac.getInstance(jdk);
            mac.init(new SecretKeySpec(secret, jdk));
            return input + "." + B64.encodeToString(mac.doFinal(input.getBytes(StandardCharsets.US_ASCII)));
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static String hs256(Map<String, Object> claims) {
        return hmac("HS256", SECRET.getBytes(StandardCharsets.UTF_8), header("HS256", null), claims);
    }

    static String sign(String alg, PrivateKey key, String kid, Map<String, Object> claims) {
        return signWithHeader(alg, key, header(alg, kid), claims);
    }

    static String signWithHeader(String alg, PrivateKey key, Map<String, Object> header, Map<String, Object> claims) {
        String input = signingInput(header, claims);
        try {
            Signature signature = switch (alg) {
                case "RS256" -> Signature.getInstance("SHA256withRSA");
                case "RS384" -> Signature.getInstance("SHA384withRSA");
                case "PS256" -> pss();
                case "ES256" -> Signature.getInstance("SHA256withECDSAinP1363Format");
                case "ES384" -> Signature.getInstance("SHA384withECDSAinP1363Format");
                case "EdDSA", "Ed25519" -> Signature.getInstance("Ed25519");
                default -> throw new IllegalArgumentException(alg);
            };
            signature.initSign(key);
            signature.update(input.getBytes(StandardCharsets.US_ASCII));
            return input + "." + B64.encodeToString(signature.sign());
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    private static Signature pss() throws GeneralSecurityException {
        Signature pss = Signature.getInstance("RSASSA-PSS");
        pss.setParameter(new PSSParameterSpec("SHA-256", "MGF1", MGF1ParameterSpec.SHA256, 32, 1));
        return pss;
    }

    static KeyPair rsa(int bits) {
        return generate("RSA", generator -> generator.initialize(bits));
    }

    static KeyPair ec(String curve) {
        return generate("EC", generator -> generator.initialize(new ECGenParameterSpec(curve)));
    }

    static KeyPair generateX25519() {
        return generate("X25519", generator -> {});
    }

    static KeyPair ed25519() {
        return generate("Ed25519", generator -> {});
    }

    private interface Init {
        void apply(KeyPairGenerator generator) throws GeneralSecurityException;
    }

    private static KeyPair generate(String algorithm, Init init) {
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(algorithm);
            init.apply(generator);
            return generator.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    static String pem(PublicKey key) {
        return pem("PUBLIC KEY", key.getEncoded());
    }

    static String pem(String label, byte[] der) {
        return "-----BEGIN " + label + "-----\n"
                + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + label + "-----\n";
    }

    /** The token with one character in the middle of part 0, 1 or 2 replaced. */
    static String tamper(String token, int part) {
        String[] parts = token.split("\\.", -1);
        char[] chars = parts[part].toCharArray();
        int middle = chars.length / 2;
        chars[middle] = chars[middle] == 'A' ? 'B' : 'A';
        parts[part] = new String(chars);
        return String.join(".", parts);
    }

    static String b64(String text) {
        return B64.encodeToString(text.getBytes(StandardCharsets.UTF_8));
    }

    private static String json(Map<String, Object> map) {
        try {
            return JSON.writeValueAsString(map);
        } catch (JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    /** The rejection a future failed with; asserts it failed with a bare {@link TokenRejectedException}. */
    static TokenRejectedException rejection(CompletableFuture<?> verification) {
        Throwable failure;
        try {
            failure = verification.handle((principal, error) -> error).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("verification did not finish", e);
        }
        assertThat(failure).as("rejection").isInstanceOf(TokenRejectedException.class);
        return (TokenRejectedException) failure;
    }

    static Reason reason(CompletableFuture<?> verification) {
        return rejection(verification).reason();
    }

    static Principal accepted(CompletableFuture<Principal> verification) {
        try {
            return verification.get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError("token was not accepted: " + e.getCause(), e);
        }
    }
}
