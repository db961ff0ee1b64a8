package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

/**
 * End-to-end encrypted channels (issue 11) between Java clients through a real gateway: acceptance
 * test 2 (altered, unknown-kid and replayed envelopes are reported with their offset and the next
 * publication still arrives), two clients reading each other, the gateway and a keyless reader seeing
 * only envelopes, history pages, publications queued while disconnected, and recovery after a
 * reconnect decrypting what was missed.
 */
class EncryptedChannelsIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final MapKeys KEYS = MapKeys.of("k1", 0);
    private static final Map<String, Object> SETTINGS = Map.of(
            "history.channels", List.of("secret:*=1000/1h"),
            "channels.encrypted", List.of("secret:*"));
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder UNB64 = Base64.getUrlDecoder();

    private static PortcullisClient.Builder client(URI uri, String user, Events events) {
        return PortcullisClient.builder(uri)
                .token(() -> GatewayFixture.token(user, Duration.ofHours(1), Map.of("secret:*", "rw")))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .sendRate(0, 1)
                .listener(events);
    }

    private static PortcullisClient encrypting(URI uri, String user, Events events) {
        return client(uri, user, events).encryption(List.of("secret:*"), KEYS).build();
    }

    private static JsonNode data(String json) {
        return Frames.data(json);
    }

    /** {@code envelope} with one bit of {@code field} (iv or ct) flipped. */
    private static String flipped(ObjectNode envelope, String field) {
        byte[] bytes = UNB64.decode(envelope.path(field).asText());
        bytes[bytes.length - 1] ^= 1;
        return envelope.deepCopy().put(field, B64.encodeToString(bytes)).toString();
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    void alteredUnknownKidAndReplayedEnvelopesAreReportedWithTheirOffsetAndTheNextPublicationStillArrives() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start(SETTINGS)) {
            Events events = new Events();
            try (PortcullisClient client = encrypting(gateway.uri(), "amy", events)) {
                client.connect().get(10, TimeUnit.SECONDS);
                Subscription secret = client.subscribe("secret:a", events.channel());
                long start = secret.subscribed().get(10, TimeUnit.SECONDS).offset();
                EnvelopeCipher backend = new EnvelopeCipher(KEYS); // the backend API publishes envelopes made here
                String channel = "secret:a";
                gateway.publish(channel, backend.seal(channel, data("{\"n\":1}")).toString());
                gateway.publish(channel, flipped(backend.seal(channel, data("{\"n\":2}")), "ct"));
                gateway.publish(channel, backend.seal(channel, data("{\"n\":3}")).toString());
                gateway.publish(channel, flipped(backend.seal(channel, data("{\"n\":4}")), "iv"));
                gateway.publish(channel, backend.seal(channel, data("{\"n\":5}")).toString());
                gateway.publish(channel, new EnvelopeCipher(MapKeys.of("k9", 50)).seal(channel, data("{\"n\":6}")).toString());
                gateway.publish(channel, backend.seal(channel, data("{\"n\":7}")).toString());
                gateway.publish(channel, backend.seal("secret:b", data("{\"n\":8}")).toString()); // valid, for another channel
                gateway.publish(channel, backend.seal(channel, data("{\"n\":9}")).toString());

                await().atMost(WAIT).until(() -> events.delivered.size() == 9);
                assertThat(events.delivered).containsExactlyElementsOf(range(start + 1, start + 9));
                assertThat(events.messages).extracting(m -> m.data().path("n").asInt()).containsExactly(1, 3, 5, 7, 9);
                assertThat(events.messages).extracting(Message::offset)
                        .containsExactly(start + 1, start + 3, start + 5, start + 7, start + 9);
                assertThat(events.decryptFailures).containsExactly(
                        new DecryptFailure(channel, start + 2, "k1", DecryptFailure.AUTHENTICATION_FAILED),
                        new DecryptFailure(channel, start + 4, "k1", DecryptFailure.AUTHENTICATION_FAILED),
                        new DecryptFailure(channel, start + 6, "k9", DecryptFailure.UNKNOWN_KID),
                        new DecryptFailure(channel, start + 8, "k1", DecryptFailure.AUTHENTICATION_FAILED));
                assertThat(secret.position().offset()).isEqualTo(start + 9);
                assertThat(events.threads).allMatch(name -> name.startsWith("portcullis-client-"));
            }
        }
    }

    @Test
    void twoClientsReadEachOtherWhileTheGatewayAndAKeylessReaderSeeOnlyEnvelopes() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start(SETTINGS)) {
            Events alice = new Events();
            Events bob = new Events();
            Events eve = new Events();
            try (PortcullisClient a = encrypting(gateway.uri(), "alice", alice);
                    PortcullisClient b = encrypting(gateway.uri(), "bob", bob);
                    PortcullisClient e = client(gateway.uri(), "eve", eve).build()) {
                for (PortcullisClient c : List.of(a, b, e)) {
                    c.connect().get(10, TimeUnit.SECONDS);
                }
                a.subscribe("secret:chat", alice.channel()).subscribed().get(10, TimeUnit.SECONDS);
                b.subscribe("secret:chat", bob.channel()).subscribed().get(10, TimeUnit.SECONDS);
                e.subscribe("secret:chat", eve.channel()).subscribed().get(10, TimeUnit.SECONDS);

                long first = a.publish("secret:chat", "{\"text\":\"from alice PLAINTEXT-MARKER\"}").get(10, TimeUnit.SECONDS);
                long second = b.publish("secret:chat", data("{\"text\":\"from bob PLAINTEXT-MARKER é😀\"}")).get(10, TimeUnit.SECONDS);

                await().atMost(WAIT).until(() -> alice.messages.size() == 2 && bob.messages.size() == 2 && eve.messages.size() == 2);
                for (Events reader : List.of(alice, bob)) {
                    assertThat(reader.messages).extracting(m -> m.data().path("text").asText())
                            .containsExactly("from alice PLAINTEXT-MARKER", "from bob PLAINTEXT-MARKER é😀");
                    assertThat(reader.offsets("secret:chat")).containsExactly(first, second);
                    assertThat(reader.decryptFailures).isEmpty();
                }
                for (Message seen : eve.messages) { // what the gateway relayed
                    assertThat(seen.data().fieldNames()).toIterable().containsExactly("v", "kid", "iv", "ct");
                    assertThat(seen.data().toString()).doesNotContain("MARKER").doesNotContain("alice");
                }

                // a client without the channel's encryption publishes plaintext: the gateway refuses it
                assertThat(e.publish("secret:chat", "{\"text\":\"PLAINTEXT-MARKER\"}")).failsWithin(WAIT)
                        .withThrowableOfType(java.util.concurrent.ExecutionException.class)
                        .havingCause().isInstanceOfSatisfying(ServerErrorException.class,
                                error -> assertThat(error.code()).isEqualTo("invalid_message"));

                HistoryPage page = b.history("secret:chat", null, 0).get(10, TimeUnit.SECONDS);
                assertThat(page.publications()).extracting(m -> m.data().path("text").asText())
                        .containsExactly("from alice PLAINTEXT-MARKER", "from bob PLAINTEXT-MARKER é😀");
                assertThat(page.failed()).isEmpty();
                HistoryPage stored = e.history("secret:chat", null, 0).get(10, TimeUnit.SECONDS);
                assertThat(stored.publications()).extracting(m -> m.data().has("ct")).containsExactly(true, true);
                assertThat(stored.publications().toString()).doesNotContain("MARKER");
            }
        }
    }

    @Test
    void aHistoryPageListsWhatDidNotDecrypt() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start(SETTINGS)) {
            Events events = new Events();
            try (PortcullisClient client = encrypting(gateway.uri(), "hal", events)) {
                client.connect().get(10, TimeUnit.SECONDS);
                EnvelopeCipher backend = new EnvelopeCipher(KEYS);
                long one = gateway.publish("secret:h", backend.seal("secret:h", data("{\"n\":1}")).toString()).path("offset").asLong();
                gateway.publish("secret:h", backend.seal("secret:other", data("{\"n\":2}")).toString());
                gateway.publish("secret:h", backend.seal("secret:h", data("{\"n\":3}")).toString());

                HistoryPage page = client.history("secret:h", null, 0).get(10, TimeUnit.SECONDS);
                assertThat(page.publications()).extracting(m -> m.data().path("n").asInt()).containsExactly(1, 3);
                assertThat(page.failed()).containsExactly(
                        new DecryptFailure("secret:h", one + 1, "k1", DecryptFailure.AUTHENTICATION_FAILED));
            }
        }
    }

    @Test
    void publicationsMadeWhileDisconnectedAreQueuedSealedAndArriveInOrder() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start(SETTINGS);
                TcpProxy proxy = new TcpProxy(gateway.port())) {
            Events alice = new Events();
            Events bob = new Events();
            try (PortcullisClient a = encrypting(proxy.uri(), "alice", alice);
                    PortcullisClient b = encrypting(gateway.uri(), "bob", bob)) {
                a.connect().get(10, TimeUnit.SECONDS);
                b.connect().get(10, TimeUnit.SECONDS);
                b.subscribe("secret:q", bob.channel()).subscribed().get(10, TimeUnit.SECONDS);

                proxy.cut();
                await().atMost(WAIT).until(() -> !alice.disconnected.isEmpty());
                List<java.util.concurrent.CompletableFuture<Long>> queued = LongStream.rangeClosed(1, 3)
                        .mapToObj(n -> a.publish("secret:q", "{\"n\":" + n + "}")).toList();
                proxy.restore();

                for (java.util.concurrent.CompletableFuture<Long> publish : queued) {
                    publish.get(WAIT.toSeconds(), TimeUnit.SECONDS);
                }
                await().atMost(WAIT).until(() -> bob.messages.size() == 3);
                assertThat(bob.messages).extracting(m -> m.data().path("n").asInt()).containsExactly(1, 2, 3);
                assertThat(bob.decryptFailures).isEmpty();
            }
        }
    }

    @Test
    void afterAReconnectTheRecoveredPublicationsAreDecrypted() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start(SETTINGS);
                TcpProxy proxy = new TcpProxy(gateway.port())) {
            Events alice = new Events();
            Events bob = new Events();
            try (PortcullisClient a = encrypting(gateway.uri(), "alice", alice);
                    PortcullisClient b = encrypting(proxy.uri(), "bob", bob)) {
                a.connect().get(10, TimeUnit.SECONDS);
                b.connect().get(10, TimeUnit.SECONDS);
                Subscription subscription = b.subscribe("secret:r", bob.channel());
                long start = subscription.subscribed().get(10, TimeUnit.SECONDS).offset();
                a.publish("secret:r", "{\"n\":1}").get(10, TimeUnit.SECONDS);
                await().atMost(WAIT).until(() -> bob.messages.size() == 1);

                proxy.cut();
                await().atMost(WAIT).until(() -> !bob.disconnected.isEmpty());
                for (int n = 2; n <= 6; n++) {
                    a.publish("secret:r", "{\"n\":" + n + "}").get(10, TimeUnit.SECONDS);
                }
                gateway.publish("secret:r", flipped(new EnvelopeCipher(KEYS).seal("secret:r", data("{\"n\":7}")), "ct"));
                a.publish("secret:r", "{\"n\":8}").get(10, TimeUnit.SECONDS);
                proxy.restore();

                await().atMost(WAIT).until(() -> bob.delivered.size() == 8);
                assertThat(bob.delivered).containsExactlyElementsOf(range(start + 1, start + 8));
                assertThat(bob.messages).extracting(m -> m.data().path("n").asInt()).containsExactly(1, 2, 3, 4, 5, 6, 8);
                assertThat(bob.decryptFailures).containsExactly(
                        new DecryptFailure("secret:r", start + 7, "k1", DecryptFailure.AUTHENTICATION_FAILED));
                Subscribed resubscribed = bob.subscribed.getLast();
                assertThat(resubscribed.resumed()).isTrue();
                assertThat(resubscribed.recovered()).isTrue();
            }
        }
    }
}
