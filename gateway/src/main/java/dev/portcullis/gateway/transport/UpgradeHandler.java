package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.admission.ConnectionSlots;
import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.session.Disconnect;
import dev.portcullis.gateway.session.Session;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.PrematureChannelClosureException;
import io.netty.handler.codec.http.DefaultHttpHeaders;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.websocketx.Utf8FrameValidator;
import io.netty.handler.codec.http.websocketx.WebSocketDecoderConfig;
import io.netty.handler.codec.http.websocketx.WebSocketFrameAggregator;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker;
import io.netty.handler.codec.http.websocketx.WebSocketServerHandshaker13;
import io.netty.handler.ssl.SslHandler;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import dev.portcullis.gateway.protocol.ClientMessage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Serves the one HTTP request of a public connection. On {@code server.path}: a WebSocket upgrade
 * is admitted or refused by {@link HandshakeChecks} (path 404, method/upgrade 426, form, origin 403,
 * draining and the global cap 503, the per-address cap 429, the token 401, the user's attempt rate
 * 429 + Retry-After), then upgraded, after which the user's oldest connections over the per-user
 * limit are closed with 4500; a plain GET asking for JSON is the "why was I refused?"
 * {@link RefusalProbe}. Elsewhere: 404, or the {@link DevSite} in dev mode.
 *
 * <p>A refusal is a plain HTTP response with a JSON body and {@code Connection: close}, and is
 * counted by reason. The request URI is never logged with its query string (it may hold a token).
 * This handler serves one request: it removes itself on upgrade and the socket closes otherwise.
 */
