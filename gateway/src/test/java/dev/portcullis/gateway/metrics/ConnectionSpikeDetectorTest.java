package dev.portcullis.gateway.metrics;

import dev.portcullis.gateway.testing.MutableClock;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.portcullis.gateway.config.AlertsConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class ConnectionSpikeDetectorTest {
    private static final Instant START = Instant.parse("2025-03-01T12:00:00Z");
    /**
     * Baseline time constant. Scenarios with a normal rate of 20/s use a floor of 30/s, so the warm-up
     * (the first TAU, judged against the floor alone) stays quiet; the threshold after it is 3 * 20 = 60/s
     * and the clear level (20 + 60) / 2 = 40/s.
     */
    private static final Duration TAU = Duration.ofSeconds(60);

    private final MutableClock clock = new MutableClock(START);
    private final GatewayMetrics metrics = GatewayMetrics.create();
    private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
    private final Logger detectorLog = (Logger) LoggerFactory.getLogger(ConnectionSpikeDetector.class);
    private HttpServer server;

    @BeforeEach
    void captureLogs() {
        logs.start();
        detectorLog.addAppender(logs);
    }

    @AfterEach
    void tearDown() {
        detectorLog.detachAppender(logs);
        if (server != null) {
            server.stop(0);
        }
    }

    @Test
    void steadyLowRateNeverAlerts() {
        try (var detector = detector(3, 10, null)) {
            for (int i = 0; i < 150; i++) {
                ticks(detector, 1, i % 2 == 0 ? 3 : 7);
                assertThat(detector.alerting()).isFalse();
            }

            assertThat(detector.baselinePerSecond()).isBetween(4.0, 6.0);
            assertThat(spikesStarted()).isZero();
        }
    }

    @Test
    void sustainedAttackYieldsOneAlertAndResolvesAfterTheHysteresis() {
        try (var detector = detector(3, 30, null)) {
            ticks(detector, 120, 20);
            assertThat(detector.baselinePerSecond()).isCloseTo(20, within());

            ticks(detector, 1, 200);
            assertThat(detector.alerting()).isTrue();
            assertThat(metrics.scrape().lines()).contains("portcullis_alerts_connection_spike 1.0");

            ticks(detector, 60, 200);
            assertThat(detector.alerting()).isTrue();
            assertThat(spikesStarted()).isEqualTo(1);
            assertThat(lines(Level.WARN)).hasSize(1).first().asString()
                    .contains("200.0 attempts/s", "baseline of 20.0/s", "threshold 60.0/s");

            ticks(detector, 29, 20);
            assertThat(detector.alerting()).isTrue();
            ticks(detector, 1, 20);
            assertThat(detector.alerting()).isFalse();
            assertThat(metrics.scrape().lines()).contains(
                    "portcullis_alerts_connection_spike 0.0",
                    "portcullis_alerts_connection_spikes_total 1.0");
            assertThat(lines(Level.INFO)).hasSize(1);
            assertThat(lines(Level.WARN)).hasSize(1);
        }
    }

    @Test
    void baselineDoesNotLearnFromTheSpike() {
        try (var detector = detector(3, 30, null)) {
            ticks(detector, 120, 20);
            double before = detector.baselinePerSecond();

            ticks(detector, 300, 500);

            assertThat(detector.alerting()).isTrue();
            assertThat(detector.baselinePerSecond()).isEqualTo(before);
        }
    }

    @Test
    void calmMustLastThirtyConsecutiveSecondsBeforeClearing() {
        try (var detector = detector(3, 30, null)) {
            ticks(detector, 120, 20);
            ticks(detector, 10, 200);

            ticks(detector, 25, 20);
            ticks(detector, 1, 50); // below the threshold (60) but above the clear level (40)
            ticks(detector, 25, 20);
            assertThat(detector.alerting()).isTrue();

            ticks(detector, 5, 20);
            assertThat(detector.alerting()).isFalse();
            assertThat(spikesStarted()).isEqualTo(1);
        }
    }

    @Test
    void aSecondSpikeAfterResolvingIsASecondAlert() {
        try (var detector = detector(3, 30, null)) {
            ticks(detector, 120, 20);
            ticks(detector, 10, 200);
            ticks(detector, 30, 20);
            assertThat(detector.alerting()).isFalse();

            ticks(detector, 1, 200);

            assertThat(detector.alerting()).isTrue();
            assertThat(spikesStarted()).isEqualTo(2);
        }
    }

    @Test
    void jumpBelowTheFloorNeverAlerts() {
        try (var detector = detector(3, 100, null)) {
            ticks(detector, 120, 2);

            ticks(detector, 60, 50); // 25 times the baseline, but under the floor

            assertThat(detector.alerting()).isFalse();
            assertThat(spikesStarted()).isZero();
        }
    }

    @Test
    void coldStartJudgesAgainstTheFloor() {
        try (var quiet = detector(3, 10, null)) {
            ticks(quiet, 1, 8);
            assertThat(quiet.alerting()).isFalse();
        }
        try (var spiking = detector(3, 10, null)) {
            ticks(spiking, 1, 50);
            assertThat(spiking.alerting()).isTrue();
        }
    }

    @Test
    void normalRateAboveTheFloorAtStartClearsOnceTheBaselineIsLearned() {
        try (var detector = detector(3, 50, null)) {
            ticks(detector, 1, 200);
            assertThat(detector.alerting()).isTrue();

            ticks(detector, 59 + 30, 200);

            assertThat(detector.alerting()).isFalse();
            ticks(detector, 600, 200);
            assertThat(detector.alerting()).isFalse();
            assertThat(spikesStarted()).isEqualTo(1);
        }
    }

    @Test
    void ratesAreMeasuredOverTheElapsedTime() {
        try (var detector = detector(3, 30, null)) {
            for (int i = 0; i < 40; i++) {
                attempts(detector, 40);
                clock.advance(Duration.ofSeconds(4)); // a slow scheduler: 10 per second, not 40
                detector.tick();
            }

            assertThat(detector.alerting()).isFalse();
            assertThat(detector.baselinePerSecond()).isCloseTo(10, within());
        }
    }

    @Test
    void attemptsCountedThroughGatewayMetricsAreSeenToo() {
        try (var detector = detector(3, 10, null)) {
            for (int i = 0; i < 30; i++) {
                metrics.connections().attempt();
            }
            clock.advance(Duration.ofSeconds(1));
            detector.tick();

            assertThat(detector.alerting()).isTrue();
            assertThat(metrics.scrape().lines()).contains("portcullis_connection_attempts_total 30.0");
        }
    }

    @Test
    void aClockThatStandsStillOrStepsBackIsHarmless() {
        try (var detector = detector(3, 10, null)) {
            attempts(detector, 1000);
            detector.tick();
            clock.advance(Duration.ofSeconds(-5));
            detector.tick();

            assertThat(detector.alerting()).isFalse();
            ticks(detector, 5, 5);
            assertThat(detector.alerting()).isFalse();
        }
    }

    @Test
    void ticksAfterCloseDoNothing() {
        var detector = detector(3, 10, null);
        detector.close();

        ticks(detector, 1, 500);

        assertThat(detector.alerting()).isFalse();
    }

    @Test
    void rejectsAFactorThatCannotSeparateASpikeFromNormal() {
        var config = new AlertsConfig(1, 10, TAU, null);
        assertThatThrownBy(() -> new ConnectionSpikeDetector(config, metrics, clock))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("factor");
    }

    @Test
    void webhookGetsOneFiringAndOneResolvedPost() throws IOException {
        List<Request> requests = startServer(204);
        try (var detector = detector(3, 30, url("/hooks/secret-token"))) {
            ticks(detector, 120, 20);
            ticks(detector, 61, 200);
            Instant firedAt = START.plusSeconds(121);
            await().atMost(Duration.ofSeconds(10)).until(() -> requests.size() == 1);

            ticks(detector, 30, 20);
            Instant resolvedAt = START.plusSeconds(211);
            await().atMost(Duration.ofSeconds(10)).until(() -> requests.size() == 2);

            assertThat(requests).allSatisfy(request -> {
                assertThat(request.method()).isEqualTo("POST");
                assertThat(request.path()).isEqualTo("/hooks/secret-token");
                assertThat(request.contentType()).isEqualTo("application/json");
            });
            JsonNode firing = json(requests.get(0));
            assertThat(firing.get("alert").asText()).isEqualTo("connection_spike");
            assertThat(firing.get("state").asText()).isEqualTo("firing");
            assertThat(firing.get("ratePerSecond").asDouble()).isEqualTo(200.0);
            assertThat(firing.get("baselinePerSecond").asDouble()).isCloseTo(20, within());
            assertThat(firing.get("threshold").asDouble()).isCloseTo(60, within());
            assertThat(Instant.parse(firing.get("at").asText())).isEqualTo(firedAt);
            JsonNode resolved = json(requests.get(1));
            assertThat(resolved.get("alert").asText()).isEqualTo("connection_spike");
            assertThat(resolved.get("state").asText()).isEqualTo("resolved");
            assertThat(resolved.get("ratePerSecond").asDouble()).isEqualTo(20.0);
            assertThat(resolved.get("baselinePerSecond").asDouble()).isCloseTo(20, within());
            assertThat(resolved.get("threshold").asDouble()).isCloseTo(60, within());
            assertThat(Instant.parse(resolved.get("at").asText())).isEqualTo(resolvedAt);
            assertThat(webhookFailures()).isZero();
        }
    }

    @Test
    void webhookServerDownIsCountedNotThrown() throws IOException {
        startServer(204);
        URI url = url("/hook");
        server.stop(0);
        server = null;

        try (var http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
                var detector = new ConnectionSpikeDetector(new AlertsConfig(3, 10, TAU, url), metrics, http, clock)) {
            assertThatCode(() -> ticks(detector, 1, 500)).doesNotThrowAnyException();

            assertThat(detector.alerting()).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> webhookFailures() == 1);
        }
    }

    @Test
    void webhookErrorStatusIsCountedAsAFailure() throws IOException {
        List<Request> requests = startServer(500);
        try (var detector = detector(3, 10, url("/hook"))) {
            ticks(detector, 1, 500);

            await().atMost(Duration.ofSeconds(10)).until(() -> webhookFailures() == 1);
            assertThat(requests).hasSize(1);
        }
    }

    private ConnectionSpikeDetector detector(double factor, double floor, URI webhook) {
        return new ConnectionSpikeDetector(new AlertsConfig(factor, floor, TAU, webhook), metrics, clock);
    }

    private void ticks(ConnectionSpikeDetector detector, int seconds, int perSecond) {
        for (int i = 0; i < seconds; i++) {
            attempts(detector, perSecond);
            clock.advance(Duration.ofSeconds(1));
            detector.tick();
        }
    }

    private static void attempts(ConnectionSpikeDetector detector, int count) {
        for (int i = 0; i < count; i++) {
            detector.attempt();
        }
    }

    private double spikesStarted() {
        return metrics.registry().get("portcullis.alerts.connection.spikes").counter().count();
    }

    private double webhookFailures() {
        return metrics.registry().get("portcullis.alerts.webhook.failures").counter().count();
    }

    private List<String> lines(Level level) {
        return logs.list.stream().filter(event -> event.getLevel() == level).map(ILoggingEvent::getFormattedMessage).toList();
    }

    private static org.assertj.core.data.Offset<Double> within() {
        return org.assertj.core.data.Offset.offset(0.01);
    }

    private record Request(String method, String path, String contentType, String body) {}

    private List<Request> startServer(int status) throws IOException {
        List<Request> requests = new CopyOnWriteArrayList<>();
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            try (exchange) {
                String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
                requests.add(new Request(exchange.getRequestMethod(), exchange.getRequestURI().getPath(),
                        exchange.getRequestHeaders().getFirst("Content-Type"), body));
                exchange.sendResponseHeaders(status, -1);
            }
        });
        server.start();
        return requests;
    }

    private URI url(String path) {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + path);
    }

    private static JsonNode json(Request request) throws IOException {
        return new ObjectMapper().readTree(request.body());
    }
}
