package dev.portcullis.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/**
 * How tokens are verified. Exactly one key source is set: an HMAC secret, a PEM public key, or a
 * JWKS URL. The accepted algorithms come from here, never from the token.
 *
 * @param hmacSecret shared secret for HS256/384/512, at least 32 bytes; null when unused
 * @param publicKeyPem PEM text of an RSA, EC or Ed25519 public key; null when unused
 * @param jwksUrl where to fetch a JSON Web Key Set; null when unused
 * @param algorithms JWS algorithm names accepted, e.g. {@code HS256}; never {@code none}
 * @param issuer required {@code iss}, or null to accept any
 * @param audience accepted {@code aud} values (any one must match), empty to accept any
 * @param clockSkew tolerance for {@code exp} and {@code nbf}
 * @param reauthInterval how often a connection is asked for a fresh token; zero disables
 * @param reauthGrace how long the client has to answer a re-auth request
 * @param cookieName cookie carrying the token, or null when cookie authentication is off
 * @param jwksRefreshMinInterval the least time between two JWKS fetches (rate limit)
 * @param jwksCacheTtl how long a fetched JWKS is used before it is fetched again
 * @param maxTokenLifetime the longest lifetime of a token the issuer hands out; a revocation is
 *     kept this long, after which every token it covers has expired
 */
public record AuthConfig(
        String hmacSecret,
        String publicKeyPem,
        URI jwksUrl,
        Set<String> algorithms,
        String issuer,
        List<String> audience,
        Duration clockSkew,
        Duration reauthInterval,
        Duration reauthGrace,
        String cookieName,
        Duration jwksRefreshMinInterval,
        Duration jwksCacheTtl,
        Duration maxTokenLifetime) {

    public AuthConfig {
        algorithms = Set.copyOf(algorithms);
        audience = List.copyOf(audience);
    }

    public boolean cookieEnabled() {
        return cookieName != null && !cookieName.isEmpty();
    }

    @Override
    public String toString() {
        return "AuthConfig[hmacSecret=" + (hmacSecret == null ? "unset" : "<redacted>")
                + ", publicKey=" + (publicKeyPem == null ? "unset" : "set")
                + ", jwksUrl=" + jwksUrl + ", algorithms=" + algorithms + ", issuer=" + issuer
                + ", audience=" + audience + ", clockSkew=" + clockSkew + ", reauthInterval=" + reauthInterval
                + ", reauthGrace=" + reauthGrace + ", cookieName=" + cookieName + "]";
    }
}
