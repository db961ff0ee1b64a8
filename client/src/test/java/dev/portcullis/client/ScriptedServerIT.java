package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The client's side of the protocol against {@link ScriptedServer}: what a gateway does rarely or
 * only in a fault (a disconnect hint, a 429 with Retry-After, a recovered resubscription with its
 * replay and duplicates, a dead connection that stays open).
 */
class ScriptedServerIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final Duration READ = Duration.ofSeconds(5);
    private static final Duration MIN = Duration.ofMillis(50);

    private static PortcullisClient.Builder client(URI uri, Events events) {
        AtomicInteger tokens = new AtomicInteger();
        return PortcullisClient.builder(uri)
                .token(() -> "token-" + tokens.incrementAndGet())
                .backoff(MIN, Duration.ofMillis(200))
                .sendRate(0, 1)
                .listener(events);
    }

    @Test
    void aResubscriptionCarriesTheLastPositionAndTheReplayIsDeliveredOnce() throws Exception {
        CopyOnWriteArrayList<JsonNode> received = new CopyOnWriteArrayList<>();
        try (ScriptedServer server = new ScriptedServer((connection, index) -> {
            connection.acceptAndGreet("c" + index);
            JsonNode subscribe = connection.read(READ);
            received.add(subscribe);
            String id = subscribe.path("id").asText();
            if (index == 0) {
                connection.send("{\"type\":\"ack\",\"id\":\"" + id + "\",\"channel\":\"alerts\",\"offset\":5,\"epoch\":\"e1\"}");
                connection.send("{\"type\":\"message\",\"channel\":\"alerts\",\"offset\":6,\"epoch\":\"e1\",\"data\":6}");
                received.add(connection.read(READ)); // the publication queued before the connection
                connection.close(1011, "internal error");
            } else {
                connection.send("{\"type\":\"ack\",\"id\":\"" + id + "\",\"channel\":\"alerts\",\"offset\":8,\"epoch\":\"e1\",\"recovered\":true}");
                for (int offset = 6; offset <= 9; offset++) { // 6 again: a replay may overlap what was delivered
                    connection.send("{\"type\":\"message\",\"channel\":\"alerts\",\"offset\":" + offset + ",\"epoch\":\"e1\",\"data\":" + offset + "}");
                }
                connection.readUntilClosed(READ);
            }
        })) {
            Events events = new Events();
            try (PortcullisClient client = client(server.uri(), events).build()) {
                client.publish("room:1", "{\"queued\":true}");
                client.subscribe("alerts", events.channel());
                client.connect();
                await().atMost(WAIT).until(() -> events.messages.size() == 4);
                assertThat(events.offsets("alerts")).containsExactly(6L, 7L, 8L, 9L);
                assertThat(events.subscribed).extracting(s -> s.offset() + "/" + s.resumed() + "/" + s.recovered())
                        .containsExactly("5/false/false", "6/true/true");
            }
            assertThat(server.failures).isEmpty();
            assertThat(received.get(0).path("type").asText()).isEqualTo("subscribe"); // subscriptions before queued publications
            assertThat(received.get(0).has("since")).isFalse();
            assertThat(received.get(1).path("type").asText()).isEqualTo("publish");
            JsonNode resubscribe = received.get(2);
            assertThat(resubscribe.path("channel").asText()).isEqualTo("alerts");
            assertThat(resubscribe.path("since").path("offset").asLong()).isEqualTo(6);
            assertThat(resubscribe.path("since").path("epoch").asText()).isEqualTo("e1");
            assertThat(server.authorizations).containsExactly("Bearer token-1", "Bearer token-2"); // a fresh token per attempt
        }
    }

    @Test
    void theDisconnectHintSetsTheReconnectDelay() throws Exception {
        try (ScriptedServer server = new ScriptedServer((connection, index) -> {
            connection.acceptAndGreet("c" + index);
            if (index == 0) {
                connection.send("{\"type\":\"disconnect\",\"code\":1001,\"reason\":\"redeploy\",\"retryAfterMs\":1500}");
                connection.close(1001, "server shutting down");
            } else {
                connection.readUntilClosed(READ);
            }
        })) {
            Events events = new Events();
            try (PortcullisClient client = client(server.uri(), events).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                await().atMost(WAIT).until(() -> !events.disconnected.isEmpty());
                Disconnected disconnected = events.disconnected.getFirst();
                assertThat(disconnected.code()).isEqualTo(1001);
                assertThat(disconnected.willReconnect()).isTrue();
                // the hint plus the client's own jitter (at most the minimum backoff)
                assertThat(disconnected.reconnectDelay()).isBetween(Duration.ofMillis(1500), Duration.ofMillis(1500).plus(MIN));
            }
            assertThat(server.failures).isEmpty();
        }
    }

    @Test
    void retryAfterOfARefusedHandshakeIsHonoured() throws Exception {
        try (ScriptedServer server = new ScriptedServer((connection, index) -> connection.refuse(429, "Retry-After: 7\r\n"))) {
            Events events = new Events();
            try (PortcullisClient client = client(server.uri(), events).build()) {
                client.connect();
                await().atMost(WAIT).until(() -> !events.disconnected.isEmpty());
                Disconnected disconnected = events.disconnected.getFirst();
                assertThat(disconnected.httpStatus()).isEqualTo(429);
                assertThat(disconnected.willReconnect()).isTrue();
                assertThat(disconnected.reconnectDelay()).isBetween(Duration.ofSeconds(7), Duration.ofSeconds(7).plus(MIN));
            }
        }
    }

    @Test
    void aSilentConnectionIsReplaced() throws Exception {
        try (ScriptedServer server = new ScriptedServer((connection, index) -> {
            connection.acceptAndGreet("c" + index);
            connection.readUntilClosed(WAIT); // holds the TCP connection, answers no ping
        })) {
            Events events = new Events();
            try (PortcullisClient client = client(server.uri(), events).heartbeatTimeout(Duration.ofMillis(400)).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                await().atMost(WAIT).until(() -> events.connected.size() >= 2);
                Disconnected disconnected = events.disconnected.getFirst();
                assertThat(disconnected.code()).isEqualTo(1006);
                assertThat(disconnected.reason()).contains("heartbeat");
                assertThat(disconnected.willReconnect()).isTrue();
            }
        }
    }

    @Test
    void aPublicationInFlightWhenTheConnectionDropsFailsAsUnknown() throws Exception {
        try (ScriptedServer server = new ScriptedServer((connection, index) -> {
            connection.acceptAndGreet("c" + index);
            if (index == 0) {
                connection.read(READ); // the publication, never answered
                connection.close(1011, "internal error");
            } else {
                connection.readUntilClosed(READ);
            }
        })) {
            Events events = new Events();
            try (PortcullisClient client = client(server.uri(), events).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                CompletableFuture<Long> inFlight = client.publish("room:1", "1");
                await().atMost(WAIT).until(inFlight::isDone);
                assertThat(inFlight).isCompletedExceptionally();
                assertThat(inFlight.handle((ok, e) -> e.getClass()).join()).isEqualTo(ConnectionLostException.class);
                await().atMost(WAIT).until(() -> events.connected.size() == 2);
            }
            assertThat(server.failures).isEmpty();
        }
    }

    @Test
    void rateLimitedRequestsAreResentInOrderAfterThePause() throws Exception {
        CopyOnWriteArrayList<String> published = new CopyOnWriteArrayList<>();
        try (ScriptedServer server = new ScriptedServer((connection, index) -> {
            connection.acceptAndGreet("c" + index);
            // the three publications are sent back to back; all three are refused for the rate
            java.util.List<String> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(connection.read(READ).path("id").asText());
            }
            for (String id : ids) {
                connection.send("{\"type\":\"error\",\"id\":\"" + id + "\",\"code\":\"rate_limited\",\"message\":\"slow down\",\"retryAfterMs\":100}");
            }
            for (long offset = 1; offset <= 3; offset++) {
                JsonNode publish = connection.read(READ);
                published.add(publish.path("data").asText());
                connection.send("{\"type\":\"ack\",\"id\":\"" + publish.path("id").asText() + "\",\"offset\":" + offset + "}");
            }
            connection.readUntilClosed(READ);
        })) {
            try (PortcullisClient client = client(server.uri(), new Events()).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                var first = client.publish("room:1", "\"a\"");
                var second = client.publish("room:1", "\"b\"");
                var third = client.publish("room:1", "\"c\"");
                assertThat(first.get(10, TimeUnit.SECONDS)).isEqualTo(1);
                assertThat(second.get(10, TimeUnit.SECONDS)).isEqualTo(2);
                assertThat(third.get(10, TimeUnit.SECONDS)).isEqualTo(3);
            }
            assertThat(published).containsExactly("a", "b", "c");
            assertThat(server.failures).isEmpty();
        }
    }

    /**
     * Issue 16: a publish answered {@code outcome_unknown} is sent again with the same idempotency
     * key (so the server publishes it at most once) and completes with the offset of the attempt
     * that got an answer; after the retries it fails carrying the key.
     */
    @Test
    void aPublishWithAnUnknownOutcomeIsRetriedWithTheSameKey() throws Exception {
        CopyOnWriteArrayList<JsonNode> publishes = new CopyOnWriteArrayList<>();
        try (ScriptedServer server = new ScriptedServer((connection, index) -> {
            connection.acceptAndGreet("c" + index);
            for (int attempt = 0; attempt < 2; attempt++) {
                JsonNode publish = connection.read(READ);
                publishes.add(publish);
                connection.send("{\"type\":\"error\",\"id\":\"" + publish.path("id").asText() + "\",\"code\":\"outcome_unknown\","
                        + "\"message\":\"no answer\",\"idempotencyKey\":\"" + publish.path("idempotencyKey").asText() + "\"}");
            }
            JsonNode publish = connection.read(READ);
            publishes.add(publish);
            connection.send("{\"type\":\"ack\",\"id\":\"" + publish.path("id").asText() + "\",\"offset\":7,\"epoch\":\"e1\"}");
            for (int attempt = 0; attempt < 4; attempt++) { // a second publish: never answered but outcome_unknown
                JsonNode next = connection.read(READ);
                publishes.add(next);
                connection.send("{\"type\":\"error\",\"id\":\"" + next.path("id").asText() + "\",\"code\":\"outcome_unknown\","
                        + "\"message\":\"no answer\",\"idempotencyKey\":\"" + next.path("idempotencyKey").asText() + "\"}");
            }
            connection.readUntilClosed(READ);
        })) {
            Events events = new Events();
            try (PortcullisClient client = client(server.uri(), events).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                assertThat(client.publish("room:1", "{\"n\":1}").get(10, TimeUnit.SECONDS)).isEqualTo(7L);
                CompletableFuture<Long> second = client.publish("room:1", "{\"n\":2}");
                assertThat(second).failsWithin(Duration.ofSeconds(10)).withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .havingCause().isInstanceOfSatisfying(ServerErrorException.class, e -> {
                            assertThat(e.code()).isEqualTo("outcome_unknown");
                            assertThat(e.idempotencyKey()).isEqualTo(publishes.get(3).path("idempotencyKey").asText());
                        });
            }
        }
        assertThat(publishes).hasSize(7);
        String first = publishes.get(0).path("idempotencyKey").asText();
        assertThat(first).isNotBlank();
        assertThat(publishes.subList(0, 3)).allMatch(p -> p.path("idempotencyKey").asText().equals(first));
        String second = publishes.get(3).path("idempotencyKey").asText();
        assertThat(second).isNotEqualTo(first);
        assertThat(publishes.subList(3, 7)).allMatch(p -> p.path("idempotencyKey").asText().equals(second));
    }
}
