package dev.portcullis.gateway.hooks;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.HookBackend;
import dev.portcullis.gateway.testing.HookBackend.Answer;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/**
 * Issue 12, tests 2 and 3: hooks against a real HTTP backend ({@link HookBackend}) and a real gateway,
 * with the JDK's WebSocket client.
 */
class HooksIT {
    private static final String SECRET = "hook-secret-0123456789-0123456789-abcdef";

    private static String token(String user, Map<String, String> channels) {
        return Tokens.hs256(b -> b.subject(user).claim("channels", channels).expirationTime(Date.from(Instant.now().plusSeconds(3600))));
    }

    private static WsClient connected(TestGateway gateway, String user) {
        WsClient client = WsClient.connect(gateway.uri(token(user, Map.of("room:*", "rw", "dead:*", "rw", "open:*", "rw"))));
        client.awaitMessage("connected");
        return client;
    }

    private static Map<String, Object> settings(Map<String, Object> hooks) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("hooks.secret", SECRET);
        settings.putAll(hooks);
        return settings;
    }

    private static JsonNode request(WsClient client, String json, String type) {
        client.send(json);
        return client.awaitMessage(type);
    }

    private static JsonNode publish(WsClient client, String id, String channel, String data) {
        client.send("{\"type\":\"publish\",\"id\":\"" + id + "\",\"channel\":\"" + channel + "\",\"data\":" + data + "}");
        while (true) {
            JsonNode reply = client.awaitAnyOf("ack", "error");
            if (id.equals(reply.path("id").asText())) {
                return reply;
            }
        }
    }

    /** What a backend does with the headers: HMAC-SHA256(secret, timestamp + "." + body), hex, after "sha256=". */
    private static void assertSigned(HookBackend.Call call) throws GeneralSecurityException {
        long timestamp = Long.parseLong(call.timestamp());
        assertThat(Math.abs(Instant.now().getEpochSecond() - timestamp)).as("timestamp is now").isLessThan(60);
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        mac.update((call.timestamp() + ".").getBytes(StandardCharsets.UTF_8));
        String expected = "sha256=" + HexFormat.of().formatHex(mac.doFinal(call.body()));
        assertThat(call.signature()).isEqualTo(expected);
        mac.update((call.timestamp() + ".").getBytes(StandardCharsets.UTF_8));
        byte[] tampered = call.body().clone();
        tampered[tampered.length / 2] ^= 1;
        assertThat(call.signature()).as("another body has another signature").isNotEqualTo("sha256=" + HexFormat.of().formatHex(mac.doFinal(tampered)));
    }

    @Test
    void publishHookAcceptsReplacesRejectsAndFailsClosed() throws Exception {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of(
                        "hooks.publish", List.of("room:*=" + backend.url("/publish"), "dead:*=" + HookBackend.refusingUrl()))))) {
            WsClient writer = WsClient.connect(gateway.uri(token("writer", Map.of("room:*", "rw", "dead:*", "rw", "open:*", "rw"))));
            String connection = writer.awaitMessage("connected").path("connection").asText();
            WsClient reader = connected(gateway, "reader");
            request(reader, "{\"type\":\"subscribe\",\"channel\":\"room:1\"}", "ack");

            // accept: the backend sees the data as it would be published (sanitised), signed
            backend.answer(Answer.ACCEPT);
            JsonNode ack = publish(writer, "a", "room:1", "{\"text\":\"<b>hi</b> there\"}");
            assertThat(ack.path("type").asText()).isEqualTo("ack");
            assertThat(ack.path("offset").asLong()).isEqualTo(1);
            HookBackend.Call call = backend.next();
            assertSigned(call);
            JsonNode body = call.json();
            assertThat(body.path("hook").asText()).isEqualTo("publish");
            assertThat(body.path("channel").asText()).isEqualTo("room:1");
            assertThat(body.path("user").asText()).isEqualTo("writer");
            assertThat(body.path("connection").asText()).isEqualTo(connection);
            assertThat(body.path("data").path("text").asText()).isEqualTo("hi there");
            assertThat(reader.awaitMessage("message").path("data").path("text").asText()).isEqualTo("hi there");

            // accept with replacement data: published as the backend sent it (schema-checked, not sanitised)
            backend.answer(Answer.json("{\"result\":\"accept\",\"data\":{\"id\":\"srv-42\",\"text\":\"x<y && <i>z</i>\"}}"));
            writer.send("{\"type\":\"publish\",\"id\":\"r\",\"channel\":\"room:1\",\"data\":{\"text\":\"mine\"},\"idempotencyKey\":\"k-1\"}");
            assertThat(writer.awaitMessage("ack").path("offset").asLong()).isEqualTo(2);
            assertThat(backend.next().json().path("idempotencyKey").asText()).isEqualTo("k-1");
            JsonNode replaced = reader.awaitMessage("message");
            assertThat(replaced.path("data").path("id").asText()).isEqualTo("srv-42");
            assertThat(replaced.path("data").path("text").asText()).isEqualTo("x<y && <i>z</i>");

            // reject: the backend's code and message; a code that is not snake_case becomes "rejected"
            backend.answer(Answer.json("{\"result\":\"reject\",\"code\":\"not_a_member\",\"message\":\"join the room first\"}"));
            JsonNode rejected = publish(writer, "x", "room:1", "{\"text\":\"no\"}");
            assertThat(rejected.path("code").asText()).isEqualTo("not_a_member");
            assertThat(rejected.path("message").asText()).isEqualTo("join the room first");
            backend.answer(Answer.json("{\"result\":\"reject\",\"code\":\"Not A Code!\",\"message\":\"" + "m".repeat(500) + "\"}"));
            JsonNode odd = publish(writer, "y", "room:1", "{\"text\":\"no\"}");
            assertThat(odd.path("code").asText()).isEqualTo("rejected");
            assertThat(odd.path("message").asText()).hasSize(Hooks.MAX_MESSAGE_CHARS);

            // 5xx, a timeout (hooks.timeout, 2 s by default), an answer that is not one, a refused connection: unavailable, nothing published
            backend.answer(new Answer(503, "{\"error\":\"down\"}"));
            assertThat(publish(writer, "e1", "room:1", "{\"text\":\"no\"}").path("code").asText()).isEqualTo("unavailable");
            backend.answer(Answer.HANG);
            assertThat(publish(writer, "t1", "room:1", "{\"text\":\"no\"}").path("code").asText()).isEqualTo("unavailable");
            backend.answer(Answer.json("{\"ok\":true}"));
            assertThat(publish(writer, "e2", "room:1", "{\"text\":\"no\"}").path("code").asText()).isEqualTo("unavailable");
            assertThat(publish(writer, "d1", "dead:1", "{\"text\":\"no\"}").path("code").asText()).isEqualTo("unavailable");

            // a channel without a hook is published directly; the next hooked one shows nothing was published meanwhile
            assertThat(publish(writer, "o", "open:1", "{}").path("offset").asLong()).isEqualTo(1);
            backend.answer(Answer.ACCEPT);
            assertThat(publish(writer, "b", "room:1", "{\"text\":\"back\"}").path("offset").asLong()).isEqualTo(3);
            JsonNode next = reader.awaitMessage("message");
            assertThat(next.path("offset").asLong()).isEqualTo(3);
            assertThat(next.path("data").path("text").asText()).isEqualTo("back");

            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"publish\",outcome=\"accept\"}")).isEqualTo(3);
            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"publish\",outcome=\"reject\"}")).isEqualTo(2);
            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"publish\",outcome=\"timeout\"}")).isEqualTo(1);
            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"publish\",outcome=\"error\"}")).isEqualTo(3);
            assertThat(gateway.metric("portcullis_hook_duration_seconds_count{hook=\"publish\"}")).isEqualTo(9);
            assertThat(gateway.metric("portcullis_publications_total{source=\"client\"}")).isEqualTo(4);
            writer.close();
            reader.close();
        }
    }

    @Test
    void overMaxInFlightIsUnavailableWithoutARequest() {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of(
                        "hooks.publish", List.of("room:*=" + backend.url("/publish")), "hooks.max-in-flight", "1", "hooks.timeout", "5s")))) {
            WsClient first = connected(gateway, "first");
            WsClient second = connected(gateway, "second");
            backend.answer(Answer.HANG);
            first.send("{\"type\":\"publish\",\"id\":\"held\",\"channel\":\"room:1\",\"data\":{}}");
            backend.next(); // the one request allowed is open
            JsonNode refused = publish(second, "over", "room:1", "{}");
            assertThat(refused.path("code").asText()).isEqualTo("unavailable");
            assertThat(refused.path("message").asText()).contains("too many requests");
            assertThat(backend.count()).isEqualTo(1);
            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"publish\",outcome=\"overloaded\"}")).isEqualTo(1);
            first.abort();
            second.close();
        }
    }

    @Test
    void aConnectionHasAtMostEightHookCallsOpenAndABoundedQueue() {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of(
                        "hooks.publish", List.of("room:*=" + backend.url("/publish")), "hooks.timeout", "10s")))) {
            WsClient writer = connected(gateway, "writer");
            backend.answer(Answer.HANG);
            int waiting = 256;
            for (int i = 1; i <= waiting + 1; i++) {
                writer.send("{\"type\":\"publish\",\"id\":" + i + ",\"channel\":\"room:1\",\"data\":{}}");
            }
            JsonNode over = writer.awaitAnyOf("ack", "error");
            assertThat(over.path("id").asInt()).as("the one past the queue is refused at once").isEqualTo(waiting + 1);
            assertThat(over.path("code").asText()).isEqualTo("unavailable");
            assertThat(over.path("message").asText()).contains("too many publications");
            for (int i = 0; i < 8; i++) {
                backend.next();
            }
            assertThat(writer.staysQuiet(Duration.ofMillis(300))).isTrue();
            assertThat(backend.count()).as("hook calls one connection has open").isEqualTo(8);
            writer.abort();
        }
    }

    @Test
    void theBreakerOpensAfterRepeatedFailuresAndClosesAfterProbes() {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of(
                        "hooks.publish", List.of("room:*=" + backend.url("/publish")), "hooks.breaker-wait", "1s")))) {
            String gauge = "portcullis_hook_breaker_state{target=\"127.0.0.1:" + backend.url("/").getPort() + "\"}";
            assertThat(gateway.metric(gauge)).isEqualTo(0);
            WsClient writer = connected(gateway, "writer");
            backend.answer(new Answer(500, "{}"));
            for (int i = 0; i < HookTransport.MIN_CALLS; i++) {
                assertThat(publish(writer, "f" + i, "room:1", "{}").path("code").asText()).isEqualTo("unavailable");
            }
            assertThat(backend.count()).isEqualTo(HookTransport.MIN_CALLS);
            assertThat(gateway.metric(gauge)).as("open").isEqualTo(1);
            backend.answer(Answer.ACCEPT);
            JsonNode refused = publish(writer, "open", "room:1", "{}");
            assertThat(refused.path("code").asText()).isEqualTo("unavailable");
            assertThat(refused.path("message").asText()).contains("failing");
            assertThat(backend.count()).as("an open breaker sends nothing").isEqualTo(HookTransport.MIN_CALLS);
            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"publish\",outcome=\"breaker_open\"}")).isEqualTo(1);

            // after hooks.breaker-wait, probes go through; enough successes close it
            int[] n = {0};
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(100))
                    .until(() -> publish(writer, "p" + n[0]++, "room:1", "{}").path("type").asText().equals("ack"));
            assertThat(gateway.metric(gauge)).as("half-open while probing").isEqualTo(2);
            for (int i = 1; i < HookTransport.PROBES; i++) {
                assertThat(publish(writer, "q" + i, "room:1", "{}").path("type").asText()).isEqualTo("ack");
            }
            assertThat(gateway.metric(gauge)).as("closed again").isEqualTo(0);
            writer.close();
        }
    }

    @Test
    void aConnectionsPublicationsKeepTheirOrderWhileHookAnswersOvertakeEachOther() {
        int total = 500;
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of("hooks.publish", List.of("room:*=" + backend.url("/publish")))))) {
            backend.answer(call -> {
                // Answers take 0-3 ms at random, so later requests often finish first.
                LockSupport.parkNanos(ThreadLocalRandom.current().nextLong(3_000_000));
                int n = call.json().path("data").path("n").asInt();
                return n % 2 == 0
                        ? Answer.json("{\"result\":\"accept\",\"data\":{\"n\":" + n + ",\"id\":\"srv-" + n + "\"}}")
                        : Answer.ACCEPT;
            });
            WsClient writer = connected(gateway, "writer");
            WsClient reader = connected(gateway, "reader");
            request(reader, "{\"type\":\"subscribe\",\"channel\":\"room:order\"}", "ack");
            int window = 100; // below ClientPublications.MAX_WAITING, like a client with a bounded send queue
            int sent = 0;
            for (; sent < window; sent++) {
                writer.send("{\"type\":\"publish\",\"id\":" + (sent + 1) + ",\"channel\":\"room:order\",\"data\":{\"n\":" + (sent + 1) + "}}");
            }
            for (int i = 1; i <= total; i++) {
                JsonNode ack = writer.awaitMessage("ack");
                assertThat(ack.path("id").asInt()).as("acks in order").isEqualTo(i);
                assertThat(ack.path("offset").asLong()).isEqualTo(i);
                if (sent < total) {
                    sent++;
                    writer.send("{\"type\":\"publish\",\"id\":" + sent + ",\"channel\":\"room:order\",\"data\":{\"n\":" + sent + "}}");
                }
            }
            for (int i = 1; i <= total; i++) {
                JsonNode message = reader.awaitMessage("message");
                assertThat(message.path("offset").asLong()).isEqualTo(i);
                assertThat(message.path("data").path("n").asInt()).as("publication %d in order", i).isEqualTo(i);
                assertThat(message.path("data").has("id")).isEqualTo(i % 2 == 0);
            }
            assertThat(backend.count()).isEqualTo(total);
            writer.close();
            reader.close();
        }
    }

    /** Issue 12, test 3. */
    @Test
    void subscribeHookOverridesTheTokenAndItsCachedAnswerExpires() {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of("hooks.subscribe", List.of("room:*=" + backend.url("/subscribe"), "user:*=" + backend.url("/subscribe")),
                        "channels.presence", List.of("room:*"))))) {
            backend.answer(Answer.json("{\"result\":\"reject\",\"code\":\"not_a_member\",\"message\":\"not in this room\",\"cacheSeconds\":2}"));
            WsClient client = connected(gateway, "member");
            assertThat(backend.count()).as("the automatic personal channel is not asked about").isEqualTo(0);
            JsonNode rejected = request(client, "{\"type\":\"subscribe\",\"id\":\"s1\",\"channel\":\"room:7\"}", "error");
            assertThat(rejected.path("id").asText()).isEqualTo("s1");
            assertThat(rejected.path("code").asText()).isEqualTo("not_a_member");
            HookBackend.Call call = backend.next();
            assertThat(call.json().path("hook").asText()).isEqualTo("subscribe");
            assertThat(call.json().path("channel").asText()).isEqualTo("room:7");
            assertThat(call.json().path("user").asText()).isEqualTo("member");
            assertThat(call.json().has("data")).isFalse();

            backend.answer(Answer.json("{\"result\":\"accept\",\"cacheSeconds\":30}"));
            assertThat(request(client, "{\"type\":\"history\",\"id\":\"h1\",\"channel\":\"room:7\"}", "error").path("code").asText())
                    .as("history reads are checked too; the cached reject still holds").isEqualTo("not_a_member");
            assertThat(request(client, "{\"type\":\"presence\",\"id\":\"p1\",\"channel\":\"room:7\"}", "error").path("code").asText())
                    .as("so are presence listings").isEqualTo("not_a_member");
            assertThat(backend.count()).as("answered from the cache").isEqualTo(1);
            assertThat(gateway.publish("room:7", "{\"text\":\"before\"}")).isEqualTo(1);

            // once the cache time is over the backend is asked again, and now it accepts
            int[] n = {0};
            await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200)).until(() -> {
                client.send("{\"type\":\"subscribe\",\"id\":\"again" + n[0]++ + "\",\"channel\":\"room:7\"}");
                return client.awaitAnyOf("ack", "error").path("type").asText().equals("ack");
            });
            assertThat(backend.count()).isEqualTo(2);
            assertThat(gateway.publish("room:7", "{\"text\":\"after\"}")).isEqualTo(2);
            assertThat(client.awaitMessage("message").path("data").path("text").asText()).isEqualTo("after");
            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"subscribe\",outcome=\"reject\"}")).isEqualTo(1);
            assertThat(gateway.metric("portcullis_hook_results_total{hook=\"subscribe\",outcome=\"accept\"}")).isEqualTo(1);
            client.close();
        }
    }
    /** Holds a hook answer until the test opens the latch. */
    private static Answer after(CountDownLatch latch, Answer answer) {
        try {
            latch.await(WsClient.WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return answer;
    }

    /**
     * Review fix: with the Redis broker, a publish without a key used to reach the hook without one and
     * be published under a key the broker made up afterwards; a retry with that key (what
     * {@code outcome_unknown} tells the client to do) showed the backend a key it never saw. Now the
     * backend sees the key the broker publishes with, and a retry with it is the same publication.
     */
    @Test
    void aHookedPublishWithoutAKeyShowsTheBackendTheKeyTheRedisBrokerUses() {
        try (RedisServer redis = RedisServer.start();
                HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                        "hooks.publish", List.of("room:*=" + backend.url("/publish")))))) {
            WsClient writer = connected(gateway, "writer");
            WsClient reader = connected(gateway, "reader");
            request(reader, "{\"type\":\"subscribe\",\"channel\":\"room:1\"}", "ack");
            JsonNode first = publish(writer, "a", "room:1", "{\"n\":1}");
            assertThat(first.path("type").asText()).as(first.toString()).isEqualTo("ack");
            String key = backend.next().json().path("idempotencyKey").asText();
            assertThat(key).as("the key the broker generates, shown to the hook").startsWith("g");

            backend.answer(Answer.json("{\"result\":\"accept\",\"data\":{\"n\":99}}"));
            writer.send("{\"type\":\"publish\",\"id\":\"retry\",\"channel\":\"room:1\",\"data\":{\"n\":1},\"idempotencyKey\":\"" + key + "\"}");
            JsonNode retry = writer.awaitAnyOf("ack", "error");
            assertThat(backend.next().json().path("idempotencyKey").asText()).as("the retry carries the first call's key").isEqualTo(key);
            assertThat(retry.path("offset").asLong()).as("deduplicated: the first publication stands").isEqualTo(first.path("offset").asLong());
            assertThat(reader.awaitMessage("message").path("data").path("n").asInt()).isEqualTo(1);
            assertThat(gateway.publish("room:1", "{\"n\":2}")).isEqualTo(2);
            assertThat(reader.awaitMessage("message").path("data").path("n").asInt())
                    .as("the retry published nothing (its replacement data is ignored)").isEqualTo(2);
            writer.close();
            reader.close();
        }
    }

    /**
     * Review fix: unsubscribe and subscribe again while the first subscribe's hook call is open. The
     * first answer used to act on the first request and take the second one's place, leaving the
     * second unanswered; now the first is answered {@code unsubscribed} and the second gets its own.
     */
    @Test
    void aSubscribeOvertakenByUnsubscribeAndResubscribeGetsItsOwnAnswer() {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of("hooks.subscribe", List.of("room:*=" + backend.url("/subscribe")))))) {
            CountDownLatch firstAnswer = new CountDownLatch(1);
            CountDownLatch secondAnswer = new CountDownLatch(1);
            AtomicInteger calls = new AtomicInteger();
            backend.answer(call -> calls.incrementAndGet() == 1
                    ? after(firstAnswer, Answer.json("{\"result\":\"reject\",\"code\":\"not_a_member\"}"))
                    : after(secondAnswer, Answer.ACCEPT));
            WsClient client = connected(gateway, "member");
            client.send("{\"type\":\"subscribe\",\"id\":\"s1\",\"channel\":\"room:1\"}");
            backend.next();
            assertThat(request(client, "{\"type\":\"unsubscribe\",\"id\":\"u\",\"channel\":\"room:1\"}", "ack").path("id").asText()).isEqualTo("u");
            client.send("{\"type\":\"subscribe\",\"id\":\"s2\",\"channel\":\"room:1\"}");
            backend.next();
            firstAnswer.countDown();
            JsonNode overtaken = client.awaitAnyOf("ack", "error");
            assertThat(overtaken.path("id").asText()).isEqualTo("s1");
            assertThat(overtaken.path("code").asText()).isEqualTo("unsubscribed");
            secondAnswer.countDown();
            JsonNode second = client.awaitAnyOf("ack", "error");
            assertThat(second.path("id").asText()).isEqualTo("s2");
            assertThat(second.path("type").asText()).isEqualTo("ack");
            assertThat(gateway.publish("room:1", "{\"n\":1}")).isEqualTo(1);
            assertThat(client.awaitMessage("message").path("data").path("n").asInt()).isEqualTo(1);
            client.close();
        }
    }

    /** Review fix: a publication waiting for its hook is not published once a re-auth withdrew the write permission. */
    @Test
    void aReauthWithdrawingWritePermissionStopsPublicationsWaitingForTheHook() {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of("hooks.publish", List.of("room:*=" + backend.url("/publish")))))) {
            CountDownLatch answer = new CountDownLatch(1);
            backend.answer(call -> after(answer, Answer.ACCEPT));
            WsClient writer = connected(gateway, "writer");
            writer.send("{\"type\":\"publish\",\"id\":\"p\",\"channel\":\"room:1\",\"data\":{}}");
            backend.next();
            writer.send("{\"type\":\"auth\",\"id\":\"r\",\"token\":\"" + token("writer", Map.of("room:*", "r")) + "\"}");
            assertThat(writer.awaitAnyOf("ack", "error").path("id").asText()).isEqualTo("r");
            answer.countDown();
            JsonNode refused = writer.awaitAnyOf("ack", "error");
            assertThat(refused.path("id").asText()).isEqualTo("p");
            assertThat(refused.path("code").asText()).isEqualTo("forbidden");
            assertThat(gateway.publish("room:1", "{}")).as("nothing was published").isEqualTo(1);
            writer.close();
        }
    }

    /**
     * Review fix: history and presence requests on a hooked channel the connection does not hold used
     * to open a hook call each, without a per-connection bound. Requests for one channel now share a
     * call, and past a window of 8 waiting requests per connection one more is
     * {@code unavailable} at once.
     */
    @Test
    void historyAndPresenceChecksShareCallsAndHaveAPerConnectionWindow() {
        try (HookBackend backend = HookBackend.start();
                TestGateway gateway = TestGateway.start(settings(Map.of("hooks.subscribe", List.of("room:*=" + backend.url("/subscribe")),
                        "hooks.timeout", "10s", "channels.presence", List.of("room:*"))))) {
            backend.answer(Answer.HANG);
            WsClient reader = connected(gateway, "reader");
            reader.send("{\"type\":\"history\",\"id\":0,\"channel\":\"room:0\"}");
            reader.send("{\"type\":\"presence\",\"id\":1,\"channel\":\"room:0\"}");
            for (int i = 2; i <= 8; i++) {
                reader.send("{\"type\":\"history\",\"id\":" + i + ",\"channel\":\"room:" + (i - 1) + "\"}");
            }
            JsonNode over = reader.awaitAnyOf("history", "presence", "error");
            assertThat(over.path("id").asInt()).as("the ninth waiting request is refused at once").isEqualTo(8);
            assertThat(over.path("code").asText()).isEqualTo("unavailable");
            assertThat(over.path("message").asText()).contains("too many requests");
            for (int i = 0; i < 7; i++) {
                backend.next();
            }
            assertThat(reader.staysQuiet(Duration.ofMillis(300))).isTrue();
            assertThat(backend.count()).as("one call per channel, room:0's shared").isEqualTo(7);
            reader.abort();
        }
    }
}
