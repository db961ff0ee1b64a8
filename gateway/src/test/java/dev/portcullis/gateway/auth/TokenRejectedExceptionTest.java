package dev.portcullis.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class TokenRejectedExceptionTest {

    @Test
    void reasonCodesAreStableLowerSnakeCase() {
        assertThat(Arrays.stream(Reason.values()).map(Reason::code)).containsExactly(
                "missing_token", "malformed", "algorithm_not_allowed", "bad_signature", "unknown_key", "expired",
                "not_yet_valid", "lifetime_too_long", "issued_in_future", "wrong_issuer", "wrong_audience", "missing_claim", "keys_unavailable", "revoked");
    }

    @Test
    void rejectionCarriesNoStackTraceOrCause() {
        TokenRejectedException rejection = new TokenRejectedException(Reason.REVOKED);

        assertThat(rejection.getStackTrace()).isEmpty();
        assertThat(rejection.getCause()).isNull();
        assertThat(rejection.getMessage()).isEqualTo("the token has been revoked");
    }
}
