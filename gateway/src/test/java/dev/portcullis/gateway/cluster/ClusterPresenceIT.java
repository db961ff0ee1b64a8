package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.RedisClusterServers;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12, presence test 1: two instances on one redis-server (one of them a real process, so that
 * it can be killed with SIGKILL): members on both are listed from either, by client request and by
 * the API; join and leave reach the other instance's subscribers; a killed instance's members are
 * gone within the presence TTL, and each gets exactly one {@code leave}.
 */
class ClusterPresenceIT {
    private static String token(String user) {
        return Tokens.hs256(b -> b.subject(user).claim("channels", Map.of("room:*", "rw"))
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
    }

    private record Conn(WsClient client, String id) {}

    private static Conn connect(URI uri) {
        WsClient client = WsClient.connect(uri);
        return new Conn(client, client.awaitMessage("connected").path("connection").asText());
    }

    private static void subscribe(WsClient client, String channel) {
        client.send("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"" + channel + "\"}");
        assertThat(client.awaitMessage("ack").path("channel").asText()).isEqualTo(channel);
    }

    private static List<String> presence(WsClient client, String channel) {
        client.send("{\"type\":\"presence\",\"id\":1,\"channel\":\"" + channel + "\"}");
        JsonNode answer = client.awaitMessage("presence");
        assertThat(answer.path("complete").asBoolean()).isTrue();
        return members(answer);
    }

    private static List<String> members(JsonNode answer) {
        List<String> members = new ArrayList<>();
        answer.path("members").forEach(m -> members.add(m.path("user").asText() + "/" + m.path("connection").asText()));
        return members;
    }

    private static void assertEvent(JsonNode event, String type, String user, String connection) {
        assertThat(event).as("a %s event", type).isNotNull();
        assertThat(event.path("type").asText()).isEqualTo(type);
        assertThat(event.path("channel").asText()).isEqualTo("room:1");
        assertThat(event.path("user").asText()).isEqualTo(user);
        assertThat(event.path("connection").asText()).isEqualTo(connection);
    }

    private static JsonNode api(int adminPort, String path) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + adminPort + path))
                .header("Authorization", "Bearer " + TestGateway.API_KEY).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return WsClient.json(response.body());
    }

    @Test
    void membersOnBothInstancesAreListedFromEitherAndAKilledInstancesMembersLeaveOnce(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestGateway b = TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                        "broker.instance-id", "b", "broker.presence-ttl", "3s",
                        "channels.presence", List.of("room:*"), "channels.join-leave", List.of("room:*")));
                GatewayProcess a = GatewayProcess.start(dir, """
                        server: {host: 127.0.0.1, port: 0}
                        admin: {port: 0, api-keys: ["%s"]}
                        auth: {hmac-secret: %s, clock-skew: 0s}
                        limits: {connections-per-ip: 0, messages-per-minute: 0}
                        broker: {type: redis, redis-url: "%s", instance-id: doomed, presence-ttl: 3s}
                        channels: {presence: ["room:*"], join-leave: ["room:*"]}
                        """.formatted(TestGateway.API_KEY, Tokens.SECRET, redis.url()), "")) {
            URI onA = URI.create("ws://127.0.0.1:" + a.port() + "/ws?token=");
            Conn alice = connect(URI.create(onA + token("alice")));
            Conn dave = connect(URI.create(onA + token("dave")));
            Conn bob = connect(b.uri(token("bob")));
            subscribe(bob.client(), "room:1");
            subscribe(alice.client(), "room:1");
            assertEvent(bob.client().pollMessage("join", WsClient.WAIT), "join", "alice", alice.id());
            subscribe(dave.client(), "room:1");
            assertEvent(bob.client().pollMessage("join", WsClient.WAIT), "join", "dave", dave.id());
            assertEvent(alice.client().pollMessage("join", WsClient.WAIT), "join", "dave", dave.id());

            List<String> everyone = List.of("bob/" + bob.id(), "alice/" + alice.id(), "dave/" + dave.id());
            assertThat(presence(alice.client(), "room:1")).containsExactlyElementsOf(everyone);
            assertThat(presence(bob.client(), "room:1")).containsExactlyElementsOf(everyone);
            assertThat(members(api(b.gateway().adminPort(), "/api/channels/room:1/presence"))).containsExactlyElementsOf(everyone);
            assertThat(members(api(a.adminPort(), "/api/channels/room%3A1/presence"))).containsExactlyElementsOf(everyone);

            bob.client().send("{\"type\":\"unsubscribe\",\"id\":2,\"channel\":\"room:1\"}");
            bob.client().awaitMessage("ack");
            assertEvent(alice.client().pollMessage("leave", WsClient.WAIT), "leave", "bob", bob.id());
            assertThat(presence(alice.client(), "room:1")).containsExactly("alice/" + alice.id(), "dave/" + dave.id());
            subscribe(bob.client(), "room:1");
            assertEvent(alice.client().pollMessage("join", WsClient.WAIT), "join", "bob", bob.id());
            assertThat(bob.client().pollMessage("join", Duration.ofSeconds(1))).as("no event about oneself").isNull();

            a.process().destroyForcibly(); // SIGKILL: no goodbye, no cleanup
            assertThat(a.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
            List<String> left = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                JsonNode leave = bob.client().pollMessage("leave", Duration.ofSeconds(15));
                assertThat(leave).as("a leave for each of the dead instance's members").isNotNull();
                assertThat(leave.path("channel").asText()).isEqualTo("room:1");
                left.add(leave.path("user").asText() + "/" + leave.path("connection").asText());
            }
            assertThat(left).containsExactlyInAnyOrder("alice/" + alice.id(), "dave/" + dave.id());
            assertThat(presence(bob.client(), "room:1")).containsExactly("bob/" + bob.id());
            await().atMost(Duration.ofSeconds(5))
                    .until(() -> b.metric("portcullis_presence_dead_members_removed_total") == 2);
            assertThat(bob.client().pollMessage("leave", Duration.ofSeconds(3))).as("each leave once").isNull();
            alice.client().abort();
            dave.client().abort();
            bob.client().close();
        }
    }

    /**
     * An instance killed and started again under the same id, well within its presence TTL (so no
     * other instance takes it for dead): the new process removes what the old one left, with a
     * {@code leave} for each, at start-up.
     */
    @Test
    void anInstanceRestartedUnderItsIdRemovesWhatItsPreviousProcessLeft(@TempDir Path dir) throws Exception {
        String yaml = """
                server: {host: 127.0.0.1, port: 0}
                admin: {port: 0}
                auth: {hmac-secret: %s, clock-skew: 0s}
                limits: {connections-per-ip: 0, messages-per-minute: 0}
                broker: {type: redis, redis-url: "%s", instance-id: phoenix, presence-ttl: 60s}
                channels: {presence: ["room:*"], join-leave: ["room:*"]}
                """;
        try (RedisServer redis = RedisServer.start();
                TestGateway b = TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                        "broker.instance-id", "b", "channels.presence", List.of("room:*"), "channels.join-leave", List.of("room:*")))) {
            Conn bob = connect(b.uri(token("bob")));
            subscribe(bob.client(), "room:1");
            Conn alice;
            try (GatewayProcess first = GatewayProcess.start(dir, yaml.formatted(Tokens.SECRET, redis.url()), "")) {
                alice = connect(URI.create("ws://127.0.0.1:" + first.port() + "/ws?token=" + token("alice")));
                subscribe(alice.client(), "room:1");
                assertEvent(bob.client().pollMessage("join", WsClient.WAIT), "join", "alice", alice.id());
                first.process().destroyForcibly();
                assertThat(first.process().waitFor(10, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(presence(bob.client(), "room:1")).as("alive by its liveness key for a minute")
                    .containsExactly("bob/" + bob.id(), "alice/" + alice.id());
            try (GatewayProcess second = GatewayProcess.start(dir, yaml.formatted(Tokens.SECRET, redis.url()), "")) {
                assertEvent(bob.client().pollMessage("leave", WsClient.WAIT), "leave", "alice", alice.id());
                assertThat(presence(bob.client(), "room:1")).containsExactly("bob/" + bob.id());
                assertThat(bob.client().pollMessage("leave", Duration.ofSeconds(2))).as("once").isNull();
            }
            alice.client().abort();
            bob.client().close();
        }
    }

    /**
     * Redis lost everything (restarted empty): while it is down a listing answers this instance's own
     * members, marked incomplete; once it is back, every instance writes its members again.
     */
    @Test
    void membersAreWrittenAgainWhenRedisComesBackEmpty() throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestGateway b = TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                        "broker.instance-id", "b", "broker.redis-timeout", "1s", "channels.presence", List.of("room:*")))) {
            Conn bob = connect(b.uri(token("bob")));
            subscribe(bob.client(), "room:1");
            assertThat(presence(bob.client(), "room:1")).containsExactly("bob/" + bob.id());
            redis.kill();
            JsonNode partial = WsClient.json(b.api("GET", "/api/channels/room:1/presence", null).body());
            assertThat(members(partial)).containsExactly("bob/" + bob.id());
            assertThat(partial.path("complete").asBoolean()).as("only this instance could be asked").isFalse();
            redis.restart();
            assertThat(redis.cli("KEYS", "*presence*")).as("Redis came back empty").isEmpty();
            await().atMost(Duration.ofSeconds(15)).until(() -> {
                JsonNode listed = WsClient.json(b.api("GET", "/api/channels/room:1/presence", null).body());
                return listed.path("complete").asBoolean() && members(listed).equals(List.of("bob/" + bob.id()));
            });
            assertThat(redis.cli("HKEYS", "portcullis:{room:1}:presence:b")).isEqualTo(bob.id());
            bob.client().close();
        }
    }

    /**
     * Review finding: members who leave while their instance cannot write to Redis (Redis itself up,
     * data intact: here the instance's Redis user is disabled and its connections killed, so its
     * commands fail and its reconnects are refused) are removed once it can write again, with exactly
     * one {@code leave} each; the members who stayed are neither lost nor announced twice.
     */
    @Test
    void membersWhoLeaveWhileTheirInstanceIsCutOffFromRedisAreRemovedAfterwardsWithOneLeaveEach() throws Exception {
        try (RedisServer redis = RedisServer.start()) {
            assertThat(redis.cli("ACL", "SETUSER", "gw-a", "on", ">secret-a", "~*", "&*", "+@all")).isEqualTo("OK");
            Map<String, Object> onA = Map.of("broker.type", "redis", "broker.redis-url", "redis://gw-a:secret-a@127.0.0.1:" + redis.port(),
                    "broker.instance-id", "a", "broker.redis-timeout", "1s",
                    "channels.presence", List.of("room:*"), "channels.join-leave", List.of("room:*"));
            try (TestGateway a = TestGateway.start(onA);
                    TestGateway b = TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                            "broker.instance-id", "b", "channels.presence", List.of("room:*"), "channels.join-leave", List.of("room:*")))) {
                Conn bob = connect(b.uri(token("bob")));
                subscribe(bob.client(), "room:1");
                List<Conn> members = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    Conn member = connect(a.uri(token("u" + i)));
                    subscribe(member.client(), "room:1");
                    assertEvent(bob.client().pollMessage("join", WsClient.WAIT), "join", "u" + i, member.id());
                    members.add(member);
                }

                assertThat(redis.cli("ACL", "SETUSER", "gw-a", "off")).isEqualTo("OK");
                assertThat(redis.cli("CLIENT", "KILL", "USER", "gw-a")).isNotEqualTo("0");
                members.get(0).client().close();
                members.get(1).client().close();
                List<String> stayed = List.of("u2/" + members.get(2).id(), "u3/" + members.get(3).id());
                await().atMost(Duration.ofSeconds(10)).until(() -> { // A answers from memory: the leaves were taken there
                    JsonNode listed = WsClient.json(a.api("GET", "/api/channels/room:1/presence", null).body());
                    return !listed.path("complete").asBoolean() && members(listed).equals(stayed);
                });
                assertThat(presence(bob.client(), "room:1")).as("A could not remove them from Redis").hasSize(5);

                assertThat(redis.cli("ACL", "SETUSER", "gw-a", "on")).isEqualTo("OK");
                List<String> events = new ArrayList<>();
                while (events.stream().filter(e -> e.startsWith("leave")).count() < 2) {
                    JsonNode event = bob.client().awaitAnyOf("join", "leave");
                    assertThat(event.path("channel").asText()).isEqualTo("room:1");
                    events.add(event.path("type").asText() + " " + event.path("user").asText() + "/" + event.path("connection").asText());
                }
                assertThat(events).as("a leave for each member that left during the cut, and no join")
                        .containsExactlyInAnyOrder("leave u0/" + members.get(0).id(), "leave u1/" + members.get(1).id());
                List<String> everyone = new ArrayList<>(List.of("bob/" + bob.id()));
                everyone.addAll(stayed);
                assertThat(presence(bob.client(), "room:1")).containsExactlyElementsOf(everyone);
                await().atMost(Duration.ofSeconds(10)).until(() -> {
                    JsonNode listed = WsClient.json(a.api("GET", "/api/channels/room:1/presence", null).body());
                    return listed.path("complete").asBoolean() && members(listed).equals(everyone);
                });
                assertThat(bob.client().staysQuiet(Duration.ofSeconds(2))).as("each leave once, no join for those who stayed").isTrue();
                members.get(2).client().close();
                members.get(3).client().close();
                bob.client().close();
            }
        }
    }

    /**
     * Review finding: an instance frozen past its presence TTL (a long GC pause, a frozen VM) is taken
     * for dead and its members reaped, each with a {@code leave}; when it thaws it finds the reaper's
     * marker and writes its members again, each with a {@code join}. A subscription that was waiting in
     * its socket meanwhile (carol's, to another channel) is taken as it thaws, which recreates the
     * instance's channel set: that set being gone is no proof of having been reaped, the marker is.
     * Whether carol's join or the thawed sweep runs first is a race, so the test also adds the channel
     * to the set in Redis itself before the thaw, the state that join leaves, to pin the interleaving.
     */
    @Test
    void anInstanceTakenForDeadDuringAPauseWritesItsMembersAgainWhenItThaws(@TempDir Path dir) throws Exception {
        try (RedisServer redis = RedisServer.start();
                TestGateway b = TestGateway.start(Map.of("broker.type", "redis", "broker.redis-url", redis.url(),
                        "broker.instance-id", "b", "broker.presence-ttl", "2s",
                        "channels.presence", List.of("room:*"), "channels.join-leave", List.of("room:*")));
                GatewayProcess a = GatewayProcess.start(dir, """
                        server: {host: 127.0.0.1, port: 0}
                        admin: {port: 0}
                        auth: {hmac-secret: %s, clock-skew: 0s}
                        limits: {connections-per-ip: 0, messages-per-minute: 0}
                        broker: {type: redis, redis-url: "%s", instance-id: sleeper, presence-ttl: 2s}
                        channels: {presence: ["room:*"], join-leave: ["room:*"]}
                        """.formatted(Tokens.SECRET, redis.url()), "")) {
            URI onA = URI.create("ws://127.0.0.1:" + a.port() + "/ws?token=");
            Conn bob = connect(b.uri(token("bob")));
            subscribe(bob.client(), "room:1");
            Conn alice = connect(URI.create(onA + token("alice")));
            subscribe(alice.client(), "room:1");
            assertEvent(bob.client().pollMessage("join", WsClient.WAIT), "join", "alice", alice.id());
            Conn carol = connect(URI.create(onA + token("carol")));

            a.stop();
            try {
                assertEvent(bob.client().pollMessage("leave", Duration.ofSeconds(15)), "leave", "alice", alice.id());
                assertThat(presence(bob.client(), "room:1")).containsExactly("bob/" + bob.id());
                carol.client().send("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"room:2\"}");
                assertThat(redis.cli("SADD", "portcullis:presence:channels:sleeper", "room:2")).isEqualTo("1");
            } finally {
                a.resume();
            }
            assertEvent(bob.client().pollMessage("join", Duration.ofSeconds(15)), "join", "alice", alice.id());
            assertThat(presence(bob.client(), "room:1")).containsExactly("bob/" + bob.id(), "alice/" + alice.id());
            assertThat(carol.client().awaitMessage("ack").path("channel").asText()).isEqualTo("room:2");
            assertThat(bob.client().staysQuiet(Duration.ofSeconds(2))).as("one join, no second leave").isTrue();
            alice.client().close();
            carol.client().close();
            bob.client().close();
        }
    }

    /** In Redis Cluster: every presence script touches one slot (the channel's), so it runs on the channel's shard. */
    @Test
    void presenceWorksInRedisCluster() {
        try (RedisClusterServers redis = RedisClusterServers.start()) {
            Map<String, Object> config = Map.of("broker.type", "redis", "broker.redis-cluster", "true", "broker.redis-url", redis.urls(),
                    "channels.presence", List.of("room:*"), "channels.join-leave", List.of("room:*"));
            Map<String, Object> onA = new java.util.HashMap<>(config);
            onA.put("broker.instance-id", "a");
            Map<String, Object> onB = new java.util.HashMap<>(config);
            onB.put("broker.instance-id", "b");
            try (TestGateway a = TestGateway.start(onA); TestGateway b = TestGateway.start(onB)) {
                List<String> rooms = List.of("room:1", "room:2", "room:3", "room:4");
                Conn alice = connect(a.uri(token("alice")));
                Conn bob = connect(b.uri(token("bob")));
                for (String room : rooms) { // four channels: several slots, and so several shards
                    subscribe(alice.client(), room);
                    subscribe(bob.client(), room);
                    JsonNode join = alice.client().pollMessage("join", WsClient.WAIT);
                    assertThat(join).isNotNull();
                    assertThat(join.path("channel").asText()).isEqualTo(room);
                    assertThat(join.path("connection").asText()).isEqualTo(bob.id());
                    assertThat(presence(bob.client(), room)).containsExactlyInAnyOrder("alice/" + alice.id(), "bob/" + bob.id());
                }
                bob.client().close();
                List<String> left = new ArrayList<>();
                for (int i = 0; i < rooms.size(); i++) {
                    JsonNode leave = alice.client().pollMessage("leave", WsClient.WAIT);
                    assertThat(leave).isNotNull();
                    left.add(leave.path("channel").asText());
                }
                assertThat(left).containsExactlyInAnyOrderElementsOf(rooms);
                alice.client().close();
            }
        }
    }
}
