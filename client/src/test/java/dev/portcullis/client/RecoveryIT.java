package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Recovery from offsets against a real gateway (issue 6, acceptance 1).
 *
 * <p><b>Needs the server's history and recovery</b> ({@code subscribe} with {@code since}, acks
 * carrying {@code offset}/{@code epoch}/{@code recovered}, {@code message} carrying {@code epoch},
 * the {@code history} request): against a gateway without them these tests fail, by design, on the
 * {@code recovered} and {@code epoch} assertions. The client's own part (sending {@code since},
 * de-duplicating the replay) is also checked without a gateway in {@link ScriptedServerIT}.
 */
@Tag("needs-server-history")
class RecoveryIT {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static final Map<String, String> READ_ALERTS = Map.of("alerts", "r");

    private static PortcullisClient.Builder client(java.net.URI uri, String user, Events events) {
        return PortcullisClient.builder(uri)
                .token(() -> GatewayFixture.token(user, Duration.ofHours(1), READ_ALERTS))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .sendRate(0, 1)
                .listener(events);
    }

    private static List<Long> range(long from, long to) {
        return LongStream.rangeClosed(from, to).boxed().toList();
    }

    @Test
    void aClientThatLostItsConnectionGetsExactlyWhatItMissedThenLiveOnes() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start();
                TcpProxy proxy = new TcpProxy(gateway.port())) {
            Events events = new Events();
            try (PortcullisClient client = client(proxy.uri(), "una", events).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                Subscription alerts = client.subscribe("alerts", events.channel());
                long start = alerts.subscribed().get(10, TimeUnit.SECONDS).offset();
                for (int i = 1; i <= 3; i++) {
                    gateway.publish("alerts", "{\"n\":" + i + "}");
                }
                await().atMost(WAIT).until(() -> events.messages.size() == 3);

                proxy.cut(); // the phone loses signal
                await().atMost(WAIT).until(() -> !events.disconnected.isEmpty());
                for (int i = 4; i <= 503; i++) {
                    gateway.publish("alerts", "{\"n\":" + i + "}");
                }
                proxy.restore();

                await().atMost(WAIT).until(() -> events.messages.size() == 503);
                gateway.publish("alerts", "{\"n\":504}");
                await().atMost(WAIT).until(() -> events.messages.size() == 504);

                assertThat(events.offsets("alerts")).containsExactlyElementsOf(range(start + 1, start + 504));
                assertThat(events.messages).extracting(m -> m.data().path("n").asInt())
                        .containsExactlyElementsOf(LongStream.rangeClosed(1, 504).mapToObj(n -> (int) n).toList());
                Subscribed resubscribed = events.subscribed.getLast();
                assertThat(resubscribed.resumed()).isTrue();
                assertThat(resubscribed.recovered()).isTrue();
                assertThat(resubscribed.epoch()).isNotNull().isEqualTo(events.subscribed.getFirst().epoch());
                assertThat(alerts.position()).isEqualTo(new Position(start + 504, resubscribed.epoch()));
            }
        }
    }

    @Test
    void aSavedPositionResumesInANewClient() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start()) {
            Events first = new Events();
            Position saved;
            try (PortcullisClient client = client(gateway.uri(), "vic", first).build()) {
                Subscription alerts = client.subscribe("alerts", first.channel());
                client.connect();
                alerts.subscribed().get(10, TimeUnit.SECONDS);
                gateway.publish("alerts", "{\"n\":1}");
                await().atMost(WAIT).until(() -> first.messages.size() == 1);
                saved = alerts.position();
            }
            assertThat(saved.epoch()).isNotNull();
            for (int i = 2; i <= 11; i++) {
                gateway.publish("alerts", "{\"n\":" + i + "}");
            }
            Events second = new Events();
            try (PortcullisClient client = client(gateway.uri(), "vic", second).build()) {
                client.subscribe("alerts", saved, second.channel());
                client.connect();
                await().atMost(WAIT).until(() -> second.messages.size() == 10);
                assertThat(second.subscribed.getFirst().recovered()).isTrue();
                assertThat(second.offsets("alerts")).containsExactlyElementsOf(range(saved.offset() + 1, saved.offset() + 10));
            }
        }
    }

    @Test
    void historyPagesFromAPosition() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start()) {
            Events events = new Events();
            try (PortcullisClient client = client(gateway.uri(), "wes", events).build()) {
                client.connect().get(10, TimeUnit.SECONDS);
                Subscribed subscribed = client.subscribe("alerts", events.channel()).subscribed().get(10, TimeUnit.SECONDS);
                for (int i = 1; i <= 5; i++) {
                    gateway.publish("alerts", "{\"n\":" + i + "}");
                }
                long start = subscribed.offset();
                HistoryPage page = client.history("alerts", new Position(start + 2, subscribed.epoch()), 2)
                        .get(10, TimeUnit.SECONDS);
                assertThat(page.epoch()).isEqualTo(subscribed.epoch());
                assertThat(page.complete()).isTrue();
                assertThat(page.offset()).isEqualTo(start + 5);
                assertThat(page.publications()).extracting(Message::offset).containsExactly(start + 3, start + 4);
                assertThat(page.publications()).extracting(m -> m.data().path("n").asInt()).containsExactly(3, 4);
            }
        }
    }
}
