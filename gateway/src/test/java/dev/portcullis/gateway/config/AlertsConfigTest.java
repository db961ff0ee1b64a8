package dev.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

class AlertsConfigTest {
    private static final String SECRET = "0123456789abcdef0123456789abcdef";

    @Test
    void theWebhookPathAndQueryStayOutOfToString() {
        String webhook = "https://hooks.example.com/services/T0001/B0002/pathS3cret?sig=queryS3cret";
        GatewayConfig c = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "alerts.webhook-url", webhook));
        assertThat(c.alerts().webhookUrl().toString()).as("the URL itself is intact").isEqualTo(webhook);
        assertThat(c.alerts().toString()).contains("hooks.example.com")
                .doesNotContain("pathS3cret").doesNotContain("queryS3cret").doesNotContain("/services");
        assertThat(c.toString()).doesNotContain("pathS3cret").doesNotContain("queryS3cret");
    }
}
