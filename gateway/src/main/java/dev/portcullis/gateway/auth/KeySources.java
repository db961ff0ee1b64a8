package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.auth.SigningAlgorithm.KeyKind;
import dev.portcullis.gateway.config.AuthConfig;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.PublicKey;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Builds the {@link KeySource} an {@link AuthConfig} describes, refusing any setting that could let
 * a token choose its own rules: exactly one key source; HMAC algorithms only with a secret, which
 * must be as long as the hash; asymmetric ones only with a public key (at least one of them must
 * fit it) or JWKS. Errors are {@link IllegalArgumentException}s whose message starts with the key.
 */
final class KeySources {

    private static final Logger log = LoggerFactory.getLogger(KeySources.class);

    private KeySources() {}

    static KeySource create(AuthConfig config, Set<SigningAlgorithm> allowed, Clock clock) {
        boolean hmac = present(config.hmacSecret());
        boolean pem = present(config.publicKeyPem());
        boolean jwks = config.jwksUrl() != null;
        List<String> set = new ArrayList<>();
        if (hmac) {
            set.add("auth.hmac-secret");
        }
        if (pem) {
            set.add("auth.public-key");
        }
        if (jwks) {
            set.add("auth.jwks-url");
        }
        if (set.size() != 1) {
            String found = set.isEmpty() ? "none is set" : String.join(" and ", set) + " are set";
            throw new IllegalArgumentException(
                    "auth: set exactly one of auth.hmac-secret, auth.public-key, auth.jwks-url (" + found + ")");
        }
        if (hmac) {
            return hmac(config.hmacSecret(), allowed);
        }
        if (pem) {
            return publicKey(config.publicKeyPem(), allowed);
        }
        return jwks(config, allowed, clock);
    }

    private static KeySource hmac(String secret, Set<SigningAlgorithm> allowed) {
        int bytes = secret.getBytes(StandardCharsets.UTF_8).length;
        for (SigningAlgorithm alg : allowed) {
            if (alg.keyKind() != KeyKind.HMAC) {
                throw new IllegalArgumentException("auth.algorithms: " + alg.jwsName()
                        + " needs auth.public-key or auth.jwks-url, but auth.hmac-secret is set");
            }
            if (bytes < alg.minHmacBytes()) {
                throw new IllegalArgumentException("auth.hmac-secret: " + alg.jwsName() + " needs at least "
                        + alg.minHmacBytes() + " bytes, the secret has " + bytes);
            }
        }
        return KeySource.of(KeyEntry.hmac(secret.getBytes(StandardCharsets.UTF_8)));
    }

    private static KeySource publicKey(String pem, Set<SigningAlgorithm> allowed) {
        PublicKey publicKey = PemKeys.read(pem);
        KeyEntry key;
        try {
            key = KeyEntry.publicKey(null, null, publicKey);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("auth.public-key: " + e.getMessage());
        }
        allowed.forEach(KeySources::requireAsymmetric);
        // The config loader's default lists RS256, ES256 and EdDSA whatever the key; one key fits
        // only some, so the rest are dropped (their tokens fail as algorithm_not_allowed).
        List<String> unfit = allowed.stream().filter(alg -> !key.fits(alg)).map(SigningAlgorithm::jwsName).toList();
        if (unfit.size() == allowed.size()) {
            throw new IllegalArgumentException("auth.algorithms: none of " + String.join(", ", unfit)
                    + " fits auth.public-key, which is " + key.describe());
        }
        if (!unfit.isEmpty()) {
            log.info("auth.algorithms: ignoring {}, which do not fit auth.public-key ({})", unfit, key.describe());
        }
        return KeySource.of(key);
    }

    private static KeySource jwks(AuthConfig config, Set<SigningAlgorithm> allowed, Clock clock) {
        allowed.forEach(KeySources::requireAsymmetric);
        URI url = config.jwksUrl();
        if (!("https".equalsIgnoreCase(url.getScheme()) || "http".equalsIgnoreCase(url.getScheme()))
                || url.getHost() == null) {
            throw new IllegalArgumentException("auth.jwks-url: must be an http or https URL");
        }
        if ("http".equalsIgnoreCase(url.getScheme()) && !loopback(url.getHost())) {
            log.warn("auth.jwks-url uses plain http: anyone on the path can substitute signing keys");
        }
        Duration ttl = requirePositive(config.jwksCacheTtl(), "auth.jwks-cache-ttl");
        Duration minInterval = requirePositive(config.jwksRefreshMinInterval(), "auth.jwks-refresh-min-interval");
        return new JwksKeySource(new JwksFetcher(url), clock, ttl, minInterval);
    }

    private static void requireAsymmetric(SigningAlgorithm alg) {
        if (alg.keyKind() == KeyKind.HMAC) {
            throw new IllegalArgumentException("auth.algorithms: " + alg.jwsName() + " needs auth.hmac-secret");
        }
    }

    private static Duration requirePositive(Duration value, String key) {
        if (value == null || value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException(key + ": must be a positive duration");
        }
        return value;
    }

    /** By name only: no DNS lookup at start-up just for a warning. */
    private static boolean loopback(String host) {
        return host.equalsIgnoreCase("localhost") || host.startsWith("127.") || host.equals("[::1]");
    }

    private static boolean present(String value) {
        return value != null && !value.isBlank();
    }
}
