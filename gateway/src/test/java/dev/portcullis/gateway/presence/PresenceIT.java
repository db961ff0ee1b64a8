package dev.portcullis.gateway.presence;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 12, presence and join/leave in embedded mode ({@code broker.type: local}): kept in memory. */
class PresenceIT {
    static final Map<String, Object> CONFIG = Map.of("channels.presence", List.of("room:*"), "channels.join-leave", List.of("room:*"),
            "channels.public", List.of("lobby"));

    static String token(String user) {
        return Tokens.hs256(b -> b.subject(user).claim("channels", Map.of("room:*", "rw"))
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
    }

    /** A connected client and its connection id. */
    record Conn(WsClient client, String id) {}

    static Conn connect(java.net.URI uri) {
        WsClient client = WsClient.connect(uri);
        return new Conn(client, client.awaitMessage("connected").path("connection").asText());
    }

    static void subscribe(WsClient client, String channel) {
        client.send("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"" + channel + "\"}");
        assertThat(client.awaitMessage("ack").path("channel").asText()).isEqualTo(channel);
    }

    static JsonNode presence(WsClient client, String channel) {
        client.send("{\"type\":\"presence\",\"id\":7,\"channel\":\"" + channel + "\"}");
        JsonNode answer = client.awaitMessage("presence");
        assertThat(answer.path("id").asInt()).isEqualTo(7);
        assertThat(answer.path("channel").asText()).isEqualTo(channel);
        return answer;
    }

    /** "user/connection" of every listed member, in order. */
    static List<String> members(JsonNode answer) {
        List<String> members = new ArrayList<>();
        answer.path("members").forEach(m -> {
            assertThat(m.path("since").asLong()).isPositive();
            members.add(m.path("user").asText() + "/" + m.path("connection").asText());
        });
        return members;
    }

    static void assertEvent(JsonNode event, String type, String channel, String user, String connection) {
        assertThat(event).as("a %s event", type).isNotNull();
        assertThat(event.path("type").asText()).isEqualTo(type);
        assertThat(event.path("channel").asText()).isEqualTo(channel);
        assertThat(event.path("user").asText()).isEqualTo(user);
        assertThat(event.path("connection").asText()).isEqualTo(connection);
        assertThat(event.has("offset")).as("not a publication").isFalse();
    }

    @Test
    void membersAreListedAndJoinsAndLeavesReachTheOtherSubscribers() {
        try (TestGateway gateway = TestGateway.start(CONFIG)) {
            Conn alice = connect(gateway.uri(token("alice")));
            Conn bob = connect(gateway.uri(token("bob")));
            subscribe(alice.client(), "room:42");
            subscribe(bob.client(), "room:42");
            assertEvent(alice.client().pollMessage("join", WsClient.WAIT), "join", "room:42", "bob", bob.id());

            JsonNode listed = presence(bob.client(), "room:42");
            assertThat(members(listed)).containsExactly("alice/" + alice.id(), "bob/" + bob.id());
            assertThat(listed.path("complete").asBoolean()).isTrue();
            assertThat(bob.client().pollMessage("join", Duration.ofMillis(300))).as("no event about oneself").isNull();

            HttpResponse<String> api = gateway.api("GET", "/api/channels/room:42/presence", null);
            assertThat(api.statusCode()).isEqualTo(200);
            JsonNode fromApi = WsClient.json(api.body());
            assertThat(members(fromApi)).containsExactly("alice/" + alice.id(), "bob/" + bob.id());
            assertThat(fromApi.path("complete").asBoolean()).isTrue();

            bob.client().send("{\"type\":\"unsubscribe\",\"channel\":\"room:42\"}");
            bob.client().awaitMessage("ack");
            assertEvent(alice.client().pollMessage("leave", WsClient.WAIT), "leave", "room:42", "bob", bob.id());
            assertThat(members(presence(alice.client(), "room:42"))).containsExactly("alice/" + alice.id());

            subscribe(bob.client(), "room:42");
            assertEvent(alice.client().pollMessage("join", WsClient.WAIT), "join", "room:42", "bob", bob.id());
            bob.client().close();
            assertEvent(alice.client().pollMessage("leave", WsClient.WAIT), "leave", "room:42", "bob", bob.id());
            assertThat(members(presence(alice.client(), "room:42"))).containsExactly("alice/" + alice.id());
            assertThat(gateway.metric("portcullis_presence_members")).isEqualTo(1);
            alice.client().close();
        }
    }

    @Test
    void presenceNeedsReadPermissionAndAPresenceChannel() {
        try (TestGateway gateway = TestGateway.start(CONFIG)) {
            Conn alice = connect(gateway.uri(token("alice")));
            Conn carol = connect(gateway.uri(Tokens.hs256("carol")));
            carol.client().send("{\"type\":\"presence\",\"id\":1,\"channel\":\"room:42\"}");
            JsonNode forbidden = carol.client().awaitMessage("error");
            assertThat(forbidden.path("code").asText()).isEqualTo("forbidden");
            assertThat(forbidden.path("id").asInt()).isEqualTo(1);

            alice.client().send("{\"type\":\"presence\",\"id\":2,\"channel\":\"lobby\"}");
            JsonNode disabled = alice.client().awaitMessage("error");
            assertThat(disabled.path("code").asText()).isEqualTo("presence_disabled");
            assertThat(disabled.path("id").asInt()).isEqualTo(2);

            alice.client().send("{\"type\":\"presence\",\"id\":3}");
            assertThat(alice.client().awaitMessage("error").path("code").asText()).isEqualTo("invalid_message");

            HttpResponse<String> api = gateway.api("GET", "/api/channels/lobby/presence", null);
            assertThat(api.statusCode()).isEqualTo(400);
            assertThat(WsClient.json(api.body()).path("error").asText()).isEqualTo("presence_disabled");
            assertThat(gateway.api("POST", "/api/channels/room:1/presence", "{}").statusCode()).isEqualTo(405);
            assertThat(gateway.api("GET", "/api/channels/room:1/presence", null, null).statusCode()).isEqualTo(401);
            assertThat(WsClient.json(gateway.api("GET", "/api/channels/room:1/presence", null).body()).path("members").size()).isZero();

            // subscribing to lobby (not a presence or join-leave channel) tells nobody and keeps nothing
            subscribe(alice.client(), "lobby");
            subscribe(carol.client(), "lobby");
            assertThat(alice.client().pollMessage("join", Duration.ofMillis(500))).isNull();
            assertThat(gateway.metric("portcullis_presence_members")).isZero();
            alice.client().close();
            carol.client().close();
        }
    }

    @Test
    void presenceWithoutJoinLeaveListsMembersSilently() {
        try (TestGateway gateway = TestGateway.start(Map.of("channels.presence", List.of("room:quiet")))) {
            Conn alice = connect(gateway.uri(token("alice")));
            Conn bob = connect(gateway.uri(token("bob")));
            subscribe(alice.client(), "room:quiet");
            subscribe(bob.client(), "room:quiet");
            assertThat(members(presence(alice.client(), "room:quiet"))).containsExactly("alice/" + alice.id(), "bob/" + bob.id());
            bob.client().close();
            assertThat(alice.client().pollMessage("leave", Duration.ofMillis(500))).isNull();
            alice.client().close();
        }
    }
}
