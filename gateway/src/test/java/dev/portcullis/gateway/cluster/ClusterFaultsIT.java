package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Redis faults and edge cases found in review: logout with an empty reason, newest-wins after an outage, order across a script flush. */
class ClusterFaultsIT {

    static Map<String, Object> cfg(RedisServer redis, String instance) {
        Map<String, Object> m = new HashMap<>(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                "broker.instance-id", instance, "broker.redis-timeout", "1s", "broker.presence-ttl", "3s"));
        return m;
    }

    static String cli(RedisServer redis, String... args) throws Exception {
        List<String> cmd = new java.util.ArrayList<>(List.of("redis-cli", "-p", Integer.toString(redis.port())));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        p.waitFor();
        return out.trim();
    }

    /** Finding: an empty reason makes the control message lose its last argument; nobody is disconnected, API says 200. */
    @Test
    void logoutWithEmptyReasonClosesNothingButAnswers200() {
        try (RedisServer redis = RedisServer.start();
                TestGateway a = TestGateway.start(cfg(redis, "a")); TestGateway b = TestGateway.start(cfg(redis, "b"))) {
            WsClient onA = WsClient.connect(a.uri(Tokens.hs256("quiet-leaver")));
            onA.awaitMessage("connected");
            await().atMost(Duration.ofSeconds(5)).until(() ->
                    WsClient.json(b.api("GET", "/api/connections?user=quiet-leaver", null).body()).path("connections").size() == 1);
            HttpResponse<String> logout = b.api("POST", "/api/users/quiet-leaver/disconnect", "{\"reason\":\"\"}");
            assertThat(logout.statusCode()).isEqualTo(200);
            WsClient.Closed closed = onA.pollClose(Duration.ofSeconds(5));
            assertThat(closed).as("connection on A closed by logout").isNotNull();
            assertThat(closed.code()).isEqualTo(4501);
            assertThat(closed.reason()).isEqualTo("logged out");
        }
    }

    /** Finding: a connection admitted while Redis is down is never registered; after recovery a newer one does not evict it. */
    @Test
    void connectionAdmittedDuringOutageSurvivesANewerOneAfterRecovery() {
        try (RedisServer redis = RedisServer.start();
                TestGateway a = TestGateway.start(cfg(redis, "a")); TestGateway b = TestGateway.start(cfg(redis, "b"))) {
            redis.kill();
            await().atMost(Duration.ofSeconds(10)).until(() ->
                    WsClient.json(a.adminGet("/readyz").body()).path("status").asText().equals("degraded"));
            WsClient onA = WsClient.connect(a.uri(Tokens.hs256("outage-user")));
            onA.awaitMessage("connected");
            redis.restart();
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    WsClient.json(a.adminGet("/readyz").body()).path("status").asText().equals("ready")
                            && WsClient.json(b.adminGet("/readyz").body()).path("status").asText().equals("ready"));
            // Issue 16 point 5: two connections to one node, dozens of reconnect attempts: one event each way.
            assertThat(a.metric("portcullis_redis_connection_events_total{event=\"lost\"}")).isEqualTo(1);
            assertThat(a.metric("portcullis_redis_connection_events_total{event=\"restored\"}")).isEqualTo(1);
            WsClient onB = WsClient.connect(b.uri(Tokens.hs256("outage-user")));
            onB.awaitMessage("connected");
            WsClient.Closed closed = onA.pollClose(Duration.ofSeconds(10));
            assertThat(closed).as("older connection on A replaced").isNotNull();
            assertThat(closed.code()).isEqualTo(4500);
            onB.send("{\"type\":\"ping\"}");
            onB.awaitMessage("pong");
        }
    }

    /** Finding: NOSCRIPT fallback re-sends EVAL later, so publications of one client overtake each other after a script flush. */
    @Test
    void clientPublicationsStayInOrderAcrossAScriptFlush() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestGateway a = TestGateway.start(cfg(redis, "a")); TestGateway b = TestGateway.start(cfg(redis, "b"))) {
            String tokenB = Tokens.hs256(x -> x.subject("orderer-b").claim("channels", Map.of("room:9", "rw"))
                    .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
            String tokenA = Tokens.hs256(x -> x.subject("orderer-a").claim("channels", Map.of("room:9", "rw"))
                    .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
            WsClient onB = WsClient.connect(b.uri(tokenB));
            onB.awaitMessage("connected");
            WsClient onA = WsClient.connect(a.uri(tokenA));
            onA.awaitMessage("connected");
            onA.send("{\"type\":\"subscribe\",\"channel\":\"room:9\"}");
            onA.awaitMessage("ack");
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
                b.publish("room:9", "{\"probe\":true}");
                return onA.pollMessage("message", Duration.ofMillis(100)) != null;
            });
            onA.drainMessages(Duration.ofMillis(300));
            int bad = 0;
            for (int round = 0; round < 20 && bad == 0; round++) {
                cli(redis, "SCRIPT", "FLUSH");
                for (int i = 1; i <= 50; i++) {
                    onB.send("{\"type\":\"publish\",\"channel\":\"room:9\",\"data\":{\"n\":" + i + "}}");
                }
                int last = 0;
                for (int i = 1; i <= 50; i++) {
                    int n = onA.awaitMessage("message").path("data").path("n").asInt();
                    if (n != last + 1) {
                        bad++;
                    }
                    last = n;
                }
            }
            assertThat(bad).as("publications of one client out of order after SCRIPT FLUSH").isZero();
        }
    }
}
