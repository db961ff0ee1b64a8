package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.admission.ConnectionSlots;
import dev.portcullis.gateway.admission.SessionRegistry;
import dev.portcullis.gateway.api.BackendApi;
import dev.portcullis.gateway.api.ClusterView;
import dev.portcullis.gateway.api.InstanceStats;
import dev.portcullis.gateway.auth.JwtVerifier;
import dev.portcullis.gateway.auth.RevocationCheckingVerifier;
import dev.portcullis.gateway.auth.Revocations;
import dev.portcullis.gateway.broker.LocalBroker;
import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.config.LimitsConfig;
import dev.portcullis.gateway.metrics.ConnectionSpikeDetector;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.protocol.MessageCodec;
import dev.portcullis.gateway.protocol.NamespacePolicies;
import dev.portcullis.gateway.protocol.PublicationData;
import dev.portcullis.gateway.session.MessageRate;
import dev.portcullis.gateway.hooks.Hooks;
import dev.portcullis.gateway.presence.MemoryPresenceStore;
import dev.portcullis.gateway.presence.Presence;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionSettings;
import dev.portcullis.gateway.testing.MutableClock;
import io.micrometer.core.instrument.Counter;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;

/**
 * Raw bytes as the first bytes of a public connection, through the real pipeline
 * ({@link PublicChannelInitializer}: HTTP codec, aggregator, handshake timeout, {@link UpgradeHandler}
 * with {@link HandshakeChecks} and {@link TokenExtractor}) on an {@code EmbeddedChannel}, with the
 * real verifier, limits and a local broker behind it.
 *
 * <p>Properties: nothing is thrown out of the pipeline and no unexpected error reaches the upgrade
 * handler; the connection either waits for the rest of its request (nothing written, still open),
 * is answered with one well-formed HTTP response of a documented status and closed, or is upgraded
 * (101 with the accept header, then WebSocket frames); every buffer the channel's allocator handed
 * out is released once the channel is closed.
 *
 * <p>Seeds (HandshakeFuzzTestInputs/handshake) hold tokens signed with {@link #SECRET} for
 * {@link #NOW}, so they stay valid: the clock is fixed.
 */
class HandshakeFuzzTest {
    static final String SECRET = "handshake-fuzz-secret-0123456789abcdef";
    static final Instant NOW = Instant.parse("2030-01-01T00:00:00Z");
    /** Every status the handshake documents (docs/protocol.md): 101 for the upgrade, 200 and 204 from the probe. */
    private static final Set<Integer> STATUSES = Set.of(101, 200, 204, 400, 401, 403, 404, 413, 426, 429, 503);
    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 (\\d{3}) [A-Za-z -]+\r\n");

    private static final MutableClock CLOCK = new MutableClock(NOW);
    private static final GatewayConfig CONFIG = ConfigLoader.load(Map.of(
            "auth.hmac-secret", SECRET,
            "auth.cookie-name", "pc_token",
            "server.allowed-origins", "https://app.example.com",
            "limits.connect-attempts-per-user-per-minute", "0",
            "limits.connections-per-ip", "0",
            "limits.refusal-probes-per-ip-per-minute", "0"));
    private static final GatewayMetrics METRICS = GatewayMetrics.create();
    private static final JwtVerifier VERIFIER = JwtVerifier.create(CONFIG.auth(), CLOCK);
    private static final Services SERVICES = services(CONFIG, METRICS);

    @AfterAll
    static void close() {
        VERIFIER.close();
    }

    @FuzzTest(maxDuration = "10m")
    void handshake(byte[] input) {
        UnpooledByteBufAllocator alloc = new UnpooledByteBufAllocator(false, false);
        double unexpectedBefore = unexpectedErrors();
        FuzzChannel channel = new FuzzChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast(new ChannelInitializer<Channel>() {
            @Override
            protected void initChannel(Channel ch) {
                new PublicChannelInitializer(SERVICES, null).initPipeline(ch);
            }
        });
        try {
            channel.register();
        } catch (Exception e) {
            throw new AssertionError(e);
        }
        // The method as the HTTP codec read it (a request that does not parse becomes a GET).
        HttpMethod[] method = new HttpMethod[1];
        channel.pipeline().addAfter("http", "method", new ChannelInboundHandlerAdapter() {
            @Override
            public void channelRead(ChannelHandlerContext ctx, Object message) {
                if (message instanceof HttpRequest request && method[0] == null) {
                    method[0] = request.method();
                }
                ctx.fireChannelRead(message);
            }
        });
        ByteBuf bytes = alloc.buffer(input.length).writeBytes(input);
        channel.writeInbound(bytes); // throws what reached the end of the pipeline
        channel.runPendingTasks();
        String written = drainOutbound(channel);

        if (written.isEmpty()) {
            assertThat(channel.isOpen()).as("no answer yet: the request is incomplete, so the connection waits").isTrue();
        } else {
            Matcher status = STATUS_LINE.matcher(written);
            assertThat(status.lookingAt()).as("a status line first: %s", written).isTrue();
            int code = Integer.parseInt(status.group(1));
            assertThat(STATUSES).as("status %s", code).contains(code);
            int headersEnd = written.indexOf("\r\n\r\n");
            assertThat(headersEnd).as("the headers end").isPositive();
            if (code == 101) {
                assertThat(written).containsIgnoringCase("sec-websocket-accept: ");
                assertThat(channel.pipeline().get("ws")).as("upgraded").isNotNull();
                assertThat(channel.pipeline().get("upgrade")).as("the upgrade handler is gone").isNull();
            } else {
                assertThat(written).containsIgnoringCase("connection: close");
                assertThat(channel.isOpen()).as("closed after a refusal").isFalse();
                Matcher length = Pattern.compile("(?i)content-length: (\\d+)\r\n").matcher(written);
                if (length.find()) {
                    // The answer to HEAD announces the body a GET would get, without it (RFC 9110 9.3.2).
                    boolean head = HttpMethod.HEAD.equals(method[0]);
                    assertThat(written.length() - headersEnd - 4)
                            .as("body as long as announced").isEqualTo(head ? 0 : Integer.parseInt(length.group(1)));
                }
            }
        }
        channel.close();
        channel.runPendingTasks();
        drainOutbound(channel);
        channel.finishAndReleaseAll();
        assertThat(unexpectedErrors()).as("no unexpected error reached the upgrade handler").isEqualTo(unexpectedBefore);
        assertThat(alloc.metric().usedHeapMemory() + alloc.metric().usedDirectMemory())
                .as("bytes of the channel's allocator still unreleased").isZero();
    }

