package dev.portcullis.gateway.auth;

import dev.portcullis.gateway.testing.MutableClock;
import static dev.portcullis.gateway.auth.AuthConfigs.auth;
import static dev.portcullis.gateway.auth.TestTokens.NOW;
import static dev.portcullis.gateway.auth.TestTokens.SECRET;
import static dev.portcullis.gateway.auth.TestTokens.accepted;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TokenMinterTest {

    private final MutableClock clock = new MutableClock(NOW);

    @Test
    void mintedTokenVerifiesWithItsClaims() {
        JwtVerifier verifier = JwtVerifier.create(
                auth("HS256").hmacSecret(SECRET).issuer("portcullis-dev").audience("portcullis").build(), clock);
        String token = TokenMinter.hs256(SECRET, "alice", NOW, Duration.ofMinutes(5),
                Map.of("iss", "portcullis-dev", "aud", List.of("portcullis"), "channels", List.of("news"),
                        "sub", "mallory", "exp", 0));

        Principal principal = accepted(verifier.verify(token));

        assertThat(principal.subject()).isEqualTo("alice");
        assertThat(principal.issuedAt()).isEqualTo(NOW);
        assertThat(principal.expiresAt()).isEqualTo(NOW.plus(Duration.ofMinutes(5)));
        assertThat(principal.claims()).containsEntry("channels", List.of("news"));
        clock.advance(Duration.ofMinutes(5));
        assertThat(TestTokens.reason(verifier.verify(token))).isEqualTo(TokenRejectedException.Reason.EXPIRED);
    }

    @Test
    void shortSecretIsRefused() {
        assertThatThrownBy(() -> TokenMinter.hs256("short", "alice", NOW, Duration.ofMinutes(5), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageNotContaining("short");
    }
}
