package dev.portcullis.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.auth.JwtVerifier;
import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.protocol.MessageCodec;
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

    @BeforeEach
    void freeze() {
        loop.freezeTime();
        verifier = JwtVerifier.create(ConfigLoader.load(Map.of("auth.hmac-secret", SECRET, "auth.clock-skew", "0")).auth(), clock);
    }

    @AfterEach
    void close() {
        verifier.close();
        loop.finishAndReleaseAll();
    }

    private Session session(String user, Duration ttl, Duration reauthEvery, int violations) {
        Principal principal = verifier.verify(token(user, ttl)).join();
        SessionSettings settings = new SessionSettings(reauthEvery, Duration.ofSeconds(10), Duration.ZERO, violations, Duration.ofMinutes(1));
        Outbound out = new Outbound() {
            @Override
            public void send(String text) {
                sent.add(text);
            }

            @Override
            public void close(Disconnect disconnect) {
                closes.add(disconnect);
            }
        };
        Session session = new Session("c1", principal, new InetSocketAddress("127.0.0.1", 1), out, loop.eventLoop(),
                new Session.Context(settings, verifier, new MessageCodec(), GatewayMetrics.create(), clock));
        session.start();
        return session;
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

    @Test
    void greetsWithTheUserAndExpiry() throws Exception {
        session("alice", Duration.ofHours(1), Duration.ZERO, 0);
        JsonNode connected = last();
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
    void afterClosedNoTimerFires() {
        Session session = session("hank", Duration.ofMinutes(1), Duration.ofSeconds(30), 0);
        session.closed();
        advance(Duration.ofMinutes(2));
        assertThat(closes).isEmpty();
        assertThat(sent).hasSize(1);
    }

    static final class MutableClock extends Clock {
        private Instant now;

        MutableClock(Instant now) {
            this.now = now;
        }

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }
    }
}
