package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RawHttp;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Issue 4 acceptance 3, 4 and 5: newest connection wins, attempt counts and logout hold across instances. */
class ClusterAdmissionIT {
    private static RedisServer redis;
    private static TestGateway a;
    private static TestGateway b;

    @BeforeAll
    static void start() {
        redis = RedisServer.start();
        Map<String, Object> common = new HashMap<>(Map.of("broker.type", "redis", "broker.redis-url", redis.url()));
        common.put("limits.connect-attempts-per-user-per-minute", "5");
        common.put("broker.presence-ttl", "3s");
        common.put("broker.instance-id", "a");
        a = TestGateway.start(common);
        common.put("broker.instance-id", "b");
        b = TestGateway.start(common);
    }

    @AfterAll
    static void stop() {
        a.close();
        b.close();
        redis.close();
    }

    @Test
    void aUserConnectingOnBReplacesTheirConnectionOnAWith4500() {
        WsClient onA = WsClient.connect(a.uri(Tokens.hs256("mover")));
        onA.awaitMessage("connected");
        WsClient onB = WsClient.connect(b.uri(Tokens.hs256("mover")));
        onB.awaitMessage("connected");
        assertThat(onA.awaitClose().code()).isEqualTo(4500);
        onB.send("{\"type\":\"ping\"}");
        onB.awaitMessage("pong");
        onB.close();
    }

    @Test
    void fiftyRoundsOfSimultaneousConnectsOnTwoInstancesLeaveExactlyOne() throws Exception {
        try (ExecutorService pool = Executors.newFixedThreadPool(2)) {
            for (int round = 0; round < 50; round++) {
                String user = "racer-" + round;
                CompletableFuture<WsClient> onA = CompletableFuture.supplyAsync(() -> opened(a, user), pool);
                CompletableFuture<WsClient> onB = CompletableFuture.supplyAsync(() -> opened(b, user), pool);
                List<WsClient> both = List.of(onA.get(), onB.get());
                // Exactly one is closed with 4500; the other stays and answers.
                await().atMost(Duration.ofSeconds(10)).until(() -> both.stream().filter(WsClient::closedBy4500).count() == 1);
                WsClient survivor = both.stream().filter(c -> !c.closedBy4500()).findFirst().orElseThrow();
                survivor.send("{\"type\":\"ping\",\"id\":\"r" + round + "\"}");
                assertThat(survivor.awaitMessage("pong").path("id").asText()).isEqualTo("r" + round);
                assertThat(both.stream().filter(c -> !c.closedBy4500()).count()).as("round %s", round).isEqualTo(1);
                survivor.close();
            }
        }
    }

    private static WsClient opened(TestGateway gateway, String user) {
        WsClient client = WsClient.connect(gateway.uri(Tokens.hs256(user)));
        client.awaitMessage("connected");
        return client;
    }

    @Test
    void theSixthAttemptInAMinuteSpreadOverTwoInstancesGets429() {
        List<WsClient> open = new ArrayList<>();
        TestGateway[] order = {a, b, a, b, a};
        for (TestGateway gateway : order) {
            WsClient client = WsClient.connect(gateway.uri(Tokens.hs256("counted")));
            client.awaitMessage("connected");
            open.add(client);
        }
        WsClient.Attempt sixth = WsClient.attempt(b.uri(Tokens.hs256("counted")));
        assertThat(sixth.status()).isEqualTo(429);
        assertThat(sixth.headers().get("retry-after")).isNotEmpty();
        open.forEach(WsClient::close);
    }

    @Test
    void theRefusalProbeReadsTheClusterWideAttemptCountWithoutUsingIt() throws Exception {
        String token = Tokens.hs256("peeked");
        for (int i = 0; i < 8; i++) {
            assertThat(probe(i % 2 == 0 ? a : b, token).status()).as("probes use no attempt").isEqualTo(200);
        }
        List<WsClient> open = new ArrayList<>();
        for (TestGateway gateway : new TestGateway[] {a, b, a, b, a}) {
            WsClient client = WsClient.connect(gateway.uri(token));
            client.awaitMessage("connected");
            open.add(client);
        }
        RawHttp.Response limited = probe(b, token);
        assertThat(limited.status()).as("the count of five attempts on two instances").isEqualTo(429);
        assertThat(limited.body()).contains("\"error\":\"attempt_rate\"");
        assertThat(Long.parseLong(limited.header("Retry-After"))).isBetween(1L, 60L);
        open.forEach(WsClient::close);
    }

    private static RawHttp.Response probe(TestGateway gateway, String token) throws java.io.IOException {
        return RawHttp.exchange(gateway.gateway().port(), "GET /ws HTTP/1.1\r\nHost: x\r\nAccept: application/json\r\n"
                + "Authorization: Bearer " + token + "\r\n\r\n");
    }

    @Test
    void logoutThroughBClosesTheConnectionOnAAndTheOldTokenIsRefusedEverywhere() {
        String oldToken = Tokens.hs256(builder -> builder.subject("leaver").issueTime(Date.from(Instant.now().minusSeconds(5)))
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
        WsClient onA = WsClient.connect(a.uri(oldToken));
        onA.awaitMessage("connected");
        await().atMost(Duration.ofSeconds(5)).until(() ->
                WsClient.json(b.api("GET", "/api/connections?user=leaver", null).body()).path("connections").size() == 1);
        HttpResponse<String> logout = b.api("POST", "/api/users/leaver/disconnect", "{\"revoke\":true}");
        assertThat(logout.statusCode()).isEqualTo(200);
        assertThat(WsClient.json(logout.body()).path("disconnected").asInt()).isEqualTo(1);
        assertThat(onA.awaitClose().code()).isEqualTo(4501);
        assertThat(WsClient.attempt(a.uri(oldToken)).status()).isEqualTo(401);
        assertThat(WsClient.attempt(b.uri(oldToken)).status()).isEqualTo(401);
        WsClient fresh = WsClient.connect(a.uri(Tokens.hs256("leaver")));
        fresh.awaitMessage("connected");
        fresh.close();
    }

    @Test
    void listingAndStatsAnswerForTheWholeCluster() {
        WsClient onA = WsClient.connect(a.uri(Tokens.hs256("lister")));
        onA.awaitMessage("connected");
        await().atMost(Duration.ofSeconds(5)).until(() -> {
            JsonNode listed = WsClient.json(b.api("GET", "/api/connections?user=lister", null).body()).path("connections");
            return listed.size() == 1 && listed.get(0).path("remote").asText().startsWith("127.0.0.1:");
        });
        WsClient onB = WsClient.connect(b.uri(Tokens.hs256("lister-b")));
        onB.awaitMessage("connected");
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            JsonNode stats = WsClient.json(b.api("GET", "/api/stats", null).body());
            return stats.path("instances").size() == 2 && stats.path("connections").asInt() >= 2;
        });
        onA.close();
        onB.close();
        await().atMost(Duration.ofSeconds(5)).until(() ->
                WsClient.json(b.api("GET", "/api/connections?user=lister", null).body()).path("connections").isEmpty());
    }
}
