package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * Issue 16, test 4: Redis stalls ({@code DEBUG SLEEP}) during a publish stream. Publishes that were
 * sent and got no answer are answered 504 {@code outcome_unknown} with a key, never 503; a publish
 * answered 503 is never delivered; retrying the 504s with their keys delivers each exactly once.
 * Readiness turns degraded on the first timed-out command (the canary is set to a minute, so only the
 * timeout can do it).
 */
class RedisStallIT {
    private static final int PUBLISHERS = 4;

    @Test
    void aStalledPublishIsOutcomeUnknownAndItsRetryIsDeliveredOnce() throws Exception {
        try (RedisServer redis = RedisServer.start("--enable-debug-command", "local");
                TestGateway gateway = TestGateway.start(config(redis))) {
            WsClient subscriber = WsClient.connect(gateway.uri(Tokens.hs256("stall-watcher")));
            subscriber.awaitMessage("connected");
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
                gateway.publish("alerts", "{\"probe\":true}");
                return subscriber.pollMessage("message", Duration.ofMillis(200)) != null;
            });
            subscriber.drainMessages(Duration.ofMillis(300));

            Map<String, Integer> status = new ConcurrentHashMap<>();
            Map<String, String> retryKeys = new ConcurrentHashMap<>();
            AtomicBoolean degradedSeen = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(PUBLISHERS + 1);
            List<Future<?>> publishers = new ArrayList<>();
            for (int p = 0; p < PUBLISHERS; p++) {
                int publisher = p;
                publishers.add(pool.submit(() -> {
                    for (int i = 0; !stop.get(); i++) {
                        String id = publisher + "-" + i;
                        HttpResponse<String> answer = gateway.api("POST", "/api/publish",
                                "{\"channel\":\"alerts\",\"data\":{\"id\":\"" + id + "\"}}");
                        status.put(id, answer.statusCode());
                        if (answer.statusCode() == 504) {
                            JsonNode body = WsClient.json(answer.body());
                            assertThat(body.path("error").asText()).isEqualTo("outcome_unknown");
                            retryKeys.put(id, body.path("idempotencyKey").asText());
                        }
                        sleep(20);
                    }
                    return null;
                }));
            }
            pool.submit(() -> {
                while (!stop.get()) {
                    if (WsClient.json(gateway.adminGet("/readyz").body()).path("broker").path("reason").asText()
                            .contains("time out")) {
                        degradedSeen.set(true);
                    }
                    sleep(100);
                }
                return null;
            });
            sleep(1500);
            Process stall = new ProcessBuilder("redis-cli", "-p", Integer.toString(redis.port()), "DEBUG", "SLEEP", "4")
                    .redirectErrorStream(true).start();
            assertThat(stall.waitFor(20, TimeUnit.SECONDS)).isTrue();
            sleep(1500);
            stop.set(true);
            for (Future<?> publisher : publishers) {
                publisher.get(30, TimeUnit.SECONDS);
            }
            pool.shutdownNow();

            assertThat(retryKeys).as("publishes sent during the stall are answered outcome_unknown").isNotEmpty();
            assertThat(degradedSeen).as("readiness said degraded because commands time out").isTrue();
            for (Map.Entry<String, String> retry : retryKeys.entrySet()) {
                HttpResponse<String> again = gateway.api("POST", "/api/publish", "{\"channel\":\"alerts\",\"data\":{\"id\":\""
                        + retry.getKey() + "\"},\"idempotencyKey\":\"" + retry.getValue() + "\"}");
                assertThat(again.statusCode()).as(again.body()).isEqualTo(200);
            }

            Map<String, Integer> delivered = new HashMap<>();
            long lastOffset = -1;
            while (true) {
                JsonNode message = subscriber.pollMessage("message", Duration.ofSeconds(3));
                if (message == null) {
                    break;
                }
                if (lastOffset >= 0) {
                    assertThat(message.path("offset").asLong()).as("offsets in order, no gap").isEqualTo(lastOffset + 1);
                }
                lastOffset = message.path("offset").asLong();
                delivered.merge(message.path("data").path("id").asText(), 1, Integer::sum);
            }
            for (Map.Entry<String, Integer> publish : status.entrySet()) {
                String id = publish.getKey();
                switch (publish.getValue()) {
                    case 200, 504 -> assertThat(delivered.get(id)).as("publication %s (answered %d) delivered exactly once", id,
                            publish.getValue()).isEqualTo(1);
                    case 503 -> assertThat(delivered).as("a publish answered 503 is never delivered").doesNotContainKey(id);
                    default -> throw new AssertionError("unexpected status " + publish.getValue() + " for " + id);
                }
            }
            assertThat(gateway.metric("portcullis_redis_command_timeouts_total")).isPositive();
            assertThat(gateway.metric("portcullis_publish_outcome_unknown_total{source=\"api\"}")).isPositive();
            subscriber.close();
        }
    }

    /**
     * Review fix: channels waiting for Redis to confirm their subscription used to be remembered
     * forever when the subscribers left before Redis answered. During an outage with churn, every
     * channel anyone tried must be forgotten once nobody wants it, and a later subscribe still works.
     */
    @Test
    void subscribersWhoLeaveDuringAnOutageLeaveNothingWaiting() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestGateway gateway = TestGateway.start(config(redis))) {
            String token = Tokens.hs256(claims -> claims.subject("churner").claim("channels", Map.of("room:*", "r"))
                    .expirationTime(new java.util.Date(System.currentTimeMillis() + 600_000)));
            WsClient leaver = WsClient.connect(gateway.uri(token));
            leaver.awaitMessage("connected");
            redis.stop();
            for (int i = 0; i < 20; i++) {
                leaver.send("{\"type\":\"subscribe\",\"channel\":\"room:" + i + "\"}");
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(gateway.metric("portcullis_broker_subscriptions_waiting")).isEqualTo(20));
            for (int i = 0; i < 10; i++) {
                leaver.send("{\"type\":\"unsubscribe\",\"channel\":\"room:" + i + "\"}");
            }
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(gateway.metric("portcullis_broker_subscriptions_waiting")).as("after 10 unsubscribes").isEqualTo(10));
            leaver.abort();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThat(gateway.metric("portcullis_broker_subscriptions_waiting")).as("after the disconnect").isZero());
            sleep(2 * 1000); // several failed retries later, still nothing waiting
            assertThat(gateway.metric("portcullis_broker_subscriptions_waiting")).isZero();

            redis.resume();
            WsClient later = WsClient.connect(gateway.uri(token));
            later.awaitMessage("connected");
            later.send("{\"type\":\"subscribe\",\"id\":1,\"channel\":\"room:3\"}");
            JsonNode ack = later.awaitMessage("ack");
            assertThat(ack.path("offset").isNumber()).as(ack.toString()).isTrue();
            assertThat(gateway.metric("portcullis_broker_subscriptions_waiting")).isZero();
            later.close();
        }
    }

    private static Map<String, Object> config(RedisServer redis) {
        Map<String, Object> config = new HashMap<>(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                "broker.redis-timeout", "1s", "broker.canary-interval", "1m", "broker.canary-timeout", "1m",
                "channels.auto-subscribe", List.of("alerts")));
        return config;
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