    private static String drainOutbound(EmbeddedChannel channel) {
        StringBuilder out = new StringBuilder();
        for (Object message; (message = channel.readOutbound()) != null; ) {
            if (message instanceof ByteBuf buf) {
                out.append(buf.toString(StandardCharsets.ISO_8859_1));
            }
            io.netty.util.ReferenceCountUtil.release(message);
        }
        return out.toString();
    }

    private static double unexpectedErrors() {
        Counter counter = METRICS.registry().find("portcullis.protocol.violations").tag("kind", "error_before_upgrade").counter();
        return counter == null ? 0 : counter.count();
    }

    /** An embedded channel with a TCP peer address, as {@link UpgradeHandler} expects. */
    private static final class FuzzChannel extends EmbeddedChannel {
        FuzzChannel() {
            super(false, false);
        }

        @Override
        protected SocketAddress remoteAddress0() {
            return new InetSocketAddress("203.0.113.7", 40000);
        }

        @Override
        protected SocketAddress localAddress0() {
            return new InetSocketAddress("127.0.0.1", 8080);
        }
    }

    /** The local (no Redis) wiring of {@code Gateway}, with the fixed clock. */
    private static Services services(GatewayConfig config, GatewayMetrics metrics) {
        Revocations revocations = new Revocations(CLOCK, config.auth().maxTokenLifetime());
        Connections connections = new Connections(config.limits().connectionsPerUser());
        SubscriptionIndex index = new SubscriptionIndex();
        ConnectAttemptLimiter attempts = new ConnectAttemptLimiter(config.limits().connectAttemptsPerUserPerMinute());
        LocalBroker broker = new LocalBroker(index, UnpooledByteBufAllocator.DEFAULT, metrics, config.history(), 60_000, CLOCK::millis,
                Runnable::run);
        NamespacePolicies publicationData = NamespacePolicies.create(config.channels());
        Presence presence = new Presence(config.channels(), new MemoryPresenceStore(index, UnpooledByteBufAllocator.DEFAULT));
        var tokens = new RevocationCheckingVerifier(VERIFIER, revocations);
        LimitsConfig limits = config.limits();
        SessionSettings settings = new SessionSettings(
                config.auth().reauthInterval(), config.auth().reauthGrace(), config.auth().clockSkew(),
                limits.protocolViolations(), limits.protocolViolationWindow(),
                MessageRate.of(limits.messagesPerMinute(), limits.messageBurst()), limits.rateLimitGrace(),
                limits.subscriptionsPerConnection(), config.channels().autoSubscribe(), config.channels().autoSubscribePersonal(),
                limits.maxConnectionAge());
        Session.Context sessions = new Session.Context(settings, tokens, new MessageCodec(), publicationData,
                Permissions.Shared.of(config.channels()), index, broker, broker.history(), metrics, CLOCK, Hooks.NONE, presence);
        BackendApi api = new BackendApi(config.admin().apiKeys(), broker, publicationData.unsanitised(), connections, revocations,
                metrics, () -> new InstanceStats("fuzz", connections.active(), 0, 0, 0, 0), ClusterView.ALONE, presence);
        return new Services(config, tokens, new ConnectionSlots(limits, 20_000), attempts,
                new ConnectAttemptLimiter(limits.refusalProbesPerIpPerMinute()), SessionRegistry.LOCAL, connections, metrics,
                new ConnectionSpikeDetector(config.alerts(), metrics, CLOCK), sessions, api, CLOCK, null);
    }
}
