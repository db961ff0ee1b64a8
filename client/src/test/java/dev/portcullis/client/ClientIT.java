package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The client against a real gateway: connecting, subscribing, publishing, refusals and terminal closes. */
class ClientIT {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private static GatewayFixture gateway;

    @BeforeAll
    static void startGateway() {
        gateway = GatewayFixture.start();
    }

    @AfterAll
    static void stopGateway() {
        gateway.close();
    }

    private static PortcullisClient.Builder client(URI uri, String user, Events events) {
        return PortcullisClient.builder(uri)
                .token(() -> GatewayFixture.token(user, Duration.ofHours(1), Map.of("news", "r", "room:*", "rw")))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .sendRate(0, 1)
                .listener(events);
    }

    @Test
    void connectsSubscribesReceivesAndPublishes() throws Exception {
        Events events = new Events();
        try (PortcullisClient client = client(gateway.uri(), "ivy", events).build()) {
            Connected connected = client.connect().get(10, TimeUnit.SECONDS);
            assertThat(connected.user()).isEqualTo("ivy");
            assertThat(client.isConnected()).isTrue();

            Subscription news = client.subscribe("news", events.channel());
            Subscribed subscribed = news.subscribed().get(10, TimeUnit.SECONDS);
            assertThat(subscribed.channel()).isEqualTo("news");
            assertThat(subscribed.resumed()).isFalse();
            assertThat(subscribed.recovered()).isFalse();

            long first = gateway.publish("news", "{\"n\":1}").path("offset").asLong();
            gateway.publish("news", "{\"n\":2}");
            gateway.publish("news", "{\"n\":3}");
            await().atMost(WAIT).until(() -> events.messages.size() == 3);
            assertThat(events.offsets("news")).containsExactly(first, first + 1, first + 2);
            assertThat(events.messages).extracting(m -> m.data().path("n").asInt()).containsExactly(1, 2, 3);
            assertThat(news.position().offset()).isEqualTo(first + 2);

            Subscription room = client.subscribe("room:ivy", events.channel());
            room.subscribed().get(10, TimeUnit.SECONDS);
            long offset = client.publish("room:ivy", "{\"text\":\"hello\"}").get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> events.offsets("room:ivy").contains(offset));
            assertThat(events.messages.getLast().data().path("text").asText()).isEqualTo("hello");

            news.unsubscribe().get(10, TimeUnit.SECONDS);
            assertThat(news.subscribed()).isCompleted();
            // a second subscription to the channel is allowed once the first ended
            client.subscribe("news", events.channel()).subscribed().get(10, TimeUnit.SECONDS);
        }
        assertThat(events.threads).allSatisfy(name -> assertThat(name).startsWith("portcullis-client-"));
        assertThat(events.threads).containsOnly(events.threads.getFirst()); // one thread per client
        assertThat(events.disconnected.getLast().willReconnect()).isFalse();
        assertThat(events.disconnected.getLast().code()).isEqualTo(1000);
    }

    @Test
    void oneSubscriptionPerChannel() throws Exception {
        Events events = new Events();
        try (PortcullisClient client = client(gateway.uri(), "jay", events).build()) {
            client.subscribe("news", events.channel());
            assertThatThrownBy(() -> client.subscribe("news", events.channel())).isInstanceOf(IllegalStateException.class);
        }
    }

    @Test
    void aRefusedSubscriptionEndsWithTheServersError() throws Exception {
        Events events = new Events();
        try (PortcullisClient client = client(gateway.uri(), "kim", events).build()) {
            client.connect();
            Subscription secret = client.subscribe("secret", events.channel());
            assertThatThrownBy(() -> secret.subscribed().get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(ServerErrorException.class)
                    .satisfies(e -> assertThat(((ServerErrorException) e).code()).isEqualTo("forbidden"));
            await().atMost(WAIT).until(() -> events.errors.size() == 1);
            // the refusal released the channel: asking again goes to the server (and is refused again),
            // instead of failing here with "already has a subscription"
            Subscription again = client.subscribe("secret", events.channel());
            assertThatThrownBy(() -> again.subscribed().get(10, TimeUnit.SECONDS))
                    .cause().isInstanceOf(ServerErrorException.class)
                    .satisfies(e -> assertThat(((ServerErrorException) e).code()).isEqualTo("forbidden"));
            // a refused publication fails its future and nothing else
            assertThatThrownBy(() -> client.publish("secret", "1").get(10, TimeUnit.SECONDS))
                    .cause().isInstanceOf(ServerErrorException.class);
            assertThat(client.isConnected()).isTrue();
        }
    }

    @Test
    void replacedByANewerConnectionTheClientStopsForGood() throws Exception {
        Events first = new Events();
        Events second = new Events();
        try (PortcullisClient older = client(gateway.uri(), "lea", first).build();
                PortcullisClient newer = client(gateway.uri(), "lea", second).build()) {
            older.connect().get(10, TimeUnit.SECONDS);
            newer.connect().get(10, TimeUnit.SECONDS); // limits.connections-per-user is 1: the older one is closed with 4500
            await().atMost(WAIT).until(() -> !first.disconnected.isEmpty());
            Disconnected disconnected = first.disconnected.getFirst();
            assertThat(disconnected.code()).isEqualTo(4500);
            assertThat(disconnected.willReconnect()).isFalse();
            assertThat(disconnected.reconnectDelay()).isNull();
            assertThat(older.isConnected()).isFalse();
            assertThat(older.publish("room:lea", "1")).isCompletedExceptionally();
            assertThatThrownBy(() -> older.publish("room:lea", "1").join()).cause().isInstanceOf(ClientClosedException.class);
            assertThat(newer.isConnected()).isTrue();
            assertThat(first.connected).hasSize(1);
            assertThat(first.disconnected).hasSize(1);
        }
    }

    @Test
    void aHandshakeThatCannotSucceedStopsTheClient() {
        Events events = new Events();
        URI wrongPath = URI.create("ws://127.0.0.1:" + gateway.port() + "/not-the-path");
        try (PortcullisClient client = client(wrongPath, "max", events).build()) {
            assertThatThrownBy(() -> client.connect().get(10, TimeUnit.SECONDS))
                    .cause().isInstanceOf(ClientClosedException.class);
            // the client fails connect()'s future before its last listener call, on its own thread
            await().atMost(WAIT).until(() -> !events.disconnected.isEmpty());
            assertThat(events.disconnected).singleElement().satisfies(d -> {
                assertThat(d.httpStatus()).isEqualTo(404);
                assertThat(d.willReconnect()).isFalse();
            });
        }
    }

    @Test
    void aRefusedTokenIsReplacedByAFreshOneOnTheNextAttempt() throws Exception {
        Events events = new Events();
        AtomicInteger calls = new AtomicInteger();
        try (PortcullisClient client = PortcullisClient.builder(gateway.uri())
                .token(() -> calls.getAndIncrement() == 0 ? "not-a-jwt"
                        : GatewayFixture.token("ned", Duration.ofHours(1), Map.of()))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .listener(events)
                .build()) {
            assertThat(client.connect().get(10, TimeUnit.SECONDS).user()).isEqualTo("ned");
            assertThat(events.disconnected).singleElement().satisfies(d -> {
                assertThat(d.httpStatus()).isEqualTo(401);
                assertThat(d.willReconnect()).isTrue();
                assertThat(d.reason()).doesNotContain("not-a-jwt");
            });
            assertThat(calls).hasValue(2);
        }
    }
}
