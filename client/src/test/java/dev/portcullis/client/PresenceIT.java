package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** presence() and the join/leave listener calls against a real gateway keeping presence in memory. */
class PresenceIT {
    private static final Duration WAIT = Duration.ofSeconds(10);

    private static PortcullisClient client(GatewayFixture gateway, String user) {
        return PortcullisClient.builder(gateway.uri())
                .token(() -> GatewayFixture.token(user, Duration.ofHours(1), Map.of("news", "r", "room:*", "rw")))
                .backoff(Duration.ofMillis(50), Duration.ofMillis(200))
                .sendRate(0, 1)
                .build();
    }

    @Test
    void listsMembersAndTellsSubscribersWhoJoinsAndLeaves() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start(Map.of("channels.presence", List.of("room:*"),
                        "channels.join-leave", List.of("room:*")));
                PortcullisClient ivy = client(gateway, "ivy");
                PortcullisClient jay = client(gateway, "jay")) {
            String ivyConnection = ivy.connect().get(10, TimeUnit.SECONDS).connectionId();
            String jayConnection = jay.connect().get(10, TimeUnit.SECONDS).connectionId();
            List<String> seen = new CopyOnWriteArrayList<>();
            ivy.subscribe("room:7", new SubscriptionListener() {
                @Override
                public void onMessage(Message message) {}

                @Override
                public void onJoin(PresenceChange join) {
                    seen.add("join " + join.channel() + " " + join.user() + " " + join.connection());
                }

                @Override
                public void onLeave(PresenceChange leave) {
                    seen.add("leave " + leave.channel() + " " + leave.user() + " " + leave.connection());
                }
            }).subscribed().get(10, TimeUnit.SECONDS);
            Subscription jays = jay.subscribe("room:7", message -> {});
            jays.subscribed().get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> seen.size() == 1);
            assertThat(seen).containsExactly("join room:7 jay " + jayConnection);

            Presence presence = jay.presence("room:7").get(10, TimeUnit.SECONDS);
            assertThat(presence.channel()).isEqualTo("room:7");
            assertThat(presence.complete()).isTrue();
            assertThat(presence.members()).extracting(Presence.Member::user, Presence.Member::connection)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("ivy", ivyConnection),
                            org.assertj.core.groups.Tuple.tuple("jay", jayConnection));
            assertThat(presence.members().get(0).since()).isBeforeOrEqualTo(presence.members().get(1).since());

            jays.unsubscribe().get(10, TimeUnit.SECONDS);
            await().atMost(WAIT).until(() -> seen.size() == 2);
            assertThat(seen.get(1)).isEqualTo("leave room:7 jay " + jayConnection);

            assertThatThrownBy(() -> jay.presence("news").get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOfSatisfying(ServerErrorException.class, e -> assertThat(e.code()).isEqualTo("presence_disabled"));
            assertThatThrownBy(() -> jay.presence("secret").get(10, TimeUnit.SECONDS))
                    .cause().isInstanceOfSatisfying(ServerErrorException.class, e -> assertThat(e.code()).isEqualTo("forbidden"));
        }
    }
}
