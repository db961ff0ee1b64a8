package dev.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Values that parse but make no sense, or do not parse at all, are refused as a {@link ConfigException}
 * naming the key, never as a stray runtime exception or a setting that overflows later.
 */
class ConfigBoundsTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @Test
    void aDurationTooLongForALongIsAProblemNamingItsKey() {
        assertProblem(Map.of("auth.hmac-secret", SECRET, "heartbeat.interval", "99999999999999999999s"), "heartbeat.interval:");
    }

    @Test
    void aDurationOfCenturiesIsAProblemNamingItsKey() {
        assertProblem(Map.of("auth.hmac-secret", SECRET, "heartbeat.interval", "200000d"), "heartbeat.interval:");
        assertProblem(Map.of("auth.hmac-secret", SECRET, "shutdown.drain-timeout", "200000d"), "shutdown.drain-timeout:");
    }

    @Test
    void anOverlongDurationFromTheEnvironmentIsAProblemNamingItsKey() {
        assertThatThrownBy(() -> ConfigLoader.load(null, Map.of(
                "PORTCULLIS_AUTH_HMAC_SECRET", SECRET,
                "PORTCULLIS_HEARTBEAT_TIMEOUT", "99999999999999999999ms"), Map.of()))
                .isInstanceOfSatisfying(ConfigException.class,
                        e -> assertThat(e.problems()).anyMatch(p -> p.startsWith("heartbeat.timeout:")));
    }

    @Test
    void anOriginThatIsNotAUriIsAProblemNamingItsKey() {
        assertProblem(Map.of("auth.hmac-secret", SECRET, "server.allowed-origins", List.of("https://a|b.com")), "server.allowed-origins:");
    }

    @Test
    void allowedOriginsAreKeptInTheFormBrowsersSend() {
        GatewayConfig c = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "server.allowed-origins",
                List.of("https://App.Example.com:443", "HTTP://Example.org:80", "http://localhost:8080")));
        assertThat(c.server().allowedOrigins())
                .containsExactly("https://app.example.com", "http://example.org", "http://localhost:8080");
    }

    private static void assertProblem(Map<String, ?> settings, String keyPrefix) {
        assertThatThrownBy(() -> ConfigLoader.load(settings))
                .isInstanceOfSatisfying(ConfigException.class, e -> assertThat(e.problems()).anyMatch(p -> p.startsWith(keyPrefix)));
    }
}
