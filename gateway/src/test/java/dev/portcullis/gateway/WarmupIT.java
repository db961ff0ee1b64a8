package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.WsClient;
import dev.portcullis.gateway.transport.WarmupTraffic;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code server.warmup}: real traffic before readiness, on a throwaway gateway that leaves no trace on the real one. */
class WarmupIT {

    @Test
    void drivesHandshakesFanOutAndTheBackendApi() {
        WarmupTraffic.Result result = Warmup.run(Duration.ofSeconds(3), false);

        assertThat(result).isNotNull();
        assertThat(result.stoppedBy()).isEqualTo("deadline");
        assertThat(result.handshakes()).as("holders and at least one cycle").isGreaterThan(WarmupTraffic.tokensNeeded());
        assertThat(result.deliveries()).as("publications fanned out to the holders").isPositive();
        assertThat(result.adminRequests()).as("backend API publish and /metrics answered 2xx").isPositive();
    }

    @Test
    void aServedGatewayIsReadyAfterItsWarmupWithNothingToShowForIt() {
        try (TestGateway gateway = TestGateway.serve(Map.of("server.warmup", "2s", "channels.presence", "warmup"))) {
            assertThat(gateway.gateway().ready()).isTrue();
            assertThat(gateway.gateway().connections().active()).isZero();
            assertThat(countedMeters(gateway)).as("no counter or timer of the real gateway moved").isEmpty();
            HttpResponse<String> presence = gateway.api("GET", "/api/channels/warmup/presence", null);
            assertThat(presence.statusCode()).isEqualTo(200);
            assertThat(WsClient.json(presence.body()).path("members").size()).isZero();
            // The warm-up's channel has no history here: the first publication on it gets offset 1.
            HttpResponse<String> published = gateway.api("POST", "/api/publish", "{\"channel\":\"warmup\",\"data\":{\"n\":1}}");
            assertThat(published.statusCode()).isEqualTo(200);
            assertThat(published.body()).contains("\"offset\":1,");
        }
    }

    @Test
    void offMeansReadyAtOnce() {
        try (TestGateway gateway = TestGateway.serve(Map.of("server.warmup", "off"))) {
            assertThat(gateway.gateway().ready()).isTrue();
            assertThat(gateway.config().server().warmup()).isZero();
        }
    }

    /** Counters and timers (the JVM's own meters aside) whose count is not zero, by name. */
    private static List<String> countedMeters(TestGateway gateway) {
        List<String> moved = new ArrayList<>();
        for (Meter meter : gateway.gateway().metrics().registry().getMeters()) {
            String name = meter.getId().getName();
            if (!name.startsWith("portcullis.")) {
                continue;
            }
            double count = switch (meter) {
                case Counter c -> c.count();
                case FunctionCounter c -> c.count();
                case Timer t -> t.count();
                default -> 0;
            };
            if (count != 0) {
                moved.add(name + meter.getId().getTags() + "=" + count);
            }
        }
        return moved;
    }
}
