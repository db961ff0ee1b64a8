package dev.portcullis.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.AfterAll;
import org.slf4j.LoggerFactory;

/**
 * Any token through {@link JwtVerifier}: a {@link Principal} that satisfies every claim rule, or a
 * {@link TokenRejectedException} with a reason, at once (an HMAC key needs no I/O). A library
 * surprise, which the verifier turns into {@code malformed} with a WARN line, fails here: it
 * means a token shape nobody thought about.
 *
 * <p>An input with a line feed is a header and a payload (JSON text, any bytes) that the test signs
 * with the configured secret, so the fuzzer gets past the signature to the claim checks; any other
 * input is the token as the client sends it.
 */
class JwtVerifierFuzzTest {
    private static final Duration MAX_LIFETIME = Duration.ofHours(24);
    private static final Instant NOW = TestTokens.NOW;
    private static final JwtVerifier VERIFIER = JwtVerifier.create(
            AuthConfigs.auth("HS256").hmacSecret(TestTokens.SECRET).build(), java.time.Clock.fixed(NOW, java.time.ZoneOffset.UTC));
    private static final ListAppender<ILoggingEvent> WARNINGS = new ListAppender<>();
    private static final ObjectMapper JSON = new ObjectMapper();

    static {
        Logger logger = (Logger) LoggerFactory.getLogger(JwtVerifier.class);
        WARNINGS.start();
        logger.addAppender(WARNINGS);
    }

    @AfterAll
    static void close() {
        ((Logger) LoggerFactory.getLogger(JwtVerifier.class)).detachAppender(WARNINGS);
        VERIFIER.close();
    }

    @FuzzTest(maxDuration = "10m")
    void verify(byte[] input) {
        String token = token(input);
        WARNINGS.list.clear();
        CompletableFuture<Principal> verification = VERIFIER.verify(token);
        assertThat(verification).as("an HMAC verification completes at once").isDone();
        Throwable failure = verification.handle((principal, error) -> error).join();
        assertThat(WARNINGS.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).map(ILoggingEvent::getFormattedMessage))
                .as("no library surprise").isEmpty();
        if (failure != null) {
            assertThat(failure).isInstanceOf(TokenRejectedException.class);
            TokenRejectedException rejection = (TokenRejectedException) failure;
            assertThat(rejection.reason()).isNotIn(TokenRejectedException.Reason.KEYS_UNAVAILABLE, TokenRejectedException.Reason.REVOKED);
            assertThat(rejection.getMessage()).isNotBlank();
            String firstPart = token.split("\\.", 2)[0];
            if (firstPart.length() >= 8) {
                assertThat(rejection.getMessage()).as("the message never quotes the token").doesNotContain(firstPart);
            }
            return;
        }
        Principal principal = verification.join();
        assertThat(principal.subject()).isNotBlank().doesNotContainPattern("[\\x00-\\x1f\\x7f-\\x9f]");
        assertThat(principal.expiresAt()).isAfter(NOW).isBeforeOrEqualTo(NOW.plus(MAX_LIFETIME));
        if (principal.issuedAt() != null) {
            assertThat(principal.issuedAt()).isBeforeOrEqualTo(NOW);
        }
        assertThat(principal.claims()).containsEntry("sub", principal.subject());
        // The time claims as written, not as converted: a conversion that wraps around must not let them pass.
        JsonNode written = writtenClaims(input);
        if (written != null) {
            for (String claim : new String[] {"nbf", "iat"}) {
                if (written.path(claim).isNumber()) {
                    assertThat(written.get(claim).doubleValue()).as(claim).isLessThanOrEqualTo(NOW.getEpochSecond());
                }
            }
            assertThat(written.path("exp").doubleValue()).as("exp")
                    .isGreaterThan(NOW.getEpochSecond()).isLessThan(NOW.plus(MAX_LIFETIME).getEpochSecond() + 1);
        }
    }

    /** The payload of a signed-mode input as JSON, or null (raw mode, or not JSON to Jackson). */
    private static JsonNode writtenClaims(byte[] input) {
        for (int i = 0; i < input.length; i++) {
            if (input[i] == '\n') {
                try {
                    return JSON.readTree(new String(Arrays.copyOfRange(input, i + 1, input.length), StandardCharsets.UTF_8));
                } catch (IOException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static String token(byte[] input) {
        for (int i = 0; i < input.length; i++) {
            if (input[i] == '\n') {
                return TestTokens.hmac("HS256", TestTokens.SECRET.getBytes(StandardCharsets.UTF_8),
                        TestTokens.b64(new String(Arrays.copyOfRange(input, 0, i), StandardCharsets.UTF_8)) + "."
                                + TestTokens.b64(new String(Arrays.copyOfRange(input, i + 1, input.length), StandardCharsets.UTF_8)));
            }
        }
        return new String(input, StandardCharsets.UTF_8);
    }
}
