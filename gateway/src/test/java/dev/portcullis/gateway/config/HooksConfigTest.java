package dev.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code hooks.*}: what is accepted, and a message naming the key for what is not. */
class HooksConfigTest {
    private static final String AUTH = "0123456789abcdef0123456789abcdef";
    private static final String HOOK_SECRET = "hook-secret-0123456789-0123456789";

    private static GatewayConfig load(Map<String, Object> hooks) {
        Map<String, Object> settings = new HashMap<>(hooks);
        settings.put("auth.hmac-secret", AUTH);
        return ConfigLoader.load(settings);
    }

    @Test
    void offByDefault() {
        HooksConfig hooks = load(Map.of()).hooks();
        assertThat(hooks.enabled()).isFalse();
        assertThat(hooks.timeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(hooks.maxInFlight()).isEqualTo(256);
        assertThat(hooks.breakerWait()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void routesAreParsedAndTheSecretIsRedacted() {
        HooksConfig hooks = load(Map.of(
                "hooks.publish", List.of("room:*=https://app.internal/hooks/publish", "alerts=http://127.0.0.1:8000/p"),
                "hooks.subscribe", List.of("room:*=https://app.internal/hooks/subscribe"),
                "hooks.secret", HOOK_SECRET, "hooks.timeout", "500ms")).hooks();
        assertThat(hooks.enabled()).isTrue();
        assertThat(hooks.publish()).containsExactly(
                new HooksConfig.Route("room:*", URI.create("https://app.internal/hooks/publish")),
                new HooksConfig.Route("alerts", URI.create("http://127.0.0.1:8000/p")));
        assertThat(hooks.publish().get(0).prefix()).isEqualTo("room:");
        assertThat(hooks.publish().get(1).exact()).isTrue();
        assertThat(hooks.timeout()).isEqualTo(Duration.ofMillis(500));
        assertThat(hooks.toString()).doesNotContain(HOOK_SECRET).contains("<redacted>");
    }

    @Test
    void aHookNeedsALongEnoughSecret() {
        assertThatThrownBy(() -> load(Map.of("hooks.publish", List.of("room:*=https://app.internal/p"))))
                .hasMessageContaining("hooks.secret: is required");
        assertThatThrownBy(() -> load(Map.of("hooks.subscribe", List.of("room:*=https://app.internal/p"), "hooks.secret", "short")))
                .hasMessageContaining("hooks.secret: must be at least 32 bytes");
    }

    @Test
    void badEntriesNameTheKey() {
        Map<String, Object> base = Map.of("hooks.secret", HOOK_SECRET);
        assertThatThrownBy(() -> load(with(base, "hooks.publish", List.of("room:*=ftp://app.internal/p"))))
                .hasMessageContaining("hooks.publish: the URL of 'room:*' must be an http:// or https:// URL");
        assertThatThrownBy(() -> load(with(base, "hooks.publish", List.of("https://app.internal/p"))))
                .hasMessageContaining("hooks.publish: entries are channel-or-prefix*=url");
        assertThatThrownBy(() -> load(with(base, "hooks.subscribe", List.of("bad channel=https://app.internal/p"))))
                .hasMessageContaining("hooks.subscribe: entries are channel-or-prefix*=url");
        assertThatThrownBy(() -> load(with(base, "hooks.subscribe", List.of("a=https://x/p", "a=https://y/p"))))
                .hasMessageContaining("hooks.subscribe: pattern 'a' is listed twice");
        assertThatThrownBy(() -> load(with(base, "hooks.publish", List.of("a=https://user:pw@x/p"))))
                .hasMessageContaining("must have no user:password@");
        assertThatThrownBy(() -> load(with(base, "hooks.timeout", "1m"))).hasMessageContaining("hooks.timeout: must be at most 30s");
        assertThatThrownBy(() -> load(with(base, "hooks.max-in-flight", "0"))).hasMessageContaining("hooks.max-in-flight: must be between 1");
        assertThatThrownBy(() -> load(with(base, "hooks.breaker-wait", "0"))).hasMessageContaining("hooks.breaker-wait: must be longer than 0");
    }

    private static Map<String, Object> with(Map<String, Object> base, String key, Object value) {
        Map<String, Object> copy = new HashMap<>(base);
        copy.put(key, value);
        return copy;
    }
}
