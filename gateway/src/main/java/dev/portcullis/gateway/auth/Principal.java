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
 * @param subject the token's {@code sub}, never blank
 * @param issuedAt the token's {@code iat}, or null when the token has none
 * @param expiresAt the token's {@code exp}, without clock skew
 * @param claims every claim of the token as parsed JSON (strings, numbers, booleans, lists, maps;
 *     times in epoch seconds), deeply immutable
 */
public record Principal(String subject, Instant issuedAt, Instant expiresAt, Map<String, Object> claims) {

    public Principal {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(expiresAt, "expiresAt");
        // Map.of() when empty: every connection keeps a principal without claims (withoutClaims), and an
        // empty copy would be ~100 bytes of map for each.
        claims = claims == null || claims.isEmpty() ? Map.of() : immutableMap(claims);
    }

    /**
     * This principal without its claims: what a connection keeps once its permissions are worked out
     * from them (a token's claims are a few hundred bytes of maps, held for every connection).
     */
    public Principal withoutClaims() {
        return claims.isEmpty() ? this : new Principal(subject, issuedAt, expiresAt, Map.of());
    }

    /** Names the claims but not their values: they may carry personal data. */
    @Override
    public String toString() {
        return "Principal[subject=" + subject + ", issuedAt=" + issuedAt + ", expiresAt=" + expiresAt
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
