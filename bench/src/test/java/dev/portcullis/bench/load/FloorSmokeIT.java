package dev.portcullis.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.bench.floor.FloorServer;
import dev.portcullis.gateway.transport.EventLoops;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fan-out floor ({@code portcullis-bench floor}) in this JVM on ephemeral ports, driven by the
 * load generator with {@code --target floor} through the real command line (a real worker JVM for
 * the fan-out), and by the JDK's own WebSocket and HTTP clients for the exact shape of what it
 * answers. Counts are asserted, never timings.
 */
class FloorSmokeIT {
    private static FloorServer floor;

    @TempDir
    Path dir;

    @BeforeAll
    static void startFloor() {
        floor = FloorServer.start("127.0.0.1", 0, 0, 2, EventLoops.Transport.AUTO);
    }

    @AfterAll
    static void stopFloor() {
        if (floor != null) {
            floor.close();
        }
    }

    private static String url() {
        return LoadRuns.wsUrl(floor.port());
    }

    private static String adminUrl() {
        return "http://127.0.0.1:" + floor.adminPort();
    }

    @Test
    void fanoutThroughTheFloorDeliversEveryPublicationToEverySubscriberWithoutTokens() throws IOException {
        long writtenBefore = floor.delivered();
        JsonNode result = LoadRuns.run(dir, url(), "fanout", "--target", "floor", "-n", "200", "--rate", "20", "--duration", "2s",
                "--processes", "1", "--channel", "smoke-fanout", "--admin-url", adminUrl());

        JsonNode r = result.path("results");
        long published = r.path("published").asLong();
        assertThat(r.path("subscribers").asLong()).isEqualTo(200);
        assertThat(published).isPositive();
        assertThat(r.path("deliveriesTotal").asLong()).isEqualTo(published * 200);
        assertThat(r.path("missing").asLong()).isZero();
        assertThat(r.path("duplicates").asLong()).isZero();
        assertThat(floor.delivered() - writtenBefore).as("frames the floor wrote").isEqualTo(published * 200);
        assertThat(result.path("options").path("target").asText()).isEqualTo("floor");
        assertThat(r.has("serverUserCpuSecondsPerMillionDeliveries")).isTrue();
        assertThat(r.has("serverSystemCpuSecondsPerMillionDeliveries")).isTrue();
    }

    @Test
    void connectThroughTheFloorOpensEveryConnection() throws IOException {
        JsonNode result = LoadRuns.run(dir, url(), "connect", "--target", "floor", "-n", "150", "--concurrency", "50", "--hold", "1s",
                "--in-process");

        JsonNode r = result.path("results");
        assertThat(r.path("opened").asLong()).isEqualTo(150);
        assertThat(r.path("stillOpenAfterHold").asLong()).isEqualTo(150);
        assertThat(result.path("latencies").path("handshake").path("count").asLong()).isEqualTo(150);
        assertThat(r.has("serverUserCpuMsPer1000Handshakes")).isTrue();
    }

    @Test
    void floorGreetsAcksAndWritesThePublicationInTheGatewaysShape() throws Exception {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        BlockingQueue<String> received = new LinkedBlockingQueue<>();
        WebSocket ws = http.newWebSocketBuilder().buildAsync(URI.create(url()), new WebSocket.Listener() {
            private final StringBuilder text = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                text.append(data);
                if (last) {
                    received.add(text.toString());
                    text.setLength(0);
                }
                socket.request(1);
                return null;
            }
        }).get(10, TimeUnit.SECONDS);
        try {
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("{\"type\":\"connected\"}");
            ws.sendText("{\"type\":\"subscribe\",\"id\":\"q7\",\"channel\":\"smoke-shape\"}", true).get(5, TimeUnit.SECONDS);
            assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo("{\"type\":\"ack\",\"id\":\"q7\",\"channel\":\"smoke-shape\"}");

            HttpResponse<String> first = publish(http, "{\"channel\":\"smoke-shape\",\"data\":{\"n\":1,\"s\":\"a}b\"}}");
            HttpResponse<String> second = publish(http, "{\"channel\":\"smoke-shape\",\"data\":[2]}");
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(first.body()).isEqualTo("{\"offset\":0,\"epoch\":\"floor\"}");
            assertThat(second.body()).isEqualTo("{\"offset\":1,\"epoch\":\"floor\"}");
            assertThat(received.poll(10, TimeUnit.SECONDS))
                    .isEqualTo("{\"type\":\"message\",\"channel\":\"smoke-shape\",\"offset\":0,\"epoch\":\"floor\",\"data\":{\"n\":1,\"s\":\"a}b\"}}");
            assertThat(received.poll(10, TimeUnit.SECONDS))
                    .isEqualTo("{\"type\":\"message\",\"channel\":\"smoke-shape\",\"offset\":1,\"epoch\":\"floor\",\"data\":[2]}");

            assertThat(publish(http, "{\"data\":1}").statusCode()).as("no channel").isEqualTo(400);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(adminUrl() + "/readyz")).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(200);
            assertThat(http.send(HttpRequest.newBuilder(URI.create(adminUrl() + "/nope")).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode()).isEqualTo(404);
        } finally {
            ws.abort();
        }
    }

    private static HttpResponse<String> publish(HttpClient http, String body) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(adminUrl() + "/api/publish"))
                .POST(HttpRequest.BodyPublishers.ofString(body)).header("Content-Type", "application/json").build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
