package dev.portcullis.gateway.auth;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The claim checks a token passes once its signature verifies: {@code sub} and {@code exp} are
 * required; {@code exp} and {@code nbf} hold within the clock skew; {@code iss} equals the
 * configured issuer and {@code aud} shares a value with the configured audience, when configured
 * (a token lacking them then fails with {@code missing_claim}).
 *
 * <p>Two rules keep a logout binding for the token's whole life: a revocation is remembered for
 * {@code auth.max-token-lifetime}, so a token whose {@code exp} lies further ahead than that is
 * refused ({@code lifetime_too_long}), and a revocation refuses tokens issued before it, so a token
 * whose {@code iat} lies in the future beyond the skew is refused ({@code issued_in_future}).
 */
final class ClaimRules {
    /** 9999-12-31T23:59:59Z in epoch seconds: the largest time claim read as one. */
    static final long MAX_NUMERIC_DATE = 253_402_300_799L;

    private final String issuer;
    private final Set<String> audience;
    private final Duration clockSkew;
    private final Duration maxLifetime;

    /** Issuer null or blank and audience empty accept any; {@code maxLifetime} null: no limit. */
    ClaimRules(String issuer, List<String> audience, Duration clockSkew, Duration maxLifetime) {
        this.issuer = issuer == null || issuer.isBlank() ? null : issuer;
        this.audience = Set.copyOf(audience);
        this.clockSkew = clockSkew;
        this.maxLifetime = maxLifetime;
    }

    /**
     * The time claims ({@code exp}, {@code nbf}, {@code iat}) as the token writes them: numbers, and
     * within the years -9999 to 9999. A value further out gets the reason it would have with a real
     * clock ({@code exp} 1e300 lives too long, {@code nbf} 1e300 is not valid yet), where Nimbus's
     * conversion to milliseconds would wrap it around into the past and let it pass
     * (JwtAttackMatrixTest).
     */
    void checkNumericDates(Map<String, Object> payload) {
        Double exp = numericDate(payload, "exp");
        if (exp != null && exp > MAX_NUMERIC_DATE) {
            throw maxLifetime != null ? new TokenRejectedException(Reason.LIFETIME_TOO_LONG) : outOfRange("exp");
        }
        if (exp != null && exp < -MAX_NUMERIC_DATE) {
            throw new TokenRejectedException(Reason.EXPIRED);
        }
        Double nbf = numericDate(payload, "nbf");
        if (nbf != null && nbf > MAX_NUMERIC_DATE) {
            throw new TokenRejectedException(Reason.NOT_YET_VALID);
        }
        Double iat = numericDate(payload, "iat");
        if (iat != null && iat > MAX_NUMERIC_DATE) {
            throw new TokenRejectedException(Reason.ISSUED_IN_FUTURE);
        }
        if (nbf != null && nbf < -MAX_NUMERIC_DATE || iat != null && iat < -MAX_NUMERIC_DATE) {
            throw outOfRange(nbf != null && nbf < -MAX_NUMERIC_DATE ? "nbf" : "iat");
        }
    }

    /** The claim as a number, null when absent; not a number is {@code malformed} naming the claim. */
    private static Double numericDate(Map<String, Object> payload, String claim) {
        Object value = payload.get(claim);
        if (value == null) {
            return null;
        }
        if (!(value instanceof Number number)) {
            throw new TokenRejectedException(Reason.MALFORMED, "the token's " + claim + " claim is not a number of seconds");
        }
        double seconds = number.doubleValue();
        return Double.isNaN(seconds) ? Double.POSITIVE_INFINITY : seconds;
    }

    private static TokenRejectedException outOfRange(String claim) {
        return new TokenRejectedException(Reason.MALFORMED, "the token's " + claim + " claim is out of range");
    }

    Principal check(JWTClaimsSet claims, Instant now) {
        String subject = claims.getSubject();
        if (subject == null || subject.isBlank()) {
            throw TokenRejectedException.missingClaim("sub");
        }
        if (subject.chars().anyMatch(c -> c < 0x20 || (c >= 0x7f && c <= 0x9f))) {
            // CR, LF, NUL, ESC... in a user id would reach logs, metrics exports and channel names (user:<sub>).
            throw new TokenRejectedException(Reason.MALFORMED);
        }
        Date exp = claims.getExpirationTime();
        if (exp == null) {
            throw TokenRejectedException.missingClaim("exp");
        }
        Instant expiresAt = exp.toInstant();
        if (!now.isBefore(expiresAt.plus(clockSkew))) {
            throw new TokenRejectedException(Reason.EXPIRED);
        }
        if (maxLifetime != null && expiresAt.isAfter(now.plus(maxLifetime).plus(clockSkew))) {
            throw new TokenRejectedException(Reason.LIFETIME_TOO_LONG);
        }
        Date issued = claims.getIssueTime();
        if (issued != null && issued.toInstant().isAfter(now.plus(clockSkew))) {
            throw new TokenRejectedException(Reason.ISSUED_IN_FUTURE);
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && now.plus(clockSkew).isBefore(nbf.toInstant())) {
            throw new TokenRejectedException(Reason.NOT_YET_VALID);
        }
        if (issuer != null) {
            if (claims.getIssuer() == null) {
                throw TokenRejectedException.missingClaim("iss");
            }
            if (!issuer.equals(claims.getIssuer())) {
                throw new TokenRejectedException(Reason.WRONG_ISSUER);
            }
        }
        if (!audience.isEmpty()) {
            List<String> tokenAudience = claims.getAudience();
            if (tokenAudience.isEmpty()) {
                throw TokenRejectedException.missingClaim("aud");
            }
            if (tokenAudience.stream().filter(Objects::nonNull).noneMatch(audience::contains)) {
                throw new TokenRejectedException(Reason.WRONG_AUDIENCE);
            }
        }
        Date iat = claims.getIssueTime();
        return new Principal(subject, iat == null ? null : iat.toInstant(), expiresAt, claims.toJSONObject());
    }
}
