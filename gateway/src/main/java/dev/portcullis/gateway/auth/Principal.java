package dev.portcullis.gateway.auth;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Who a verified token speaks for.
 *
 * <p>The times are epoch milliseconds, not {@code Instant}s: every connection keeps its principal
 * for its whole life, and two {@code Instant}s are 48 bytes of it. A token's times are whole seconds
 * (a {@code Date} in Nimbus), so nothing is lost.
 *
 * @param subject the token's {@code sub}, never blank
 * @param issuedAtMillis the token's {@code iat}, or {@link #NO_IAT} when the token has none
 * @param expiresAtMillis the token's {@code exp}, without clock skew
 * @param claims every claim of the token as parsed JSON (strings, numbers, booleans, lists, maps;
 *     times in epoch seconds), deeply immutable
 */
public record Principal(String subject, long issuedAtMillis, long expiresAtMillis, Map<String, Object> claims) {
    /** {@link #issuedAtMillis} of a token without {@code iat}. */
    public static final long NO_IAT = Long.MIN_VALUE;

    public Principal {
        Objects.requireNonNull(subject, "subject");
        // Map.of() when empty: every connection keeps a principal without claims (withoutClaims), and an
        // empty copy would be ~100 bytes of map for each.
        claims = claims == null || claims.isEmpty() ? Map.of() : immutableMap(claims);
    }

    /** @param issuedAt the token's {@code iat}, or null when it has none; times to the millisecond */
    public Principal(String subject, Instant issuedAt, Instant expiresAt, Map<String, Object> claims) {
        this(subject, issuedAt == null ? NO_IAT : issuedAt.toEpochMilli(), Objects.requireNonNull(expiresAt, "expiresAt").toEpochMilli(),
                claims);
    }

    /** The token's {@code iat}, or null when it has none. */
    public Instant issuedAt() {
        return issuedAtMillis == NO_IAT ? null : Instant.ofEpochMilli(issuedAtMillis);
    }

    /** The token's {@code exp}, without clock skew. */
    public Instant expiresAt() {
        return Instant.ofEpochMilli(expiresAtMillis);
    }

    /**
     * This principal without its claims: what a connection keeps once its permissions are worked out
     * from them (a token's claims are a few hundred bytes of maps, held for every connection).
     */
    public Principal withoutClaims() {
        return claims.isEmpty() ? this : new Principal(subject, issuedAtMillis, expiresAtMillis, Map.of());
    }

    /** Names the claims but not their values: they may carry personal data. */
    @Override
    public String toString() {
        return "Principal[subject=" + subject + ", issuedAt=" + issuedAt() + ", expiresAt=" + expiresAt()
                + ", claims=" + claims.keySet() + "]";
    }

    private static Map<String, Object> immutableMap(Map<?, ?> source) {
        Map<String, Object> copy = new LinkedHashMap<>();
        source.forEach((key, value) -> copy.put(String.valueOf(key), immutable(value)));
        return Collections.unmodifiableMap(copy);
    }

    private static Object immutable(Object value) {
        if (value instanceof Map<?, ?> map) {
            return immutableMap(map);
        }
        if (value instanceof List<?> list) {
            List<Object> copy = new ArrayList<>(list.size());
            list.forEach(item -> copy.add(immutable(item)));
            return Collections.unmodifiableList(copy);
        }
        return value;
    }
}
