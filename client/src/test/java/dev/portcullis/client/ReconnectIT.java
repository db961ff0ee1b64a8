package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Reconnecting against real gateways: a restart on the same port, an expiring token, re-auth. */
class ReconnectIT {
    private static final Duration WAIT = Duration.ofSeconds(15);

    @Test
    void afterAGracefulRestartTheClientReconnectsAndResubscribes() throws Exception {
        int port = GatewayFixture.freePort();
        Map<String, Object> samePort = Map.of("server.port", String.valueOf(port));
        Events events = new Events();
        GatewayFixture first = GatewayFixture.start(samePort);
        try (PortcullisClient client = PortcullisClient.builder(first.uri())
                .token(() -> GatewayFixture.token("quinn", Duration.ofHours(1), Map.of("news", "r")))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .listener(events)
                .build()) {
            client.connect().get(10, TimeUnit.SECONDS);
            client.subscribe("news", events.channel()).subscribed().get(10, TimeUnit.SECONDS);
            first.publish("news", "{\"from\":\"first\"}");
            await().atMost(WAIT).until(() -> events.messages.size() == 1);

            first.close(); // graceful: close 1001 to every connection
            await().atMost(WAIT).until(() -> !events.disconnected.isEmpty());
            assertThat(events.disconnected.getFirst().code()).isEqualTo(1001);
            assertThat(events.disconnected.getFirst().willReconnect()).isTrue();

            try (GatewayFixture second = GatewayFixture.start(samePort)) {
                await().atMost(WAIT).until(() -> events.connected.size() == 2 && events.subscribed.size() == 2);
                Subscribed resubscribed = events.subscribed.get(1);
                assertThat(resubscribed.resumed()).isTrue();
                assertThat(resubscribed.recovered()).isFalse(); // a new gateway has none of the old history
                assertThat(events.connected.get(1).connectionId()).isNotEqualTo(events.connected.get(0).connectionId());

                long offset = second.publish("news", "{\"from\":\"second\"}").path("offset").asLong();
                await().atMost(WAIT).until(() -> events.messages.size() == 2);
                assertThat(events.messages.get(1).offset()).isEqualTo(offset);
                assertThat(events.messages.get(1).data().path("from").asText()).isEqualTo("second");
            }
        } finally {
            first.close();
        }
        assertThat(events.disconnected).filteredOn(Disconnected::willReconnect).allSatisfy(d -> assertThat(d.code()).isIn(1001, 1006));
    }

    @Test
    void anExpiredTokenIsReplacedByAFreshOneOnReconnect() throws Exception {
        AtomicInteger tokens = new AtomicInteger();
        Events events = new Events();
        try (GatewayFixture gateway = GatewayFixture.start(Map.of("auth.reauth-interval", "0"));
                PortcullisClient client = PortcullisClient.builder(gateway.uri())
                        .token(() -> {
                            tokens.incrementAndGet();
                            return GatewayFixture.token("rae", Duration.ofSeconds(2), Map.of());
                        })
                        .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                        .listener(events)
                        .build()) {
            client.connect().get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> events.connected.size() >= 2);
            assertThat(events.disconnected.getFirst().code()).isEqualTo(4001);
            assertThat(events.disconnected.getFirst().willReconnect()).isTrue();
            assertThat(tokens.get()).isGreaterThanOrEqualTo(2);
            assertThat(events.connected.get(1).expiresAt()).isAfter(events.connected.get(0).expiresAt());
        }
    }

    @Test
    void aReauthRequestIsAnsweredWithAFreshTokenOnTheSameConnection() throws Exception {
        AtomicInteger tokens = new AtomicInteger();
        Events events = new Events();
        try (GatewayFixture gateway = GatewayFixture.start(Map.of("auth.reauth-interval", "1s", "auth.reauth-grace", "5s"));
                PortcullisClient client = PortcullisClient.builder(gateway.uri())
                        .token(() -> {
                            tokens.incrementAndGet();
                            // exp is whole seconds: a 3 s token lives between 2 and 3 s, at least
                            // 1 s more than the 1 s until the first re-auth request
                            return GatewayFixture.token("sam", Duration.ofSeconds(3), Map.of());
                        })
                        .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                        .listener(events)
                        .build()) {
            Connected connected = client.connect().get(10, TimeUnit.SECONDS);
            // four re-auths at 1 s intervals outlive the first token (3 s at most): only fresh tokens kept the connection
            await().atMost(WAIT).until(() -> events.reauthenticated.size() >= 4);
            assertThat(events.reauthenticated.getLast()).isAfter(connected.expiresAt());
            assertThat(events.connected).hasSize(1);
            assertThat(events.disconnected).isEmpty();
            assertThat(tokens.get()).isGreaterThanOrEqualTo(5);
            assertThat(client.isConnected()).isTrue();
        }
    }
}
