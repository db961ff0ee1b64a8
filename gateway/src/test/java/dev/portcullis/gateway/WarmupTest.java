package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The throwaway gateway's settings: the real one's rules and timers, its own keys and ports. */
class WarmupTest {

    @Test
    void theThrowawayTakesTheRealGatewaysTokenRulesAndTimers() {
        GatewayConfig real = ConfigLoader.load(Map.of(
                "auth.hmac-secret", "a-real-secret-0123456789-0123456789-0123",
                "auth.issuer", "https://id.example/",
                "auth.audience", List.of("chat"),
                "channels.permissions-claim", "rooms",
                "heartbeat.interval", "20s",
                "heartbeat.timeout", "5s",
                "auth.reauth-interval", "10m",
                "auth.reauth-grace", "45s",
                "limits.max-connection-age", "2h"));

        GatewayConfig throwaway = Warmup.throwawayConfig(new SecureRandom(), real);

        assertThat(throwaway.auth().issuer()).isEqualTo("https://id.example/");
        assertThat(throwaway.auth().audience()).containsExactly("chat");
        assertThat(throwaway.channels().permissionsClaim()).isEqualTo("rooms");
        assertThat(throwaway.heartbeat()).isEqualTo(real.heartbeat());
        assertThat(throwaway.auth().reauthInterval()).isEqualTo(Duration.ofMinutes(10));
        assertThat(throwaway.auth().reauthGrace()).isEqualTo(Duration.ofSeconds(45));
        assertThat(throwaway.limits().maxConnectionAge()).isEqualTo(Duration.ofHours(2));
        assertThat(throwaway.auth().hmacSecret()).as("its own secret").isNotEqualTo(real.auth().hmacSecret());
        assertThat(throwaway.server().port()).as("an ephemeral port").isZero();
    }

    @Test
    void theTrainingRunWithNoRealGatewayReAuthenticatesEverySecond() {
        GatewayConfig throwaway = Warmup.throwawayConfig(new SecureRandom(), null);

        assertThat(throwaway.auth().reauthInterval()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void zeroTimersStayOff() {
        GatewayConfig real = ConfigLoader.load(Map.of("auth.hmac-secret", "a-real-secret-0123456789-0123456789-0123",
                "auth.reauth-interval", "0"));

        GatewayConfig throwaway = Warmup.throwawayConfig(new SecureRandom(), real);

        assertThat(throwaway.auth().reauthInterval()).isZero();
        assertThat(throwaway.limits().maxConnectionAge()).isZero();
    }
}
