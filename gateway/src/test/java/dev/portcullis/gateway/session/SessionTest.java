package dev.portcullis.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.auth.JwtVerifier;
import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenMinter;
import java.util.LinkedHashMap;
import java.util.concurrent.CompletableFuture;
import dev.portcullis.gateway.auth.TokenVerifier;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.hooks.Hooks;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.presence.MemoryPresenceStore;
import dev.portcullis.gateway.presence.Presence;
import dev.portcullis.gateway.protocol.MessageCodec;
import dev.portcullis.gateway.testing.MutableClock;
import dev.portcullis.gateway.protocol.NamespacePolicies;
import dev.portcullis.gateway.broker.LocalBroker;
import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.ChannelsConfig;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.util.concurrent.EventExecutor;
import java.nio.charset.StandardCharsets;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A session's timers and message handling on an event loop whose time the test moves. */
class SessionTest {
    private static final String SECRET = "session-test-secret-0123456789abcdef";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedChannel loop = new EmbeddedChannel();
    private final MutableClock clock = new MutableClock(Instant.parse("2026-01-01T00:00:00Z"));
    private final List<String> sent = new ArrayList<>();
    private final List<Disconnect> closes = new ArrayList<>();
    private JwtVerifier verifier;
    /** What sessions verify re-auth tokens with: the real verifier, or {@link #held} when a test orders the answers. */
    private TokenVerifier sessionVerifier;
    /** Tokens verified by {@link #holdVerification}, each answered when the test completes it. */
    private final Map<String, CompletableFuture<Principal>> held = new LinkedHashMap<>();

