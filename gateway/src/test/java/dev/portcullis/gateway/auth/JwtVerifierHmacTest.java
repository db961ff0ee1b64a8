package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.testing.MutableClock;
import static dev.portcullis.gateway.auth.AuthConfigs.auth;
import static dev.portcullis.gateway.auth.TestTokens.NOW;
import static dev.portcullis.gateway.auth.TestTokens.SECRET;
import static dev.portcullis.gateway.auth.TestTokens.accepted;
import static dev.portcullis.gateway.auth.TestTokens.b64;
import static dev.portcullis.gateway.auth.TestTokens.claims;
import static dev.portcullis.gateway.auth.TestTokens.header;
import static dev.portcullis.gateway.auth.TestTokens.hmac;
import static dev.portcullis.gateway.auth.TestTokens.hs256;
import static dev.portcullis.gateway.auth.TestTokens.reason;
import static dev.portcullis.gateway.auth.TestTokens.rejection;
import static dev.portcullis.gateway.auth.TestTokens.tamper;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class JwtVerifierHmacTest {

    private final MutableClock clock = new MutableClock(NOW);
    private final JwtVerifier verifier = JwtVerifier.create(auth("HS256").hmacSecret(SECRET).build(), clock);

    @Test
    void validTokenCompletesAtOnceWithItsPrincipal() {
        Map<String, Object> claims = claims("alice");
        claims.put("channels", List.of("news", "chat"));
        claims.put("profile", Map.of("tier", "gold"));

        CompletableFuture<Principal> verification = verifier.verify(hs256(claims));

        assertThat(verification).isCompleted();
        Principal principal = accepted(verification);
        assertThat(principal.subject()).isEqualTo("alice");
        assertThat(principal.issuedAt()).isEqualTo(NOW);
        assertThat(principal.expiresAt()).isEqualTo(NOW.plus(Duration.ofHours(1)));
        assertThat(principal.claims())
                .containsEntry("sub", "alice")
                .containsEntry("exp", NOW.plus(Duration.ofHours(1)).getEpochSecond())
                .containsEntry("channels", List.of("news", "chat"))
                .containsEntry("profile", Map.of("tier", "gold"));
    }

    @Test
    void principalClaimsAreDeeplyImmutableAndNotPrintedByValue() {
        Map<String, Object> claims = claims("alice");
        claims.put("channels", List.of("secret-channel"));
        Principal principal = accepted(verifier.verify(hs256(claims)));

        assertThatThrownBy(() -> principal.claims().put("x", 1)).isInstanceOf(UnsupportedOperationException.class);
        @SuppressWarnings("unchecked")
        List<Object> channels = (List<Object>) principal.claims().get("channels");
        assertThatThrownBy(() -> channels.add("more")).isInstanceOf(UnsupportedOperationException.class);
        assertThat(principal.toString()).contains("alice", "channels").doesNotContain("secret-channel");
    }

    @Test
    void tokenWithoutIssuedAtHasNullIssuedAt() {
        Map<String, Object> claims = claims("alice");
        claims.remove("iat");

        assertThat(accepted(verifier.verify(hs256(claims))).issuedAt()).isNull();
    }

    @Test
    void expiredTokenIsRejected() {
        String token = hs256(claims("alice"));
        clock.advance(Duration.ofHours(1));

        assertThat(reason(verifier.verify(token))).isEqualTo(Reason.EXPIRED);
    }

    @Test
    void expiredTokenWithinClockSkewIsAccepted() {
        JwtVerifier lenient = JwtVerifier.create(
                auth("HS256").hmacSecret(SECRET).clockSkew(Duration.ofSeconds(30)).build(), clock);
        String token = hs256(claims("alice"));

        clock.advance(Duration.ofHours(1).plusSeconds(10));
        assertThat(accepted(lenient.verify(token)).subject()).isEqualTo("alice");

        clock.advance(Duration.ofSeconds(20));
        assertThat(reason(lenient.verify(token))).isEqualTo(Reason.EXPIRED);
    }

    @Test
    void aTokenThatWouldOutliveTheMemoryOfALogoutIsRefused() {
        // auth.max-token-lifetime is 24h (AuthConfigs): revocations are kept that long.
        Map<String, Object> tenYears = claims("alice");
        tenYears.put("exp", NOW.plus(Duration.ofDays(3650)).getEpochSecond());
        assertThat(reason(verifier.verify(hs256(tenYears)))).isEqualTo(Reason.LIFETIME_TOO_LONG);
        Map<String, Object> aDay = claims("alice");
        aDay.put("exp", NOW.plus(Duration.ofHours(24)).getEpochSecond());
        assertThat(accepted(verifier.verify(hs256(aDay))).subject()).isEqualTo("alice");
    }

    @Test
    void aSubjectWithControlCharactersIsMalformed() {
        for (String subject : new String[] {"eve\r\nadmin", "eve\u0000", "eve\u001b[2J", "eve\u0085"}) {
            assertThat(reason(verifier.verify(hs256(claims(subject))))).as("%s", subject).isEqualTo(Reason.MALFORMED);
        }
        assertThat(accepted(verifier.verify(hs256(claims("ève-42@example.com")))).subject()).isEqualTo("ève-42@example.com");
    }

    @Test
    void aTokenIssuedInTheFutureIsRefusedBeyondTheSkew() {
        Map<String, Object> nextYear = claims("alice");
        nextYear.put("iat", NOW.plus(Duration.ofDays(365)).getEpochSecond());
        nextYear.put("exp", NOW.plus(Duration.ofHours(1)).getEpochSecond());
        assertThat(reason(verifier.verify(hs256(nextYear)))).isEqualTo(Reason.ISSUED_IN_FUTURE);
        Map<String, Object> aLittleAhead = claims("alice");
        aLittleAhead.put("iat", NOW.plusSeconds(20).getEpochSecond());
        JwtVerifier lenient = JwtVerifier.create(
                auth("HS256").hmacSecret(SECRET).clockSkew(Duration.ofSeconds(30)).build(), clock);
        assertThat(accepted(lenient.verify(hs256(aLittleAhead))).subject()).as("within the skew").isEqualTo("alice");
    }

    @Test
    void tokenBeforeItsNotBeforeTimeIsRejectedUnlessWithinSkew() {
        Map<String, Object> claims = claims("alice");
        claims.put("nbf", NOW.plusSeconds(20).getEpochSecond());
        String token = hs256(claims);
        JwtVerifier lenient = JwtVerifier.create(
                auth("HS256").hmacSecret(SECRET).clockSkew(Duration.ofSeconds(30)).build(), clock);

        assertThat(reason(verifier.verify(token))).isEqualTo(Reason.NOT_YET_VALID);
        assertThat(accepted(lenient.verify(token)).subject()).isEqualTo("alice");
        clock.advance(Duration.ofSeconds(20));
        assertThat(accepted(verifier.verify(token)).subject()).isEqualTo("alice");
    }

    @Test
    void issuerIsCheckedWhenConfigured() {
        JwtVerifier strict = JwtVerifier.create(
                auth("HS256").hmacSecret(SECRET).issuer("https://idp.example").build(), clock);
        Map<String, Object> claims = claims("alice");

        assertThat(reason(strict.verify(hs256(claims)))).isEqualTo(Reason.MISSING_CLAIM);
        claims.put("iss", "https://evil.example");
        assertThat(reason(strict.verify(hs256(claims)))).isEqualTo(Reason.WRONG_ISSUER);
        claims.put("iss", "https://idp.example");
        assertThat(accepted(strict.verify(hs256(claims))).subject()).isEqualTo("alice");
    }

    @Test
    void audienceMustShareOneConfiguredValue() {
        JwtVerifier strict = JwtVerifier.create(
                auth("HS256").hmacSecret(SECRET).audience("portcullis", "chat").build(), clock);
        Map<String, Object> claims = claims("alice");

        assertThat(reason(strict.verify(hs256(claims)))).isEqualTo(Reason.MISSING_CLAIM);
        claims.put("aud", List.of("billing", "reports"));
        assertThat(reason(strict.verify(hs256(claims)))).isEqualTo(Reason.WRONG_AUDIENCE);
        claims.put("aud", List.of("billing", "chat"));
        assertThat(accepted(strict.verify(hs256(claims))).subject()).isEqualTo("alice");
        claims.put("aud", "portcullis");
        assertThat(accepted(strict.verify(hs256(claims))).subject()).isEqualTo("alice");
    }

    @Test
    void tamperedPayloadOrSignatureIsRejected() {
        String token = hs256(claims("alice"));

        assertThat(reason(verifier.verify(tamper(token, 1)))).isEqualTo(Reason.BAD_SIGNATURE);
        assertThat(reason(verifier.verify(tamper(token, 2)))).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void tokenSignedWithAnotherSecretIsRejected() {
        byte[] other = "another-secret-another-secret-another".getBytes(StandardCharsets.UTF_8);
        String token = hmac("HS256", other, header("HS256", null), claims("alice"));

        assertThat(reason(verifier.verify(token))).isEqualTo(Reason.BAD_SIGNATURE);
    }

    @Test
    void unsecuredTokensAreNeverAccepted() {
        String payload = b64("{\"sub\":\"alice\",\"exp\":" + NOW.plusSeconds(3600).getEpochSecond() + "}");
        String signed = hs256(claims("alice"));
        String signature = signed.substring(signed.lastIndexOf('.') + 1);

        for (String token : List.of(
                "eyJhbGciOiJub25lIn0." + payload + ".",
                "eyJhbGciOiJub25lIn0." + payload + "." + signature,
                b64("{\"alg\":\"None\"}") + "." + payload + ".",
                b64("{\"alg\":\"NONE\",\"typ\":\"JWT\"}") + "." + payload + "." + signature)) {
            assertThat(reason(verifier.verify(token))).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
        }
    }

    @Test
    void algorithmOutsideTheAllowedSetIsRejectedEvenWithAValidSignature() {
        byte[] secret = (SECRET + SECRET).getBytes(StandardCharsets.UTF_8);
        JwtVerifier hs256Only = JwtVerifier.create(auth("HS256").hmacSecret(SECRET + SECRET).build(), clock);
        String hs384 = hmac("HS384", secret, header("HS384", null), claims("alice"));

        assertThat(reason(hs256Only.verify(hs384))).isEqualTo(Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void subjectAndExpiryAreRequired() {
        Map<String, Object> noSubject = claims("alice");
        noSubject.remove("sub");
        Map<String, Object> blankSubject = claims(" ");
        Map<String, Object> noExpiry = claims("alice");
        noExpiry.remove("exp");

        TokenRejectedException missingSub = rejection(verifier.verify(hs256(noSubject)));
        assertThat(missingSub.reason()).isEqualTo(Reason.MISSING_CLAIM);
        assertThat(missingSub.getMessage()).contains("sub");
        assertThat(reason(verifier.verify(hs256(blankSubject)))).isEqualTo(Reason.MISSING_CLAIM);
        TokenRejectedException missingExp = rejection(verifier.verify(hs256(noExpiry)));
        assertThat(missingExp.reason()).isEqualTo(Reason.MISSING_CLAIM);
        assertThat(missingExp.getMessage()).contains("exp");
    }

    @Test
    void missingOversizedAndGarbledTokensAreRejectedWithoutParsing() {
        assertThat(reason(verifier.verify(null))).isEqualTo(Reason.MISSING_TOKEN);
        assertThat(reason(verifier.verify(""))).isEqualTo(Reason.MISSING_TOKEN);
        assertThat(reason(verifier.verify("x".repeat(JwtVerifier.MAX_TOKEN_CHARS + 1)))).isEqualTo(Reason.MALFORMED);
        Map<String, Object> huge = claims("alice");
        huge.put("padding", "p".repeat(JwtVerifier.MAX_TOKEN_CHARS));
        assertThat(reason(verifier.verify(hs256(huge)))).isEqualTo(Reason.MALFORMED);
        for (String garbage : List.of("abc", "a.b.c", "....", "Bearer " + hs256(claims("alice")), "{}.{}.{}")) {
            assertThat(reason(verifier.verify(garbage))).as(garbage).isEqualTo(Reason.MALFORMED);
        }
    }

    @Test
    void criticalHeaderParametersAreRefused() {
        Map<String, Object> header = header("HS256", null);
        header.put("crit", List.of("exp-policy"));
        header.put("exp-policy", "lax");
        String token = hmac("HS256", SECRET.getBytes(StandardCharsets.UTF_8), header, claims("alice"));

        assertThat(reason(verifier.verify(token))).isEqualTo(Reason.MALFORMED);
    }

    @Test
    void signedPayloadThatIsNotAClaimsObjectIsMalformed() {
        String input = b64("{\"alg\":\"HS256\"}") + "." + b64("[1,2,3]");
        String token = hmac("HS256", SECRET.getBytes(StandardCharsets.UTF_8), input);

        assertThat(reason(verifier.verify(token))).isEqualTo(Reason.MALFORMED);
    }

    @Test
    void rejectionsAreCheapAndNeverEchoTheToken() {
        Map<String, Object> claims = claims("alice");
        claims.put("nbf", Instant.parse("2031-01-01T00:00:00Z").getEpochSecond());
        String token = hs256(claims);

        TokenRejectedException rejection = rejection(verifier.verify(token));
        assertThat(rejection.getStackTrace()).isEmpty();
        assertThat(rejection.getMessage()).doesNotContain(token).doesNotContain("alice");
        assertThat(rejection.getMessage()).isEqualTo(Reason.NOT_YET_VALID.defaultMessage());
    }
}
