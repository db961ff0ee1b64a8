package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.admission.ConnectionSlots;
import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenRejectedException;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.session.Disconnect;
import dev.portcullis.gateway.session.Session;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
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
import java.util.Base64;
import java.util.List;
import java.util.Map;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.ProtocolException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Admits or refuses one upgrade request, before any WebSocket byte is exchanged. In order:
 * path (404) and method/upgrade (426), origin (403), the global cap (503), the per-address cap
 * (429), the token (401), the user's attempt rate (429 + Retry-After); then the upgrade, after
 * which the user's oldest connections over the per-user limit are closed with 4500.
 *
 * <p>A refusal is a plain HTTP response with a JSON body and {@code Connection: close}, and is
 * counted by reason. The request URI is never logged with its query string (it may hold a token).
 * This handler serves one request: it removes itself on upgrade and the socket closes on refusal.
 */
final class UpgradeHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final Logger log = LoggerFactory.getLogger(UpgradeHandler.class);

    private static final Duration REFUSED_WAIT = Duration.ofSeconds(1);

    private final Services services;
    private final TokenExtractor tokens;
    private final ForwardedFor forwardedFor;
    /** The client's address: the TCP peer, the PROXY header's source, or the trusted X-Forwarded-For entry. */
    private InetSocketAddress client;
    private long startNanos;
    private boolean handled;
    private ConnectionSlots.Result slot;
    /** Positions in automatic channels from the {@code recover} query parameter. */
    private Map<String, ClientMessage.Since> recover = Map.of();

    UpgradeHandler(Services services, ForwardedFor forwardedFor) {
        this.services = services;
        this.forwardedFor = forwardedFor;
        this.tokens = new TokenExtractor(services.config().auth().cookieEnabled() ? services.config().auth().cookieName() : null);
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
            ctx.channel().closeFuture().addListener(f -> acquired.slot().release());
        } else if (!handled) {
            // Refused sockets hold no slot, so they get a much shorter wait for their request than the
            // handshake timeout: a flood of them must not pile up file descriptors.
            ctx.executor().schedule(() -> {
                ctx.close();
            }, REFUSED_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    /** Before the upgrade, errors are the client's (resets, TLS failures, garbage): quietly counted and closed. */
    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("closing before upgrade: {}", cause.toString());
        services.metrics().protocolViolation(cause instanceof java.io.IOException ? "io_before_upgrade" : "error_before_upgrade");
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
        services.spikes().attempt(); // counts portcullis.connection.attempts too
        GatewayConfig config = services.config();
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        if (!request.decoderResult().isSuccess()) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "bad_request", "malformed HTTP request");
        } else if (!uri.path().equals(config.server().path())) {
            refuse(ctx, HttpResponseStatus.NOT_FOUND, "not_found", "no WebSocket endpoint here");
        } else if (!isUpgrade(request)) {
            FullHttpResponse response = HttpResponses.error(HttpResponseStatus.UPGRADE_REQUIRED, "upgrade_required",
                    "this endpoint speaks WebSocket only");
            response.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            count(ctx, "upgrade_required", response);
        } else if (!"13".equals(request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
            FullHttpResponse response = HttpResponses.error(HttpResponseStatus.UPGRADE_REQUIRED, "unsupported_version",
                    "WebSocket version 13 (RFC 6455) is required");
            response.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
            count(ctx, "unsupported_version", response);
        } else if (!validKey(request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY))) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "bad_request", "Sec-WebSocket-Key must be 16 base64-encoded bytes");
        } else if (bearerWithoutVersion(request)) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, "bad_request",
                    "a portcullis.bearer subprotocol entry needs portcullis.v1 in the same list");
        } else if (!originAllowed(request)) {
            refuse(ctx, HttpResponseStatus.FORBIDDEN, "origin", "origin not allowed");
        } else if (services.connections().draining()) {
            refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting_down", "server is shutting down");
        } else {
            admit(ctx, request, uri);
        }
    }

    private void admit(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri) {
        InetSocketAddress remote = client;
        if (slot instanceof ConnectionSlots.Rejected rejected) {
            refuse(ctx, HttpResponseStatus.valueOf(rejected.httpStatus()), rejected.reason(),
                    rejected.httpStatus() == 503 ? "server is at its connection limit" : "too many connections from your address");
            return;
        }
        List<String> recoverParam = uri.parameters().get("recover");
        if (recoverParam != null && !recoverParam.isEmpty()) {
            try {
                recover = services.sessions().codec().decodeRecover(recoverParam.get(0));
            } catch (ProtocolException e) {
                refuse(ctx, HttpResponseStatus.BAD_REQUEST, "bad_request", e.getMessage());
                return;
            }
        }
        String token = tokens.extract(request, uri);
        if (token == null) {
            refuse(ctx, HttpResponseStatus.UNAUTHORIZED, "missing_token",
                    "a token is required (query parameter, Authorization: Bearer, cookie or subprotocol)");
            return;
        }
        request.retain();
        services.verifier().verify(token).whenComplete((principal, failure) -> ctx.executor().execute(() -> {
            try {
                if (!ctx.channel().isActive()) {
                    return;
                }
                if (failure != null) {
                    refuseToken(ctx, failure);
                } else {
                    afterToken(ctx, request, principal, remote);
                }
            } finally {
                request.release();
            }
        }));
    }

    private void refuseToken(ChannelHandlerContext ctx, Throwable failure) {
        Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
        if (cause instanceof TokenRejectedException rejected) {
            HttpResponseStatus status = rejected.reason() == TokenRejectedException.Reason.KEYS_UNAVAILABLE
                    ? HttpResponseStatus.SERVICE_UNAVAILABLE
                    : HttpResponseStatus.UNAUTHORIZED;
            refuse(ctx, status, rejected.reason().code(), rejected.getMessage());
        } else {
            log.warn("token verification failed unexpectedly", cause);
            refuse(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal", "token verification failed");
        }
    }

    private void afterToken(ChannelHandlerContext ctx, FullHttpRequest request, Principal principal, InetSocketAddress remote) {
        request.retain();
        services.attempts().attempt(principal.subject()).whenComplete((decision, failure) -> ctx.executor().execute(() -> {
            try {
                if (!ctx.channel().isActive()) {
                    return;
                }
                if (failure != null) {
                    log.warn("attempt check failed unexpectedly", failure);
                    refuse(ctx, HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal", "admission failed");
                } else if (decision instanceof ConnectAttemptLimiter.Rejected rejected) {
                    FullHttpResponse response = HttpResponses.error(HttpResponseStatus.TOO_MANY_REQUESTS, rejected.reason(),
                            "too many connection attempts; retry after " + rejected.retryAfterSeconds() + "s");
                    response.headers().set(HttpHeaderNames.RETRY_AFTER, rejected.retryAfterSeconds());
                    count(ctx, rejected.reason(), response);
                } else if (services.connections().draining()) {
                    refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting_down", "server is shutting down");
                } else {
                    upgrade(ctx, request, principal, remote);
                }
            } finally {
                request.release();
            }
        }));
    }

    private void upgrade(ChannelHandlerContext ctx, FullHttpRequest request, Principal principal, InetSocketAddress remote) {
        Channel channel = ctx.channel();
        int maxBytes = services.config().limits().maxMessageBytes();
        WebSocketDecoderConfig decoder = WebSocketDecoderConfig.newBuilder()
                .maxFramePayloadLength(maxBytes)
                .allowExtensions(false)
                .allowMaskMismatch(false)
                .closeOnProtocolViolation(false)
                .build();
        withoutBearerEntries(request); // the token must not reach Netty's handshake logging, nor be echoed
        WebSocketServerHandshaker handshaker = new WebSocketServerHandshaker13(
                webSocketUrl(ctx, request), TokenExtractor.SUBPROTOCOL, decoder);
        WebSocketHandler handler = new WebSocketHandler(services, channel);
        Session session = new Session(connectionId(), principal, remote, handler, channel.eventLoop(), services.sessions());
        handler.attach(session);
        // The frame handlers go in before the 101 is written: the write may complete at once, and
        // the session's first message and the connection's metrics must find them in place.
        ctx.pipeline().remove(HandshakeTimeoutHandler.NAME);
        // The handshaker does not validate UTF-8 by itself (only WebSocketServerProtocolHandler adds this).
        ctx.pipeline().addLast("ws-utf8", new Utf8FrameValidator(false));
        ctx.pipeline().addLast("ws-aggregator", new WebSocketFrameAggregator(maxBytes));
        ctx.pipeline().addLast("ws", handler);
        ctx.pipeline().remove(this);
        ChannelFuture written;
        try {
            written = handshaker.handshake(channel, request);
        } catch (RuntimeException e) {
            log.debug("handshake refused by the codec: {}", e.toString());
            services.metrics().handshakeRejected("bad_request");
            channel.close();
            return;
        }
        written.addListener(done -> {
            if (!done.isSuccess()) {
                log.debug("handshake write failed: {}", done.cause().toString());
                channel.close();
                return;
            }
            services.metrics().handshakeCompleted(Duration.ofNanos(System.nanoTime() - startNanos));
            List<WebSocketHandler> replaced = services.connections().admit(principal.subject(), handler);
            services.registry().registered(principal.subject(), session.id(),
                    remote.getAddress().getHostAddress() + ":" + remote.getPort(), session.openedAt());
            channel.closeFuture().addListener(unregisterOnClose(services, principal.subject(), session.id(), handler));
            replaced.forEach(older -> older.disconnectLater(Disconnect.REPLACED));
            session.start(recover);
        });
    }

    /**
     * Forgets the connection when it closes. Built in a static method so that the listener, which
     * lives as long as the connection, holds these three values and not this handler or the token.
     */
    private static ChannelFutureListener unregisterOnClose(Services services, String user, String connectionId, WebSocketHandler handler) {
        return closed -> {
            services.connections().remove(user, handler);
            services.registry().unregistered(user, connectionId);
        };
    }

    /**
     * Browsers always send {@code Origin}; a request without one comes from a non-browser client,
     * which could forge any origin anyway, so only a present origin is checked (as Centrifugo does).
     */
    private boolean originAllowed(FullHttpRequest request) {
        List<String> allowed = services.config().server().allowedOrigins();
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (allowed.isEmpty() || origin == null) {
            return true;
        }
        String normalized = ConfigLoader.normalizeOrigin(origin);
        return normalized != null && allowed.contains(normalized);
    }

    private static boolean validKey(String key) {
        if (key == null || key.length() != 24) {
            return false;
        }
        try {
            return Base64.getDecoder().decode(key).length == 16;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static List<String> offeredSubprotocols(FullHttpRequest request) {
        List<String> offered = new ArrayList<>();
        for (String header : request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
            for (String protocol : header.split(",")) {
                if (!protocol.isBlank()) {
                    offered.add(protocol.trim());
                }
            }
        }
        return offered;
    }

    /** A bearer entry alone would upgrade (evicting the user's older connection) and then fail in the browser. */
    private static boolean bearerWithoutVersion(FullHttpRequest request) {
        List<String> offered = offeredSubprotocols(request);
        return offered.stream().anyMatch(p -> p.startsWith(TokenExtractor.BEARER_SUBPROTOCOL_PREFIX))
                && !offered.contains(TokenExtractor.SUBPROTOCOL);
    }

    private static void withoutBearerEntries(FullHttpRequest request) {
        List<String> kept = offeredSubprotocols(request).stream()
                .filter(p -> !p.startsWith(TokenExtractor.BEARER_SUBPROTOCOL_PREFIX))
                .toList();
        request.headers().remove(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL);
        if (!kept.isEmpty()) {
            request.headers().set(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, String.join(", ", kept));
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

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, String reason, String message) {
        count(ctx, reason, HttpResponses.error(status, reason, message));
    }

    private void count(ChannelHandlerContext ctx, String reason, FullHttpResponse response) {
        services.metrics().handshakeRejected(reason);
        log.debug("refused {} {}: {}", response.status().code(), reason, client);
        HttpResponses.sendAndClose(ctx, response);
    }
}