final class UpgradeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(UpgradeHandler.class);

    private static final Duration REFUSED_WAIT = Duration.ofSeconds(1);

    private final Services services;
    private final HandshakeChecks checks;
    private final RefusalProbe probe;
    private final ForwardedFor forwardedFor;
    private final DecoderConfigs decoders;
    /** The client's address: the TCP peer, the PROXY header's source, or the trusted X-Forwarded-For entry. */
    private InetSocketAddress client;
    private long startNanos;
    private boolean handled;
    private ConnectionSlots.Result slot;
    /**
     * Releases the slot when the socket closes; replaced at the upgrade by one listener that also
     * unregisters the connection (two listeners on a close future cost a listener array: 64 bytes a
     * connection for its whole life). Null while no slot is held.
     */
    private ChannelFutureListener releaseSlot;

    UpgradeHandler(Services services, ForwardedFor forwardedFor, DecoderConfigs decoders) {
        this.services = services;
        this.forwardedFor = forwardedFor;
        this.decoders = decoders;
        this.checks = new HandshakeChecks(services);
        this.probe = new RefusalProbe(services, checks);
    }

    /**
     * The global and per-address slots are taken as soon as the client's address is known: when the
     * TCP connection opens, or after the PROXY protocol header. Sockets that never send a request
     * (slowloris) thus count against the caps until the handshake timeout drops them; a refusal is
     * still answered in the documented order once the request arrives. Connections from a trusted
     * proxy wait for their request, whose {@code X-Forwarded-For} names the client.
     */
    @Override
    public void channelActive(ChannelHandlerContext ctx) {
        if (!services.config().server().proxyProtocol()) {
            addressKnown(ctx, (InetSocketAddress) ctx.channel().remoteAddress());
        }
        ctx.fireChannelActive();
    }

    @Override
    public void userEventTriggered(ChannelHandlerContext ctx, Object event) {
        if (event == ProxyProtocolHandler.ADDRESS_KNOWN) {
            addressKnown(ctx, ctx.channel().attr(ProxyProtocolHandler.CLIENT_ADDRESS).get());
        }
        ctx.fireUserEventTriggered(event);
    }

    private void addressKnown(ChannelHandlerContext ctx, InetSocketAddress address) {
        client = address;
        if (!forwardedFor.trusted(address.getAddress())) {
            acquireSlot(ctx);
        }
    }

    private void acquireSlot(ChannelHandlerContext ctx) {
        slot = services.slots().tryAcquire(client.getAddress());
        if (slot instanceof ConnectionSlots.Acquired acquired) {
            releaseSlot = f -> acquired.slot().release();
            ctx.channel().closeFuture().addListener(releaseSlot);
        } else if (!handled) {
            // Refused sockets hold no slot, so they get a much shorter wait for their request than the
            // handshake timeout: a flood of them must not pile up file descriptors.
            ctx.executor().schedule(() -> {
                ctx.close();
            }, REFUSED_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /**
     * Before the upgrade, errors are the client's (resets, TLS failures, garbage): quietly counted and
     * closed. A client that hangs up in the middle of its request (the aggregator's
     * {@link PrematureChannelClosureException}, found by HandshakeFuzzTest) counts as I/O like a
     * reset, so that {@code error_before_upgrade} stays for errors nobody expected.
     */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("closing before upgrade: {}", cause.toString());
        boolean io = cause instanceof java.io.IOException || cause instanceof PrematureChannelClosureException;
        services.metrics().protocolViolation(io ? "io_before_upgrade" : "error_before_upgrade");
        ctx.close();
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        if (handled) {
            return; // pipelined requests after the first are ignored; the socket is closing or upgrading
        }
        handled = true;
        startNanos = System.nanoTime();
        if (client == null) {
            client = (InetSocketAddress) ctx.channel().remoteAddress();
        }
        if (forwardedFor.enabled()) {
            client = forwardedFor.client(client, request.headers());
        }
        if (slot == null) {
            acquireSlot(ctx);
        }
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        if (!request.decoderResult().isSuccess()) {
            services.spikes().attempt();
            refuse(ctx, new HandshakeChecks.Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed HTTP request"));
        } else if (!decodes(uri)) {
            services.spikes().attempt();
            refuse(ctx, new HandshakeChecks.Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed %-escape in the request URI"));
        } else if (!uri.path().equals(services.config().server().path())) {
            if (services.devSite() != null) {
                services.devSite().serve(ctx, request.method(), uri.path());
            } else {
                services.spikes().attempt();
                refuse(ctx, new HandshakeChecks.Refusal(HttpResponseStatus.NOT_FOUND, "not_found", "no WebSocket endpoint here"));
            }
        } else if (isUpgrade(request)) {
            services.spikes().attempt(); // counts portcullis.connection.attempts too
            HandshakeChecks.Refusal refusal = checks.form(request);
            if (refusal == null) {
                refusal = checks.admission(request, slot);
            }
            if (refusal != null) {
                refuse(ctx, refusal);
            } else {
                checkIdentityThenUpgrade(ctx, request, uri);
            }
        } else if (RefusalProbe.wanted(request)) {
            probe.answer(ctx, request, uri, slot, client);
        } else if (RefusalProbe.preflight(request)) {
            probe.answerPreflight(ctx, request);
        } else {
            services.spikes().attempt();
            refuse(ctx, new HandshakeChecks.Refusal(HttpResponseStatus.UPGRADE_REQUIRED, "upgrade_required",
                    "this endpoint speaks WebSocket only (or GET it with Accept: application/json to see whether an upgrade would be admitted)"));
        }
    }

    private void checkIdentityThenUpgrade(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri) {
        InetSocketAddress remote = client;
        request.retain();
        CompletableFuture<HandshakeChecks.Decision> identity;
        try {
            identity = checks.identity(request, uri, true);
        } catch (RuntimeException e) {
            request.release();
            throw e;
        }
        identity.whenComplete((decision, failure) -> HandshakeChecks.onLoop(ctx, () -> {
            try {
                if (!ctx.channel().isActive()) {
                    return;
                }
                if (decision instanceof HandshakeChecks.Admitted admitted) {
                    upgrade(ctx, request, admitted.principal(), admitted.recover(), remote);
                } else {
                    refuse(ctx, (HandshakeChecks.Refusal) decision);
                }
            } finally {
                request.release();
            }
        }));
    }

    private void upgrade(ChannelHandlerContext ctx, FullHttpRequest request, Principal principal,
            Map<String, ClientMessage.Since> recover, InetSocketAddress remote) {
        Channel channel = ctx.channel();
        int maxBytes = services.config().limits().maxMessageBytes();
        String deflate = services.config().server().compression()
                ? DeflateNegotiation.answer(request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS))
                : null;
        WebSocketDecoderConfig decoder = decoders.forExtensions(deflate != null);
        withoutBearerEntries(request); // the token must not reach Netty's handshake logging, nor be echoed
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshaker13(
                webSocketUrl(ctx, request), TokenExtractor.SUBPROTOCOL, decoder);
        WebSocketHandler handler = new WebSocketHandler(services, channel, deflate != null);
        Session session = new Session(connectionId(), principal, remote, handler, channel.eventLoop(), services.sessions());
        handler.attach(session);
        // The frame handlers go in before the 101 is written: the write may complete at once, and
        // the session's first message and the connection's metrics must find them in place.
        ctx.pipeline().remove(HandshakeTimeoutHandler.NAME);
        HttpHeaders answer = null;
        if (deflate == null) {
            // The handshaker does not validate UTF-8 by itself (only WebSocketServerProtocolHandler adds this).
            ctx.pipeline().addLast("ws-utf8", new Utf8FrameValidator(false));
            ctx.pipeline().addLast("ws-aggregator", new WebSocketFrameAggregator(maxBytes));
        } else {
            // Compressed fragments are only whole after the aggregator, and UTF-8 can only be checked
            // once inflated; the reserved bits must be checked while the fragments are still apart.
            ctx.pipeline().addLast("ws-rsv", new InflateHandler.ReservedBits());
            ctx.pipeline().addLast("ws-aggregator", new WebSocketFrameAggregator(maxBytes));
            ctx.pipeline().addLast("ws-inflate", new InflateHandler(maxBytes, services.metrics().compression()));
            ctx.pipeline().addLast("ws-utf8", new Utf8FrameValidator(false));
            answer = new DefaultHttpHeaders().set(HttpHeaderNames.SEC_WEBSOCKET_EXTENSIONS, deflate);
        }
        ctx.pipeline().addLast("ws", handler);
        ctx.pipeline().remove(this);
        ChannelFutureListener slotRelease = releaseSlot; // the listener below must not hold this handler
        ChannelFuture written;
        try {
            written = handshaker.handshake(channel, request, answer, channel.newPromise());
        } catch (RuntimeException e) {
            log.debug("handshake refused by the codec: {}", e.toString());
            services.metrics().connections().handshakeRejected("bad_request");
            channel.close();
            return;
        }
        written.addListener(done -> {
            if (!done.isSuccess()) {
                log.debug("handshake write failed: {}", done.cause().toString());
                channel.close();
                return;
            }
            services.metrics().connections().handshakeCompleted(Duration.ofNanos(System.nanoTime() - startNanos));
            if (deflate != null) {
                services.metrics().compression().negotiated();
            }
            List<WebSocketHandler> replaced = services.connections().admit(principal.subject(), handler);
            services.registry().registered(principal.subject(), session.id(),
                    remote.getAddress().getHostAddress() + ":" + remote.getPort(), session.openedAt());
            ChannelFutureListener onClose = unregisterOnClose(services, principal.subject(), session.id(), handler, slotRelease);
            if (slotRelease != null && !channel.closeFuture().isDone()) {
                channel.closeFuture().removeListener(slotRelease); // onClose releases it (on this loop: it has not run)
            }
            channel.closeFuture().addListener(onClose);
            replaced.forEach(older -> older.disconnectLater(Disconnect.REPLACED));
            session.start(recover);
        });
    }

    /**
     * Forgets the connection when it closes, and releases its slot ({@code releaseSlot}, null when it
     * holds none; releasing twice is harmless). Built in a static method so that the listener, which
     * lives as long as the connection, holds these values and not this handler or the token.
     */
    private static ChannelFutureListener unregisterOnClose(Services services, String user, String connectionId, WebSocketHandler handler,
            ChannelFutureListener releaseSlot) {
        return closed -> {
            services.connections().remove(user, handler);
            services.registry().unregistered(user, connectionId);
            if (releaseSlot != null) {
                releaseSlot.operationComplete(closed);
            }
        };
    }

    /**
     * The frame decoder's settings without and with extensions: built once per gateway (by its
     * channel initializer) and shared by every connection, because the decoder keeps a reference for
     * the connection's life (24 bytes each when built per upgrade). Immutable.
     */
    record DecoderConfigs(WebSocketDecoderConfig plain, WebSocketDecoderConfig extensions) {
        static DecoderConfigs of(int maxBytes) {
            return new DecoderConfigs(build(maxBytes, false), build(maxBytes, true));
        }

        WebSocketDecoderConfig forExtensions(boolean allowed) {
            return allowed ? extensions : plain;
        }

        private static WebSocketDecoderConfig build(int maxBytes, boolean extensions) {
            return WebSocketDecoderConfig.newBuilder()
                    .maxFramePayloadLength(maxBytes)
                    .allowExtensions(extensions) // RSV1 then; InflateHandler.ReservedBits checks the bits
                    .allowMaskMismatch(false)
                    .closeOnProtocolViolation(false)
                    .build();
        }
    }

    private static void withoutBearerEntries(FullHttpRequest request) {
        List<String> kept = new ArrayList<>(2);
        for (String offered : HandshakeChecks.offeredSubprotocols(request)) {
            if (!offered.startsWith(TokenExtractor.BEARER_SUBPROTOCOL_PREFIX)) {
                kept.add(offered);
            }
        }
        request.headers().remove(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (!kept.isEmpty()) {
            request.headers().set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, String.join(", ", kept));
        }
    }

    /**
     * Whether the URI's path and query decode. {@link QueryStringDecoder} decodes lazily and throws
     * on a malformed {@code %}-escape ({@code ?token=%zz}): found by HandshakeFuzzTest, such a request
     * was closed without an answer (and leaked the request retained for the token check).
     */
    private static boolean decodes(QueryStringDecoder uri) {
        try {
            uri.path();
            uri.parameters();
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static boolean isUpgrade(FullHttpRequest request) {
        return request.method().equals(HttpMethod.GET)
                && request.headers().containsValue(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE, true)
                && request.headers().contains(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET, true);
    }

    private static String webSocketUrl(ChannelHandlerContext ctx, FullHttpRequest request) {
        String scheme = ctx.pipeline().get(SslHandler.class) != null ? "wss" : "ws";
        String host = request.headers().get(HttpHeaderNames.HOST, "localhost");
        return scheme + "://" + host + new QueryStringDecoder(request.uri()).path();
    }

    private static String connectionId() {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        return Long.toHexString(random.nextLong() | Long.MIN_VALUE) + Integer.toHexString(random.nextInt() | Integer.MIN_VALUE);
    }

    private void refuse(ChannelHandlerContext ctx, HandshakeChecks.Refusal refusal) {
        services.metrics().connections().handshakeRejected(refusal.reason());
        log.debug("refused {} {}: {}", refusal.status().code(), refusal.reason(), client);
        HttpResponses.sendAndClose(ctx, HttpResponses.refusal(refusal));
    }
}
