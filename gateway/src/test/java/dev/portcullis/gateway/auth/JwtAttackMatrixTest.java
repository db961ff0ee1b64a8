package dev.portcullis.gateway.auth;

import static dev.portcullis.gateway.auth.AuthConfigs.auth;
import static dev.portcullis.gateway.auth.TestTokens.NOW;
import static dev.portcullis.gateway.auth.TestTokens.SECRET;
import static dev.portcullis.gateway.auth.TestTokens.b64;
import static dev.portcullis.gateway.auth.TestTokens.claims;
import static dev.portcullis.gateway.auth.TestTokens.header;
import static dev.portcullis.gateway.auth.TestTokens.hmac;
import static dev.portcullis.gateway.auth.TestTokens.pem;
import static dev.portcullis.gateway.auth.TestTokens.signWithHeader;
import static org.assertj.core.api.Assertions.assertThat;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import dev.portcullis.gateway.testing.MutableClock;
import io.netty.pkitesting.CertificateBuilder;
import io.netty.pkitesting.X509Bundle;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The known attacks on JWT verification, one row each, with the exact reason each must be refused
 * for (not only "refused"): a wrong reason hides which defence held, and a generic one tells the
 * operator nothing. Some rows go end to end in {@code JwtAttackIT}. Every verifier has a row that
 * it accepts, so a refusal is never just a verifier that refuses everything.
 *
 * <p>Verifiers: {@code hs} (HS256 secret), {@code rs} (RS256 public key), {@code es} (ES256 public
 * key) and {@code jwks} (RS256 and ES256 from a key set with {@code rsa-1} and {@code ec-1}); the
 * lifetime limit is 24 h, the clock stands at {@link TestTokens#NOW}, no skew.
 */
class JwtAttackMatrixTest {
    private static final KeyPair RSA = TestTokens.rsa(2048);
    private static final KeyPair P256 = TestTokens.ec("secp256r1");
    private static final KeyPair ATTACKER_RSA = TestTokens.rsa(2048);
    private static final byte[] SECRET_BYTES = SECRET.getBytes(StandardCharsets.UTF_8);
    private static final long EXP = NOW.plus(Duration.ofHours(1)).getEpochSecond();

    private static final MutableClock CLOCK = new MutableClock(NOW);
    private static final JwksServer JWKS = new JwksServer();
    private static final Map<String, JwtVerifier> VERIFIERS = verifiers();

    @AfterAll
    static void close() {
        VERIFIERS.values().forEach(JwtVerifier::close);
        JWKS.close();
    }

    /** One attack: the verifier it targets, the token, and the reason (null: accepted). */
    record Attack(String name, String verifier, String token, Reason expected) {
        @Override
        public String toString() {
            return name + " -> " + (expected == null ? "accepted" : expected.code());
        }
    }

    static Stream<Attack> attacks() {
        List<Attack> rows = new ArrayList<>();
        // Controls: each verifier accepts an honest token.
        rows.add(new Attack("honest HS256", "hs", hs256(claims("alice")), null));
        rows.add(new Attack("honest RS256", "rs", signWithHeader("RS256", RSA.getPrivate(), header("RS256", null), claims("alice")), null));
        rows.add(new Attack("honest ES256", "es", signWithHeader("ES256", P256.getPrivate(), header("ES256", null), claims("alice")), null));
        rows.add(new Attack("honest RS256 by kid", "jwks", signWithHeader("RS256", RSA.getPrivate(), header("RS256", "rsa-1"), claims("alice")), null));
        rows.add(new Attack("honest ES256 by kid", "jwks", signWithHeader("ES256", P256.getPrivate(), header("ES256", "ec-1"), claims("alice")), null));

        // alg none, every casing, with and without a signature
        String honest = hs256(claims("alice"));
        String honestSignature = honest.substring(honest.lastIndexOf('.') + 1);
        for (String none : List.of("none", "None", "NONE", "nOnE")) {
            String unsigned = b64("{\"alg\":\"" + none + "\",\"typ\":\"JWT\"}") + "." + b64(json(claims("admin")));
            for (String verifier : List.of("hs", "rs", "jwks")) {
                rows.add(new Attack("alg " + none + " unsigned (" + verifier + ")", verifier, unsigned + ".", Reason.ALGORITHM_NOT_ALLOWED));
            }
            rows.add(new Attack("alg " + none + " with a signature", "hs", unsigned + "." + honestSignature, Reason.ALGORITHM_NOT_ALLOWED));
        }

        // Key confusion: HS256 signed with the public key as the HMAC secret
        for (var encoding : List.<Function<KeyPair, byte[]>>of(
                keys -> pem(keys.getPublic()).getBytes(StandardCharsets.US_ASCII), keys -> keys.getPublic().getEncoded())) {
            rows.add(new Attack("HS256 with the RSA public key as secret", "rs",
                    hmac("HS256", encoding.apply(RSA), header("HS256", null), claims("admin")), Reason.ALGORITHM_NOT_ALLOWED));
            rows.add(new Attack("HS256 with the EC public key as secret", "es",
                    hmac("HS256", encoding.apply(P256), header("HS256", null), claims("admin")), Reason.ALGORITHM_NOT_ALLOWED));
            rows.add(new Attack("HS256 with a JWKS key as secret", "jwks",
                    hmac("HS256", encoding.apply(RSA), header("HS256", "rsa-1"), claims("admin")), Reason.ALGORITHM_NOT_ALLOWED));
        }

        // Keys the token brings itself: ignored, so the attacker's signature fails on our key
        X509Bundle attackerCert = selfSigned();
        Map<String, Object> attackerJwk = new RSAKey.Builder((RSAPublicKey) attackerCert.getKeyPair().getPublic()).build().toJSONObject();
        for (String verifier : List.of("rs", "jwks")) {
            String kid = verifier.equals("jwks") ? "rsa-1" : null;
            rows.add(attackerSigned("jwk header", verifier, kid, attackerCert, Map.of("jwk", attackerJwk)));
            rows.add(attackerSigned("jku header", verifier, kid, attackerCert, Map.of("jku", "https://attacker.example/jwks.json")));
            rows.add(attackerSigned("x5u header", verifier, kid, attackerCert, Map.of("x5u", "https://attacker.example/cert.pem")));
            rows.add(attackerSigned("x5c header", verifier, kid, attackerCert, Map.of("x5c", List.of(der(attackerCert)))));
        }
        Map<String, Object> jwkWithOwnKid = new LinkedHashMap<>(header("RS256", "attacker"));
        jwkWithOwnKid.put("jwk", attackerJwk);
        rows.add(new Attack("jwk header naming its own kid", "jwks",
                signWithHeader("RS256", attackerCert.getKeyPair().getPrivate(), jwkWithOwnKid, claims("admin")), Reason.UNKNOWN_KEY));

        // kid tricks
        for (String kid : List.of("../../../../../../dev/null", "' OR '1'='1", "rsa-1' --", "unknown", "", "RSA-1")) {
            rows.add(new Attack("kid " + kid, "jwks", signWithHeader("RS256", RSA.getPrivate(), header("RS256", kid), claims("admin")),
                    Reason.UNKNOWN_KEY));
        }
        rows.add(new Attack("kid of the EC key on an RS256 token", "jwks",
                signWithHeader("RS256", RSA.getPrivate(), header("RS256", "ec-1"), claims("admin")), Reason.UNKNOWN_KEY));
        rows.add(new Attack("kid of the RSA key on an ES256 token", "jwks",
                signWithHeader("ES256", P256.getPrivate(), header("ES256", "rsa-1"), claims("admin")), Reason.UNKNOWN_KEY));
        rows.add(new Attack("kid /dev/null and an all-zero secret", "hs",
                hmac("HS256", new byte[32], header("HS256", "../../../../../../dev/null"), claims("admin")), Reason.BAD_SIGNATURE));

        // Header parameters we do not understand
        Map<String, Object> crit = new LinkedHashMap<>(header("HS256", null));
        crit.put("crit", List.of("x-policy"));
        crit.put("x-policy", "lax");
        rows.add(new Attack("unknown crit", "hs", hmac("HS256", SECRET_BYTES, crit, claims("admin")), Reason.MALFORMED));
        Map<String, Object> critB64 = new LinkedHashMap<>(header("HS256", null));
        critB64.put("crit", List.of("b64"));
        critB64.put("b64", false);
        rows.add(new Attack("crit b64=false (unencoded payload)", "hs", hmac("HS256", SECRET_BYTES, critB64, claims("admin")), Reason.MALFORMED));
        // b64=false without crit, signed as RFC 7797 would (over the payload as it is): Nimbus would check that signature
        String unencodedHeader = b64("{\"alg\":\"HS256\",\"b64\":false}");
        String unencodedClaims = json(claims("admin"));
        String unencodedSigned = hmac("HS256", SECRET_BYTES, unencodedHeader + "." + unencodedClaims);
        rows.add(new Attack("b64=false without crit", "hs", unencodedHeader + "." + b64(unencodedClaims) + "."
                + unencodedSigned.substring(unencodedSigned.lastIndexOf('.') + 1), Reason.MALFORMED));

        // exp of the wrong type, and values beyond any clock
        for (String exp : List.of("\"" + EXP + "\"", "true", "[" + EXP + "]", "{\"t\":" + EXP + "}")) {
            rows.add(new Attack("exp " + exp, "hs", hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + exp + "}"), Reason.MALFORMED));
        }
        rows.add(new Attack("exp as a fraction (a NumericDate may be one)", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + EXP + ".75}"), null));
        for (String huge : List.of("1e300", "9223372036854775808", "9223372036854775807", "9223372036854776", "253402300800")) {
            rows.add(new Attack("exp " + huge, "hs", hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + huge + "}"),
                    Reason.LIFETIME_TOO_LONG));
        }
        rows.add(new Attack("exp -1e300", "hs", hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":-1e300}"), Reason.EXPIRED));
        rows.add(new Attack("iat 1e300", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + EXP + ",\"iat\":1e300}"), Reason.ISSUED_IN_FUTURE));
        rows.add(new Attack("nbf 1e300", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + EXP + ",\"nbf\":1e300}"), Reason.NOT_YET_VALID));
        rows.add(new Attack("iat \"now\"", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + EXP + ",\"iat\":\"now\"}"), Reason.MALFORMED));

        // The lifetime rule
        Map<String, Object> tooLong = claims("alice");
        tooLong.put("exp", NOW.plus(Duration.ofHours(25)).getEpochSecond());
        rows.add(new Attack("exp 25 h ahead (limit 24 h)", "hs", hs256(tooLong), Reason.LIFETIME_TOO_LONG));
        Map<String, Object> future = claims("alice");
        future.put("iat", NOW.plus(Duration.ofMinutes(10)).getEpochSecond());
        rows.add(new Attack("iat 10 min ahead", "hs", hs256(future), Reason.ISSUED_IN_FUTURE));

        // Other token forms
        rows.add(new Attack("JWE (5 parts)", "hs",
                b64("{\"alg\":\"dir\",\"enc\":\"A128GCM\"}") + "..AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA", Reason.ALGORITHM_NOT_ALLOWED));
        rows.add(new Attack("JWE naming RSA-OAEP", "rs",
                b64("{\"alg\":\"RSA-OAEP-256\",\"enc\":\"A256GCM\"}") + ".AAAA.AAAAAAAAAAAAAAAA.AAAA.AAAAAAAAAAAAAAAAAAAAAA", Reason.ALGORITHM_NOT_ALLOWED));
        Map<String, Object> nestedHeader = new LinkedHashMap<>(header("HS256", null));
        nestedHeader.put("cty", "JWT");
        rows.add(new Attack("nested token (cty JWT)", "hs",
                hmac("HS256", SECRET_BYTES, b64(json(nestedHeader)) + "." + b64(hs256(claims("admin")))), Reason.MALFORMED));
        rows.add(new Attack("nested token (cty jwt, a JSON string payload)", "hs",
                hmac("HS256", SECRET_BYTES, b64("{\"alg\":\"HS256\",\"cty\":\"jwt\"}") + "." + b64("\"" + hs256(claims("admin")) + "\"")),
                Reason.MALFORMED));
        Map<String, Object> oversized = claims("alice");
        oversized.put("pad", "x".repeat(JwtVerifier.MAX_TOKEN_CHARS));
        rows.add(new Attack("oversized (signed)", "hs", hs256(oversized), Reason.MALFORMED));
        rows.add(new Attack("oversized (garbage)", "hs", "e".repeat(JwtVerifier.MAX_TOKEN_CHARS + 1), Reason.MALFORMED));
        rows.add(new Attack("two parts", "hs", b64("{\"alg\":\"HS256\"}") + "." + b64(json(claims("admin"))), Reason.MALFORMED));

        // Duplicate JSON keys: parsers disagree on which one wins
        rows.add(new Attack("duplicate alg in the header", "hs",
                hs256Raw("{\"alg\":\"HS256\",\"alg\":\"none\"}", json(claims("alice"))), Reason.MALFORMED));
        rows.add(new Attack("duplicate sub in the payload", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"sub\":\"admin\",\"exp\":" + EXP + "}"), Reason.MALFORMED));
        rows.add(new Attack("duplicate exp in the payload", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + EXP + ",\"exp\":1e300}"), Reason.MALFORMED));
        rows.add(new Attack("duplicate name in a nested claim", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "{\"sub\":\"alice\",\"exp\":" + EXP + ",\"channels\":{\"a\":\"r\",\"a\":\"rw\"}}"),
                Reason.MALFORMED));

        // Not JSON objects, which Gson (Nimbus's reader) would still read as maps of name/value pairs
        rows.add(new Attack("header as an array of pairs", "hs",
                hs256Raw("[[\"alg\",\"HS256\"]]", json(claims("alice"))), Reason.MALFORMED));
        rows.add(new Attack("claims as an array of pairs", "hs",
                hs256Raw("{\"alg\":\"HS256\"}", "[[\"sub\",\"alice\"],[\"exp\"," + EXP + "]]"), Reason.MALFORMED));
        rows.add(new Attack("claims null", "hs", hs256Raw("{\"alg\":\"HS256\"}", "null"), Reason.MALFORMED));

        // ECDSA r = s = 0 ("psychic signatures", CVE-2022-21449), and r = s = n
        String esInput = b64(json(header("ES256", null))) + "." + b64(json(claims("admin")));
        rows.add(new Attack("ES256 with r = s = 0", "es", esInput + "." + B64.encodeToString(new byte[64]), Reason.BAD_SIGNATURE));
        rows.add(new Attack("ES256 with r = s = 0 by kid", "jwks",
                b64(json(header("ES256", "ec-1"))) + "." + b64(json(claims("admin"))) + "." + B64.encodeToString(new byte[64]), Reason.BAD_SIGNATURE));
        byte[] order = curveOrder();
        byte[] rsN = new byte[64];
        System.arraycopy(order, 0, rsN, 0, 32);
        System.arraycopy(order, 0, rsN, 32, 32);
        rows.add(new Attack("ES256 with r = s = n", "es", esInput + "." + B64.encodeToString(rsN), Reason.BAD_SIGNATURE));
        rows.add(new Attack("ES256 with an empty signature (no JWS)", "es", esInput + ".", Reason.MALFORMED));
        return rows.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("attacks")
    void eachAttackIsRefusedForItsReason(Attack attack) {
        var verification = VERIFIERS.get(attack.verifier()).verify(attack.token());
        if (attack.expected() == null) {
            assertThat(TestTokens.accepted(verification).subject()).isEqualTo("alice");
        } else {
            TokenRejectedException rejection = TestTokens.rejection(verification);
            assertThat(rejection.reason()).as(rejection.getMessage()).isEqualTo(attack.expected());
            assertThat(rejection.getMessage()).isNotBlank();
        }
    }

    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private static Map<String, JwtVerifier> verifiers() {
        JWKS.serve(
                new RSAKey.Builder((RSAPublicKey) RSA.getPublic()).keyID("rsa-1").keyUse(KeyUse.SIGNATURE).algorithm(JWSAlgorithm.RS256).build(),
                new ECKey.Builder(Curve.P_256, (ECPublicKey) P256.getPublic()).keyID("ec-1").keyUse(KeyUse.SIGNATURE).build());
        return Map.of(
                "hs", JwtVerifier.create(auth("HS256").hmacSecret(SECRET).build(), CLOCK),
                "rs", JwtVerifier.create(auth("RS256").publicKey(pem(RSA.getPublic())).build(), CLOCK),
                "es", JwtVerifier.create(auth("ES256").publicKey(pem(P256.getPublic())).build(), CLOCK),
                "jwks", JwtVerifier.create(auth("RS256", "ES256").jwks(JWKS.uri()).build(), CLOCK));
    }

    private static Attack attackerSigned(String name, String verifier, String kid, X509Bundle attacker, Map<String, Object> extra) {
        Map<String, Object> header = new LinkedHashMap<>(header("RS256", kid));
        header.putAll(extra);
        return new Attack(name + " (" + verifier + ")", verifier,
                signWithHeader("RS256", attacker.getKeyPair().getPrivate(), header, claims("admin")), Reason.BAD_SIGNATURE);
    }

    private static String hs256(Map<String, Object> claims) {
        return hmac("HS256", SECRET_BYTES, header("HS256", null), claims);
    }

    /** Signs header and payload exactly as written (duplicate keys, odd numbers). */
    private static String hs256Raw(String header, String payload) {
        return hmac("HS256", SECRET_BYTES, b64(header) + "." + b64(payload));
    }

    private static String json(Map<String, Object> map) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().writeValueAsString(map);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new AssertionError(e);
        }
    }

    private static X509Bundle selfSigned() {
        try {
            return new CertificateBuilder().subject("CN=attacker").rsa2048().setIsCertificateAuthority(true).buildSelfSigned();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    private static String der(X509Bundle bundle) {
        try {
            return Base64.getEncoder().encodeToString(bundle.getCertificate().getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new AssertionError(e);
        }
    }

    /** The order n of P-256, 32 bytes big-endian. */
    private static byte[] curveOrder() {
        byte[] n = ((ECPublicKey) P256.getPublic()).getParams().getOrder().toByteArray();
        return java.util.Arrays.copyOfRange(n, n.length - 32, n.length);
    }
}
