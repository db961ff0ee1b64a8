package dev.portcullis.gateway.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.time.Duration;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class GatewayMetricsTest {
    private final GatewayMetrics metrics = GatewayMetrics.create();

    @Test
    void connectionsShowAsActiveGaugeOpenedCounterClosedByCodeAndDurationHistogram() {
        metrics.connections().opened();
        metrics.connections().opened();
        metrics.connections().opened();
        metrics.connections().closed(1000, Duration.ofSeconds(3));
        metrics.connections().closed(4001, Duration.ofHours(3));

        assertThat(metrics.connections().active()).isEqualTo(1);
        assertThat(metrics.scrape().lines()).contains(
                "portcullis_connections_active 1.0",
                "portcullis_connections_opened_total 3.0",
                "portcullis_connections_closed_total{code=\"1000\"} 1.0",
                "portcullis_connections_closed_total{code=\"4001\"} 1.0",
                "portcullis_connections_closed_total{code=\"4500\"} 0.0",
                "portcullis_connection_duration_seconds_bucket{le=\"1.0\"} 0",
                "portcullis_connection_duration_seconds_bucket{le=\"5.0\"} 1",
                "portcullis_connection_duration_seconds_bucket{le=\"21600.0\"} 2",
                "portcullis_connection_duration_seconds_bucket{le=\"86400.0\"} 2",
                "portcullis_connection_duration_seconds_bucket{le=\"+Inf\"} 2",
                "portcullis_connection_duration_seconds_count 2",
                "portcullis_connection_duration_seconds_sum 10803.0");
    }

    @Test
    void closeCodesInRangeGetTheirOwnSeriesAndOthersShareOne() {
        metrics.connections().opened();
        metrics.connections().closed(4321, Duration.ZERO);
        metrics.connections().closed(4321, Duration.ZERO);
        metrics.connections().closed(999, Duration.ZERO);
        metrics.connections().closed(5000, Duration.ZERO);
        metrics.connections().closed(-1, Duration.ZERO);

        assertThat(metrics.scrape().lines()).contains(
                "portcullis_connections_closed_total{code=\"4321\"} 2.0",
                "portcullis_connections_closed_total{code=\"other\"} 3.0");
    }

    @Test
    void handshakesCountRejectionsByReasonAndTimeCompletions() {
        metrics.connections().attempt();
        metrics.connections().attempt();
        metrics.connections().attempt();
        metrics.connections().handshakeRejected("bad_token");
        metrics.connections().handshakeRejected("bad_token");
        metrics.connections().handshakeRejected("rate_limited");
        metrics.connections().handshakeCompleted(Duration.ofMillis(12));

        assertThat(metrics.scrape().lines()).contains(
                "portcullis_connection_attempts_total 3.0",
                "portcullis_handshakes_rejected_total{reason=\"bad_token\"} 2.0",
                "portcullis_handshakes_rejected_total{reason=\"rate_limited\"} 1.0",
                "portcullis_handshake_duration_seconds_bucket{le=\"0.01\"} 0",
                "portcullis_handshake_duration_seconds_bucket{le=\"0.025\"} 1",
                "portcullis_handshake_duration_seconds_count 1",
                "portcullis_handshake_duration_seconds_sum 0.012");
    }

    @Test
    void messagesAreCountedByTypeWithUnknownTypesAsOther() {
        metrics.messageReceived("publish");
        metrics.messageReceived("publish");
        metrics.messageReceived("invalid");
        metrics.messageReceived("teapot");
        metrics.messageReceived(null);
        metrics.messageSent("message");
        metrics.messageSent("pong");

        assertThat(metrics.scrape().lines()).contains(
                "portcullis_messages_received_total{type=\"publish\"} 2.0",
                "portcullis_messages_received_total{type=\"invalid\"} 1.0",
                "portcullis_messages_received_total{type=\"other\"} 2.0",
                "portcullis_messages_received_total{type=\"subscribe\"} 0.0",
                "portcullis_messages_sent_total{type=\"message\"} 1.0",
                "portcullis_messages_sent_total{type=\"pong\"} 1.0");
        assertThat(metrics.scrape()).doesNotContain("teapot");
    }

    @Test
    void heartbeatTimeoutsAndProtocolViolationsAreCounted() {
        metrics.heartbeatTimeout();
        metrics.protocolViolation("schema");
        metrics.protocolViolation("schema");

        assertThat(metrics.scrape().lines()).contains(
                "portcullis_heartbeat_timeouts_total 1.0",
                "portcullis_protocol_violations_total{kind=\"schema\"} 2.0");
    }

    @Test
    void reasonsThatDoNotLookLikeCodesAreCountedAsOther() {
        metrics.connections().handshakeRejected("user@example.com");
        metrics.connections().handshakeRejected("10.0.0.7");
        metrics.connections().handshakeRejected("Bad Token");
        metrics.connections().handshakeRejected("x".repeat(41));
        metrics.connections().handshakeRejected(null);

        String scrape = metrics.scrape();
        assertThat(scrape.lines()).contains("portcullis_handshakes_rejected_total{reason=\"other\"} 5.0");
        assertThat(scrape).doesNotContain("example.com", "10.0.0.7", "Bad Token");
    }

    @Test
    void distinctReasonsAreCappedSoSeriesStayBounded() {
        IntStream.range(0, GatewayMetrics.MAX_CODES + 10).forEach(i -> metrics.connections().handshakeRejected("reason_" + i));

        String scrape = metrics.scrape();
        assertThat(scrape.lines().filter(line -> line.startsWith("portcullis_handshakes_rejected_total{")))
                .hasSize(GatewayMetrics.MAX_CODES + 1);
        assertThat(scrape.lines()).contains(
                "portcullis_handshakes_rejected_total{reason=\"reason_0\"} 1.0",
                "portcullis_handshakes_rejected_total{reason=\"other\"} 10.0");
    }

    @Test
    void recordingKnownValuesRegistersNoNewMeters() {
        int meters = metrics.registry().getMeters().size();

        for (int i = 0; i < 1000; i++) {
            metrics.messageReceived("publish");
            metrics.messageSent("message");
            metrics.connections().opened();
            metrics.connections().closed(1001, Duration.ofSeconds(i));
            metrics.connections().attempt();
        }

        assertThat(metrics.registry().getMeters()).hasSize(meters);
    }

    @Test
    void spikeAlertMetersStartAtZero() {
        assertThat(metrics.scrape().lines()).contains(
                "portcullis_alerts_connection_spike 0.0",
                "portcullis_alerts_connection_spikes_total 0.0",
                "portcullis_alerts_webhook_failures_total 0.0");
    }

    @Test
    void scrapeIsPrometheusTextFormat004() {
        assertThat(metrics.contentType())
                .isEqualTo(PrometheusTextFormatWriter.CONTENT_TYPE)
                .contains("version=0.0.4");
        assertThat(metrics.scrape()).contains("# TYPE portcullis_connections_opened_total counter");
    }
}
