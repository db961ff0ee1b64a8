package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.config.AuthConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;

/** Builds {@link AuthConfig}s for tests: nothing set but what the test names. */
final class AuthConfigs {

    private String hmacSecret;
    private String publicKeyPem;
    private URI jwksUrl;
    private Set<String> algorithms = Set.of();
    private String issuer;
    private List<String> audience = List.of();
    private Duration clockSkew = Duration.ZERO;
    private Duration jwksRefreshMinInterval = Duration.ofSeconds(30);
    private Duration jwksCacheTtl = Duration.ofMinutes(10);

    static AuthConfigs auth(String... algorithms) {
        AuthConfigs builder = new AuthConfigs();
        builder.algorithms = Set.of(algorithms);
        return builder;
    }

    AuthConfigs hmacSecret(String secret) {
        this.hmacSecret = secret;
        return this;
    }

    AuthConfigs publicKey(String pem) {
        this.publicKeyPem = pem;
        return this;
    }

    AuthConfigs jwks(URI url) {
        this.jwksUrl = url;
        return this;
    }

    AuthConfigs issuer(String issuer) {
        this.issuer = issuer;
        return this;
    }

    AuthConfigs audience(String... audience) {
        this.audience = List.of(audience);
        return this;
    }

    AuthConfigs clockSkew(Duration skew) {
        this.clockSkew = skew;
        return this;
    }

    AuthConfigs jwksTiming(Duration refreshMinInterval, Duration cacheTtl) {
        this.jwksRefreshMinInterval = refreshMinInterval;
        this.jwksCacheTtl = cacheTtl;
        return this;
    }

    AuthConfig build() {
        return new AuthConfig(hmacSecret, publicKeyPem, jwksUrl, algorithms, issuer, audience, clockSkew,
                Duration.ZERO, Duration.ofSeconds(10), null, jwksRefreshMinInterval, jwksCacheTtl, Duration.ofHours(24));
    }
}
