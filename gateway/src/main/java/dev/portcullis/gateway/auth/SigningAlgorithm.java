package dev.portcullis.gateway.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.Curve;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** The JWS algorithms the gateway can verify, and what each needs of its key. */
enum SigningAlgorithm {
    HS256(JWSAlgorithm.HS256, KeyKind.HMAC, 32, null),
    HS384(JWSAlgorithm.HS384, KeyKind.HMAC, 48, null),
    HS512(JWSAlgorithm.HS512, KeyKind.HMAC, 64, null),
    RS256(JWSAlgorithm.RS256, KeyKind.RSA, 0, null),
    RS384(JWSAlgorithm.RS384, KeyKind.RSA, 0, null),
    RS512(JWSAlgorithm.RS512, KeyKind.RSA, 0, null),
    PS256(JWSAlgorithm.PS256, KeyKind.RSA, 0, null),
    PS384(JWSAlgorithm.PS384, KeyKind.RSA, 0, null),
    PS512(JWSAlgorithm.PS512, KeyKind.RSA, 0, null),
    ES256(JWSAlgorithm.ES256, KeyKind.EC, 0, Curve.P_256),
    ES384(JWSAlgorithm.ES384, KeyKind.EC, 0, Curve.P_384),
    ES512(JWSAlgorithm.ES512, KeyKind.EC, 0, Curve.P_521),
    /** RFC 8037 {@code EdDSA}; only with Ed25519 keys here. */
    EDDSA(JWSAlgorithm.EdDSA, KeyKind.ED25519, 0, null),
    /** RFC 9864 {@code Ed25519}, the fully specified name. */
    ED25519(JWSAlgorithm.Ed25519, KeyKind.ED25519, 0, null);

    enum KeyKind { HMAC, RSA, EC, ED25519 }

    private static final Map<String, SigningAlgorithm> BY_JWS_NAME = new HashMap<>();

    static {
        for (SigningAlgorithm alg : values()) {
            BY_JWS_NAME.put(alg.jws.getName(), alg);
        }
    }

    private final JWSAlgorithm jws;
    private final KeyKind keyKind;
    private final int minHmacBytes;
    private final Curve curve;

    SigningAlgorithm(JWSAlgorithm jws, KeyKind keyKind, int minHmacBytes, Curve curve) {
        this.jws = jws;
        this.keyKind = keyKind;
        this.minHmacBytes = minHmacBytes;
        this.curve = curve;
    }

    /** The algorithm a token header names (case-sensitive, as RFC 7515 says), or null. */
    static SigningAlgorithm ofHeader(String jwsName) {
        return BY_JWS_NAME.get(jwsName);
    }

    /** Reads {@code auth.algorithms}; names are matched ignoring case. */
    static Set<SigningAlgorithm> parseAllowed(Set<String> names) {
        if (names.isEmpty()) {
            throw new IllegalArgumentException("auth.algorithms: name at least one algorithm, e.g. RS256");
        }
        Set<SigningAlgorithm> allowed = EnumSet.noneOf(SigningAlgorithm.class);
        for (String name : names) {
            if ("none".equalsIgnoreCase(name.strip())) {
                throw new IllegalArgumentException("auth.algorithms: none (unsigned tokens) is never accepted");
            }
            SigningAlgorithm alg = BY_JWS_NAME.values().stream()
                    .filter(candidate -> candidate.jwsName().equalsIgnoreCase(name.strip()))
                    .findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("auth.algorithms: unsupported algorithm "
                            + name + " (supported: " + supportedNames() + ")"));
            allowed.add(alg);
        }
        return allowed;
    }

    private static String supportedNames() {
        return EnumSet.allOf(SigningAlgorithm.class).stream()
                .map(SigningAlgorithm::jwsName)
                .collect(Collectors.joining(", "));
    }

    String jwsName() {
        return jws.getName();
    }

    KeyKind keyKind() {
        return keyKind;
    }

    /** The shortest HMAC secret this algorithm accepts (RFC 7518 3.2: at least the hash size). */
    int minHmacBytes() {
        return minHmacBytes;
    }

    /** The EC curve this algorithm requires; null unless {@link KeyKind#EC}. */
    Curve curve() {
        return curve;
    }
}