    @BeforeEach
    void freeze() {
        loop.freezeTime();
        verifier = JwtVerifier.create(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "auth.clock-skew", "0")).auth(), clock);
        sessionVerifier = verifier;
    }

    /**
     * Re-auth tokens are verified by the real verifier, but its answer reaches the session only when
     * the test releases it, as when one token's key must be fetched (JWKS) and the next one's is cached.
     */
    private void holdVerification() {
        sessionVerifier = token -> {
            CompletableFuture<Principal> answer = new CompletableFuture<>();
            held.put(token, answer);
            return answer;
        };
    }

    private void release(String token) {
        verifier.verify(token).whenComplete((principal, failure) -> {
            if (failure != null) {
                held.get(token).completeExceptionally(failure);
            } else {
                held.get(token).complete(principal);
            }
        });
        loop.runPendingTasks();
    }

    @AfterEach
    void close() {
        verifier.close();
        loop.finishAndReleaseAll();
    }

    private final SubscriptionIndex index = new SubscriptionIndex();
    private final List<String> delivered = new ArrayList<>();
    /** How many subscriptions the index held when the session wrote "connected". */
    private int subscribedWhenGreeted = -1;

    private Session session(String user, Duration ttl, Duration reauthEvery, int violations) {
        return session(user, Map.of(), ttl, reauthEvery, violations, MessageRate.of(0, 0));
    }

    private Duration maxAge = Duration.ZERO;
    /** The broker of the last session made. */
    private LocalBroker lastBroker;

    private Session session(String user, Map<String, Object> claims, Duration ttl, Duration reauthEvery, int violations,
            MessageRate rate) {
        Principal principal = verifier.verify(TokenMinter.hs256(SECRET, user, clock.instant(), ttl, claims)).join();
        SessionSettings settings = new SessionSettings(reauthEvery, Duration.ofSeconds(10), Duration.ZERO, violations,
                Duration.ofMinutes(1), rate, Duration.ofSeconds(5), 3, List.of("alerts"), true, maxAge);
        Outbound out = new Outbound() {
            @Override
            public void send(String text) {
                sent.add(text);
                if (text.contains("\"type\":\"connected\"")) {
                    subscribedWhenGreeted = index.subscriptions();
                }
            }

            @Override
            public void close(Disconnect disconnect) {
                closes.add(disconnect);
            }

            @Override
            public void deliver(Publication publication) {
                ByteBuf frame = publication.retainedFrame();
                delivered.add(frame.toString(StandardCharsets.UTF_8));
                frame.release();
            }

            @Override
            public void flush() {}
        };
        GatewayMetrics metrics = GatewayMetrics.create();
        var config = ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "channels.auto-subscribe", List.of("alerts")));
        ChannelsConfig channels = config.channels();
        LocalBroker broker = new LocalBroker(index, UnpooledByteBufAllocator.DEFAULT, metrics, config.history(), 60_000, clock::millis, Runnable::run);
        lastBroker = broker;
        Session session = new Session("c1", principal, new InetSocketAddress("127.0.0.1", 1), out, loop.eventLoop(),
                new Session.Context(settings, sessionVerifier, new MessageCodec(), NamespacePolicies.create(channels),
                        Permissions.Shared.of(channels), index, broker, broker.history(), metrics, clock, Hooks.NONE,
                        new Presence(channels, new MemoryPresenceStore(index, UnpooledByteBufAllocator.DEFAULT))));
        session.start();
        return session;
    }

    private JsonNode reply(Session session, String json) throws Exception {
        session.onText(json);
        loop.runPendingTasks();
        return last();
    }

    @Test
    void autoSubscribesToAlertsAndThePersonalChannelAndLeavesThemOnClose() {
        Session session = session("ivan", Duration.ofHours(1), Duration.ZERO, 0);
        assertThat(session.subscriptions()).containsExactly("user:ivan", "alerts");
        assertThat(index.subscriptions()).isEqualTo(2);
        // A client that has read "connected" can be published to at once (TlsIT once lost a
        // publication sent the moment it read the greeting).
        assertThat(subscribedWhenGreeted).isEqualTo(2);
        session.closed();
        assertThat(index.subscriptions()).isZero();
        assertThat(index.channels()).isZero();
    }

    /**
     * A publication the recovery sent from history can still arrive live afterwards: here its fan-out
     * is queued (by a drain already running) behind the subscribe's reply. It must not reach the
     * client twice, nor out of order.
     */
    @Test
    void aLivePublicationThatRecoveryAlreadySentIsNotSentAgain() throws Exception {
        LocalBroker[] broker = new LocalBroker[1];
        Session[] session = new Session[1];
        String[] epoch = new String[1];
        // A member of the same shard ahead of the session: while the drain of offset 1 runs, offset 2
        // is published and the client subscribes with recovery from offset 0.
        index.subscribe("alerts", new dev.portcullis.gateway.channel.Subscriber() {
            @Override
            public java.util.concurrent.Executor executor() {
                return loop.eventLoop();
            }

            @Override
            public void deliver(Publication publication) {
                if (publication.offset() == 1) {
                    broker[0].publish("alerts", "{\"n\":2}").join();
                    session[0].onText("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"alerts\",\"since\":{\"offset\":0,\"epoch\":\""
                            + epoch[0] + "\"}}");
                }
            }

            @Override
            public void flush() {}
        });
        session[0] = session("kim", Duration.ofHours(1), Duration.ZERO, 0);
        broker[0] = lastBroker;
        epoch[0] = broker[0].history().read("alerts", 0, 1).join().position().epoch();
        broker[0].publish("alerts", "{\"n\":1}").join();
        loop.runPendingTasks();
        loop.runPendingTasks();

        List<Long> offsets = delivered.stream().filter(m -> m.contains("\"channel\":\"alerts\""))
                .map(m -> Long.parseLong(m.replaceAll(".*\"offset\":(\\d+).*", "$1"))).toList();
        assertThat(offsets).containsExactly(1L, 2L);
        assertThat(sent).anySatisfy(m -> assertThat(m).contains("\"type\":\"ack\"").contains("\"recovered\":true"));
    }

    /**
     * Review fix: unsubscribe and subscribe again while the first subscribe recovers. The first
     * recovery's answer used to take the second one's place (an ack for the first, nothing for the
     * second); now the first is answered {@code unsubscribed} and the second gets its own ack.
     */
    @Test
    void aRecoveringSubscribeOvertakenByUnsubscribeAndResubscribeGetsItsOwnAnswer() {
        Session session = session("lee", Duration.ofHours(1), Duration.ZERO, 0);
        String since = ",\"since\":{\"offset\":0,\"epoch\":\"" + lastBroker.history().read("alerts", 0, 1).join().position().epoch() + "\"}}";
        session.onText("{\"type\":\"subscribe\",\"id\":\"s1\",\"channel\":\"alerts\"" + since);
        session.onText("{\"type\":\"unsubscribe\",\"id\":\"u\",\"channel\":\"alerts\"}");
        session.onText("{\"type\":\"subscribe\",\"id\":\"s2\",\"channel\":\"alerts\"" + since);
        loop.runPendingTasks();
        List<JsonNode> answers = sent.stream().map(SessionTest::parse).filter(m -> m.has("id")).toList();
        assertThat(answers).extracting(m -> m.path("id").asText() + " " + m.path("type").asText() + " " + m.path("code").asText())
                .containsExactly("u ack ", "s1 error unsubscribed", "s2 ack ");
        assertThat(session.subscriptions()).contains("alerts");
    }

    /**
     * Review fix: join/leave events of a channel that recovers (here a re-subscribe with {@code since}
     * of a channel already held) used to be dropped; they are held and follow the ack, outside the
     * offset bookkeeping (live publications after them still arrive), and still not about oneself.
     */
    @Test
    void joinAndLeaveEventsWhileAChannelRecoversFollowTheAck() {
        Session session = session("mia", Duration.ofHours(1), Duration.ZERO, 0);
        String epoch = lastBroker.history().read("alerts", 0, 1).join().position().epoch();
        session.onText("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"alerts\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch + "\"}}");
        for (String origin : List.of("other", session.id())) {
            Publication join = Publication.event(UnpooledByteBufAllocator.DEFAULT, "alerts", origin,
                    "{\"type\":\"join\",\"channel\":\"alerts\",\"user\":\"u\",\"connection\":\"" + origin + "\"}");
            session.deliver(join);
            join.release();
        }
        assertThat(delivered).as("not before the ack").isEmpty();
        loop.runPendingTasks();
        assertThat(sent).anySatisfy(m -> assertThat(m).contains("\"type\":\"ack\"").contains("\"recovered\":true"));
        assertThat(delivered).singleElement().satisfies(m -> assertThat(m).contains("\"type\":\"join\"").contains("\"connection\":\"other\""));
        lastBroker.publish("alerts", "{\"n\":1}").join();
        loop.runPendingTasks();
        assertThat(delivered).hasSize(2);
        assertThat(delivered.get(1)).contains("\"offset\":1");
    }

    /**
     * Review fix: two overlapping re-auths whose verifications complete out of order. Only the latest
     * one sent is applied (its expiry and permissions), the older one is answered {@code superseded}
     * and changes nothing, and an older token that fails does not close the connection.
     */
    @Test
    void overlappingReauthsApplyOnlyTheLatestWhateverOrderTheyAreVerifiedIn() throws Exception {
        holdVerification();
        Session session = session("olga", Map.of("channels", Map.of("room:1", "r")), Duration.ofMinutes(20),
                Duration.ZERO, 0, MessageRate.of(0, 0));
        String older = TokenMinter.hs256(SECRET, "olga", clock.instant(), Duration.ofHours(1), Map.of("channels", Map.of("room:1", "r")));
        String newer = TokenMinter.hs256(SECRET, "olga", clock.instant(), Duration.ofHours(2), Map.of("channels", Map.of("room:2", "r")));
        session.onText("{\"type\":\"auth\",\"id\":1,\"token\":\"" + older + "\"}");
        session.onText("{\"type\":\"auth\",\"id\":2,\"token\":\"" + newer + "\"}");
        loop.runPendingTasks();

        release(newer);
        JsonNode ack = last();
        assertThat(ack.path("type").asText()).isEqualTo("ack");
        assertThat(ack.path("id").asInt()).isEqualTo(2);
        release(older);
        JsonNode superseded = last();
        assertThat(superseded.path("type").asText()).isEqualTo("error");
        assertThat(superseded.path("id").asInt()).isEqualTo(1);
        assertThat(superseded.path("code").asText()).isEqualTo("superseded");
        assertThat(session.principal().expiresAt()).as("the newer token's expiry stays").isEqualTo(clock.instant().plus(Duration.ofHours(2)));
        assertThat(reply(session, "{\"type\":\"subscribe\",\"id\":3,\"channel\":\"room:1\"}").path("code").asText())
                .as("the newer token's permissions stay").isEqualTo("forbidden");

        advance(Duration.ofMinutes(1)); // the auth budget (bursts of 3) refills
        String expired = TokenMinter.hs256(SECRET, "olga", clock.instant().minus(Duration.ofHours(2)), Duration.ofHours(1), Map.of());
        String fresh = TokenMinter.hs256(SECRET, "olga", clock.instant(), Duration.ofHours(3), Map.of());
        session.onText("{\"type\":\"auth\",\"id\":4,\"token\":\"" + expired + "\"}");
        session.onText("{\"type\":\"auth\",\"id\":5,\"token\":\"" + fresh + "\"}");
        loop.runPendingTasks();
        release(expired);
        assertThat(closes).as("an older token's failure does not close the connection").isEmpty();
        assertThat(last().path("code").asText()).isEqualTo("superseded");
        release(fresh);
        assertThat(last().path("type").asText()).isEqualTo("ack");
        assertThat(session.principal().expiresAt()).isEqualTo(clock.instant().plus(Duration.ofHours(3)));
        assertThat(closes).isEmpty();
    }

    @Test
    void aReauthThatWithdrawsAReadPermissionLeavesTheChannelAndNamesIt() throws Exception {
        Session session = session("walt", Map.of("channels", Map.of("room:1", "r")), Duration.ofHours(1),
                Duration.ZERO, 0, MessageRate.of(0, 0));
        assertThat(reply(session, "{\"type\":\"subscribe\",\"id\":1,\"channel\":\"room:1\"}").path("type").asText()).isEqualTo("ack");
        String narrower = TokenMinter.hs256(SECRET, "walt", clock.instant(), Duration.ofHours(1), Map.of("channels", Map.of("room:2", "r")));
        session.onText("{\"type\":\"auth\",\"id\":2,\"token\":\"" + narrower + "\"}");
        loop.runPendingTasks();
        JsonNode withdrawn = sent.stream().map(m -> {
            try {
                return JSON.readTree(m);
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).filter(m -> m.path("code").asText().equals("forbidden")).findFirst().orElseThrow();
        assertThat(withdrawn.path("channel").asText()).as("the client learns which subscription ended").isEqualTo("room:1");
        assertThat(withdrawn.has("id")).isFalse();
        assertThat(last().path("type").asText()).isEqualTo("ack");
        assertThat(last().path("id").isIntegralNumber()).isTrue();
    }

    @Test
    void subscribePublishAndPermissions() throws Exception {
        Session session = session("judy", Map.of("channels", Map.of("room:1", "rw", "news:*", "r")), Duration.ofHours(1),
                Duration.ZERO, 0, MessageRate.of(0, 0));
        assertThat(reply(session, "{\"type\":\"subscribe\",\"id\":\"a\",\"channel\":\"room:2\"}").path("code").asText()).isEqualTo("forbidden");
        assertThat(reply(session, "{\"type\":\"subscribe\",\"id\":\"b\",\"channel\":\"room:1\"}").path("type").asText()).isEqualTo("ack");
        assertThat(reply(session, "{\"type\":\"subscribe\",\"channel\":\"news:x\"}").path("code").asText())
                .as("limit 3: personal, alerts, room:1").isEqualTo("too_many_subscriptions");
        assertThat(reply(session, "{\"type\":\"publish\",\"channel\":\"news:x\",\"data\":1}").path("code").asText()).isEqualTo("forbidden");
        JsonNode ack = reply(session, "{\"type\":\"publish\",\"id\":\"p\",\"channel\":\"room:1\",\"data\":{\"t\":\"<b>hi</b>\"}}");
        assertThat(ack.path("type").asText()).isEqualTo("ack");
        assertThat(ack.path("offset").asLong()).isEqualTo(1);
        assertThat(delivered).singleElement().asString()
                .startsWith("{\"type\":\"message\",\"channel\":\"room:1\",\"offset\":1,\"epoch\":\"")
                .endsWith("\",\"data\":{\"t\":\"hi\"}}");
        assertThat(reply(session, "{\"type\":\"unsubscribe\",\"channel\":\"room:1\"}").path("type").asText()).isEqualTo("ack");
        assertThat(session.subscriptions()).doesNotContain("room:1");
    }

    @Test
    void rateLimitThenCloseWhenTheClientKeepsGoing() throws Exception {
        Session session = session("kim", Map.of(), Duration.ofHours(1), Duration.ZERO, 0, MessageRate.of(60, 2));
        assertThat(reply(session, "{\"type\":\"ping\"}").path("type").asText()).isEqualTo("pong");
        assertThat(reply(session, "{\"type\":\"ping\"}").path("type").asText()).isEqualTo("pong");
        JsonNode limited = reply(session, "{\"type\":\"ping\",\"id\":\"3\"}");
        assertThat(limited.path("code").asText()).isEqualTo("rate_limited");
        assertThat(limited.path("retryAfterMs").asLong()).isEqualTo(1000);
        assertThat(reply(session, "{\"type\":\"auth\",\"token\":\"" + token("kim", Duration.ofHours(2)) + "\"}").path("type").asText())
                .as("auth has a budget of its own").isEqualTo("ack");
        advance(Duration.ofSeconds(10)); // backing off ends the streak
        assertThat(reply(session, "{\"type\":\"ping\"}").path("type").asText()).isEqualTo("pong");
        // Twice the allowed rate: every other message gets through, the refusals form one streak.
        int rounds = 0;
        while (closes.isEmpty() && rounds++ < 100) {
            advance(Duration.ofMillis(500));
            session.onText("{\"type\":\"ping\"}");
        }
        assertThat(sent.stream().filter(m -> m.contains("pong")).count()).isGreaterThan(3);
        assertThat(closes).extracting(Disconnect::code).containsExactly(4008);
        assertThat(rounds).as("closed about the grace (5 s) into the streak").isBetween(9, 14);
    }

    @Test
    void authMessagesHaveTheirOwnSmallBudgetThenRateLimitedThen4008() throws Exception {
        Session session = session("flood", Map.of(), Duration.ofHours(1), Duration.ZERO, 0, MessageRate.of(0, 0));
        assertThat(AbuseControl.authRate(Duration.ofSeconds(3)).intervalNanos()).as("a 3 s re-auth gets 40 a minute")
                .isEqualTo(Duration.ofMillis(1500).toNanos());
        String auth = "{\"type\":\"auth\",\"id\":1,\"token\":\"" + token("flood", Duration.ofHours(1)) + "\"}";
        for (int i = 0; i < 3; i++) {
            assertThat(reply(session, auth).path("type").asText()).as("burst of 3").isEqualTo("ack");
        }
        JsonNode limited = reply(session, auth);
        assertThat(limited.path("code").asText()).isEqualTo("rate_limited");
        assertThat(limited.path("retryAfterMs").asLong()).isEqualTo(6000); // 10 a minute
        assertThat(reply(session, "{\"type\":\"ping\"}").path("type").asText()).as("other messages are not affected").isEqualTo("pong");
        int rounds = 0;
        while (closes.isEmpty() && rounds++ < 100) {
            advance(Duration.ofMillis(500));
            session.onText(auth);
        }
        assertThat(closes).extracting(Disconnect::code).containsExactly(4008);
    }

    private String token(String user, Duration ttl) {
        return TokenMinter.hs256(SECRET, user, clock.instant(), ttl, Map.of());
    }

    private void advance(Duration d) {
        clock.advance(d);
        loop.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        loop.runScheduledPendingTasks();
        loop.runPendingTasks();
    }

    private JsonNode last() throws Exception {
        return JSON.readTree(sent.get(sent.size() - 1));
    }

    private static JsonNode parse(String text) {
        try {
            return JSON.readTree(text);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void greetsWithTheUserAndExpiry() throws Exception {
        session("alice", Duration.ofHours(1), Duration.ZERO, 0);
        JsonNode connected = JSON.readTree(sent.get(0));
        assertThat(connected.path("type").asText()).isEqualTo("connected");
        assertThat(connected.path("user").asText()).isEqualTo("alice");
        assertThat(connected.path("expiresAt").asLong()).isEqualTo(clock.instant().plus(Duration.ofHours(1)).toEpochMilli());
    }

    @Test
    void closesWith4001WhenTheTokenExpires() {
        session("bob", Duration.ofMinutes(5), Duration.ZERO, 0);
        advance(Duration.ofMinutes(4));
        assertThat(closes).isEmpty();
        advance(Duration.ofMinutes(1));
        assertThat(closes).containsExactly(Disconnect.TOKEN_EXPIRED);
    }

    @Test
    void reauthRequestThenFreshTokenExtendsTheConnection() throws Exception {
        Session session = session("carol", Duration.ofMinutes(20), Duration.ofMinutes(15), 0);
        advance(Duration.ofMinutes(15));
        assertThat(last().path("type").asText()).isEqualTo("reauth");
        assertThat(last().path("deadlineMs").asLong()).isEqualTo(clock.millis() + 10_000);
        session.onText("{\"type\":\"auth\",\"id\":\"a\",\"token\":\"" + token("carol", Duration.ofHours(1)) + "\"}");
        loop.runPendingTasks();
        assertThat(last().path("type").asText()).isEqualTo("ack");
        advance(Duration.ofMinutes(10)); // past the old exp and the old deadline
        assertThat(closes).isEmpty();
        assertThat(session.principal().expiresAt()).isAfter(clock.instant());
    }

    @Test
    void silencePastTheGraceCloses4001() {
        session("dave", Duration.ofHours(2), Duration.ofMinutes(15), 0);
        advance(Duration.ofMinutes(15));
        advance(Duration.ofSeconds(9));
        assertThat(closes).isEmpty();
        advance(Duration.ofSeconds(1));
        assertThat(closes).singleElement().satisfies(d -> assertThat(d.code()).isEqualTo(4001));
    }

    @Test
    void anotherUsersTokenCloses4001() {
        Session session = session("erin", Duration.ofHours(1), Duration.ZERO, 0);
        session.onText("{\"type\":\"auth\",\"token\":\"" + token("frank", Duration.ofHours(1)) + "\"}");
        loop.runPendingTasks();
        assertThat(closes).singleElement().satisfies(d -> {
            assertThat(d.code()).isEqualTo(4001);
            assertThat(d.reason()).contains("another user");
        });
    }

    @Test
    void violationsOverTheLimitWithinTheWindowClose4503AndTheWindowResets() throws Exception {
        Session session = session("gina", Duration.ofHours(1), Duration.ZERO, 2);
        session.onText("nope");
        session.onText("{\"type\":\"nope\"}");
        assertThat(last().path("code").asText()).isEqualTo("unknown_type");
        advance(Duration.ofMinutes(1)); // a new window
        session.onText("nope");
        session.onText("nope");
        assertThat(closes).isEmpty();
        session.onText("nope");
        assertThat(closes).containsExactly(Disconnect.VIOLATIONS);
        session.onText("{\"type\":\"ping\"}");
        assertThat(last().path("type").asText()).isEqualTo("error");
    }

    @Test
    void anOldConnectionIsAskedToReconnectWithAHint() throws Exception {
        maxAge = Duration.ofMinutes(10);
        session("lena", Duration.ofHours(2), Duration.ZERO, 0);
        advance(Duration.ofMinutes(8)); // more than 10% early is never
        assertThat(closes).isEmpty();
        advance(Duration.ofMinutes(2));
        assertThat(closes).containsExactly(Disconnect.AGE);
        JsonNode hint = last();
        assertThat(hint.path("type").asText()).isEqualTo("disconnect");
        assertThat(hint.path("code").asInt()).isEqualTo(1001);
        assertThat(hint.path("retryAfterMs").asLong()).isBetween(0L, 5_000L);
    }

    @Test
    void afterClosedNoTimerFires() {
        Session session = session("hank", Duration.ofMinutes(1), Duration.ofSeconds(30), 0);
        session.closed();
        advance(Duration.ofMinutes(2));
        assertThat(closes).isEmpty();
        assertThat(sent).hasSize(1);
        assertThat(index.subscriptions()).isZero();
    }

    @Test
    void reauthRequestsKeepAFixedRateFromTheStart() {
        Session session = session("ivan", Duration.ofHours(2), Duration.ofMinutes(15), 0);
        advance(Duration.ofMinutes(15));
        session.onText("{\"type\":\"auth\",\"id\":\"a\",\"token\":\"" + token("ivan", Duration.ofHours(2)) + "\"}");
        loop.runPendingTasks();
        advance(Duration.ofMinutes(14));
        assertThat(sent.stream().filter(text -> parse(text).path("type").asText().equals("reauth"))).hasSize(1);
        advance(Duration.ofMinutes(1)); // 30 minutes after the start, whenever the first one was answered
        assertThat(sent.stream().filter(text -> parse(text).path("type").asText().equals("reauth"))).hasSize(2);
        assertThat(closes).isEmpty();
    }
}
