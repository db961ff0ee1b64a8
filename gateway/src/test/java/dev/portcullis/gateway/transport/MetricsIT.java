package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Acceptance 9: the admin port's metrics move with the traffic; health and readiness answer. */
class MetricsIT {

    @Test
    void metricsFollowConnectionsAndMessages() {
        try (TestGateway gateway = TestGateway.start()) {
            assertThat(gateway.metric("portcullis_connections_active")).isZero();
            WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("metered")));
            client.awaitMessage("connected");
            assertThat(gateway.metric("portcullis_connections_active")).isEqualTo(1);
            for (int i = 0; i < 3; i++) {
                client.send("{\"type\":\"ping\"}");
                client.awaitMessage("pong");
            }
            assertThat(gateway.metric("portcullis_messages_received_total{type=\"ping\"}")).isEqualTo(3);
            assertThat(gateway.metric("portcullis_messages_sent_total{type=\"pong\"}")).isEqualTo(3);
            assertThat(gateway.metric("portcullis_messages_sent_total{type=\"connected\"}")).isEqualTo(1);
            assertThat(gateway.metric("portcullis_handshake_duration_seconds_count")).isEqualTo(1);
            client.close();
            await().atMost(Duration.ofSeconds(10)).until(() -> gateway.metric("portcullis_connections_active") == 0);
            assertThat(gateway.metric("portcullis_connections_closed_total{code=\"1000\"}")).isEqualTo(1);
            assertThat(gateway.metric("portcullis_connection_duration_seconds_count")).isEqualTo(1);
            WsClient.attempt(gateway.uri("bad-token"));
            assertThat(gateway.metric("portcullis_handshakes_rejected_total{reason=\"malformed\"}")).isEqualTo(1);
            String text = gateway.adminGet("/metrics").body();
            assertThat(text).doesNotContain("metered").contains("# TYPE portcullis_connections_active gauge");
        }
    }

    @Test
    void theJvmAndTheProcessAreMeasuredToo() {
        try (TestGateway gateway = TestGateway.start()) {
            String scrape = gateway.adminGet("/metrics").body();
            for (String series : new String[] {"jvm_memory_used_bytes", "jvm_gc_live_data_size_bytes", "jvm_threads_live_threads",
                    "jvm_classes_loaded_classes", "process_cpu_usage", "process_uptime_seconds",
                    "process_files_open_files", "process_files_max_files"}) {
                assertThat(scrape).as(series).contains(series);
            }
            assertThat(gateway.metric("process_files_max_files")).as("the file limit, which caps connections").isPositive();
            assertThat(gateway.metric("process_files_open_files")).isPositive();
            assertThat(gateway.metric("portcullis_connections_max")).as("the cap, held under the file limit")
                    .isPositive().isLessThan(gateway.metric("process_files_max_files"));
        }
    }

    @Test
    void healthAndReadiness() {
        try (TestGateway gateway = TestGateway.start()) {
            HttpResponse<String> health = gateway.adminGet("/healthz");
            assertThat(health.statusCode()).isEqualTo(200);
            HttpResponse<String> ready = gateway.adminGet("/readyz");
            assertThat(ready.statusCode()).isEqualTo(200);
            assertThat(WsClient.json(ready.body()).path("status").asText()).isEqualTo("ready");
            assertThat(gateway.adminGet("/nope").statusCode()).isEqualTo(404);
        }
    }
}
