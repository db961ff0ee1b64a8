package dev.portcullis.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.Gateway;
import dev.portcullis.gateway.config.ConfigLoader;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The load generator still works: a real gateway in this JVM on ephemeral ports, and short runs of
 * {@code load connect}, {@code fanout} and {@code reject} against it through the real command line,
 * with real worker JVMs. Only what was counted is asserted, never a timing.
 */
class LoadSmokeIT {
    private static final String SECRET = "smoke-test-secret-0123456789-abcdefghij";
    private static final String API_KEY = "smoke-test-api-key-0123456789";
    private static Gateway gateway;

    @TempDir
    Path dir;

    @BeforeAll
    static void startGateway() {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("server.host", "127.0.0.1");
        settings.put("server.port", "0");
        settings.put("admin.port", "0");
        settings.put("auth.hmac-secret", SECRET);
        settings.put("admin.api-keys", List.of(API_KEY));
        settings.put("limits.connections-per-ip", "0");
        settings.put("limits.connect-attempts-per-user-per-minute", "0");
        settings.put("limits.max-connections", "0");
        // Pings and re-auth requests during the short hold: the generator must answer both or lose connections.
        settings.put("heartbeat.interval", "500ms");
        settings.put("heartbeat.timeout", "2s");
        settings.put("auth.reauth-interval", "1s");
        settings.put("shutdown.drain-timeout", "2s");
        gateway = Gateway.start(ConfigLoader.load(settings));
    }

    @AfterAll
    static void stopGateway() {
        if (gateway != null) {
            gateway.close();
        }
    }

    private static String url() {
        return LoadRuns.wsUrl(gateway.port());
    }

    private JsonNode run(String... args) throws IOException {
        return LoadRuns.run(dir, url(), args);
    }

    @Test
    void connectOpensAndHoldsEveryConnectionAcrossTwoWorkersAnsweringPingsAndReauth() throws IOException {
        JsonNode result = run("connect", "-n", "300", "--concurrency", "50", "--hold", "2s", "--processes", "2", "--secret", SECRET);

        JsonNode r = result.path("results");
        assertThat(r.path("opened").asLong()).isEqualTo(300);
        assertThat(r.path("failed").asLong()).isZero();
        assertThat(r.path("lostDuringHold").asLong()).isZero();
        assertThat(r.path("pingsAnsweredDuringHold").asLong()).isPositive();
        assertThat(result.path("counters").path("reauths").asLong()).isPositive();
        assertThat(r.path("stillOpenAfterHold").asLong()).isEqualTo(300);
        assertThat(result.path("latencies").path("handshake").path("count").asLong()).isEqualTo(300);
        assertThat(result.path("phases").findValuesAsText("name")).containsExactly("connect", "hold");
    }

    @Test
    void fanoutDeliversEveryPublicationToEverySubscriber() throws IOException {
        JsonNode result = run("fanout", "-n", "200", "--rate", "20", "--duration", "2s", "--processes", "1", "--secret", SECRET,
                "--admin-url", "http://127.0.0.1:" + gateway.adminPort(), "--api-key", API_KEY);

        JsonNode r = result.path("results");
        long published = r.path("published").asLong();
        assertThat(r.path("subscribers").asLong()).isEqualTo(200);
        assertThat(published).isPositive();
        assertThat(r.path("deliveriesTotal").asLong()).isEqualTo(published * 200);
        assertThat(r.path("missing").asLong()).isZero();
        assertThat(r.path("duplicates").asLong()).isZero();
        assertThat(result.path("latencies").path("delivery").path("count").asLong()).isPositive();
    }

    @Test
    void rejectCountsEveryBadTokenAs401() throws IOException {
        JsonNode result = run("reject", "-n", "200", "--concurrency", "20", "--duration", "10s", "--in-process");

        JsonNode r = result.path("results");
        assertThat(r.path("attempts").asLong()).isEqualTo(200);
        assertThat(r.path("rejected401").asLong()).isEqualTo(200);
    }
}
