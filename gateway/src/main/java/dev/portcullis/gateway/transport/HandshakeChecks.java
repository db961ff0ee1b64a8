package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.admission.ConnectionSlots;
import dev.portcullis.gateway.auth.Principal;
import dev.portcullis.gateway.auth.TokenRejectedException;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.protocol.ClientMessage;
import dev.portcullis.gateway.protocol.ProtocolException;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The checks an upgrade request passes before the upgrade, in the documented order: the request's
 * form (version, key, subprotocols), origin (403), draining (503), the global and per-address caps
 * (503, 429), the {@code recover} parameter (400), the token (401, or 503 without keys), the user's
 * attempt rate (429 + Retry-After).
 *
 * <p>One place for both callers: the upgrade itself, and the "why was I refused?" probe, which
 * must give exactly the answer an upgrade would get right now but count no attempt (a browser
 * cannot read a refused upgrade's status, so the JS client asks afterwards). Stateless apart from
 * the shared services; the futures complete on any thread, so callers hop back to their event loop.
 */
final class HandshakeChecks {
    private static final Logger log = LoggerFactory.getLogger(HandshakeChecks.class);

    /** The outcome of the checks. */
    sealed interface Decision permits Refusal, Admitted {}

    /**
     * A refusal: the HTTP status, the stable reason code (metrics tag and the body's {@code error})
     * and a fixed message; {@code retryAfterSeconds} for the {@code Retry-After} header, or 0.
     */
    record Refusal(HttpResponseStatus status, String reason, String message, long retryAfterSeconds) implements Decision {
        Refusal(HttpResponseStatus status, String reason, String message) {
            this(status, reason, message, 0);
        }
    }

    /** Every check passed: who connects, and the positions to recover automatic channels from. */
    record Admitted(Principal principal, Map<String, ClientMessage.Since> recover) implements Decision {}

    private final Services services;
    private final TokenExtractor tokens;

    HandshakeChecks(Services services) {
        this.services = services;
        this.tokens = new TokenExtractor(services.config().auth().cookieEnabled() ? services.config().auth().cookieName() : null);
    }

    /**
     * The upgrade request's own form (RFC 6455 4.1 and 4.2.1): HTTP/1.1, one {@code Host}, no body,
     * exactly one {@code Sec-WebSocket-Key} and {@code Sec-WebSocket-Version}, version 13, a valid
     * key, no bearer entry without the protocol. Null when fine.
     */
    Refusal form(FullHttpRequest request) {
        if (!request.protocolVersion().equals(io.netty.handler.codec.http.HttpVersion.HTTP_1_1)) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request", "a WebSocket upgrade needs HTTP/1.1");
        }
        if (request.headers().getAll(HttpHeaderNames.HOST).size() != 1) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request", "exactly one Host header is required");
        }
        if (request.content().isReadable() || request.headers().contains(HttpHeaderNames.TRANSFER_ENCODING)
                || request.headers().getInt(HttpHeaderNames.CONTENT_LENGTH, 0) != 0) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request", "a WebSocket upgrade has no body");
        }
        if (request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_KEY).size() > 1
                || request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_VERSION).size() > 1) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request",
                    "Sec-WebSocket-Key and Sec-WebSocket-Version may appear once");
        }
        if (!"13".equals(request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_VERSION))) {
            return new Refusal(HttpResponseStatus.UPGRADE_REQUIRED, "unsupported_version", "WebSocket version 13 (RFC 6455) is required");
        }
        if (!validKey(request.headers().get(HttpHeaderNames.SEC_WEBSOCKET_KEY))) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request", "Sec-WebSocket-Key must be 16 base64-encoded bytes");
        }
        if (bearerWithoutVersion(request)) {
            return new Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request",
                    "a portcullis.bearer subprotocol entry needs portcullis.v1 in the same list");
        }
        return null;
    }

    /** Origin, draining, and the connection caps as the socket's slot acquisition found them. Null when fine. */
    Refusal admission(FullHttpRequest request, ConnectionSlots.Result slot) {
        if (!originAllowed(request.headers().get(HttpHeaderNames.ORIGIN))) {
            return new Refusal(HttpResponseStatus.FORBIDDEN, "origin", "origin not allowed");
        }
        if (services.connections().draining()) {
            return draining();
        }
        if (slot instanceof ConnectionSlots.Rejected rejected) {
            return new Refusal(HttpResponseStatus.valueOf(rejected.httpStatus()), rejected.reason(),
                    rejected.httpStatus() == 503 ? "server is at its connection limit" : "too many connections from your address");
        }
        return null;
    }

    /**
     * The token, then the user's attempt rate: counted for an upgrade, only looked at for a probe.
     * Never completes exceptionally: unexpected failures become a 500 refusal.
     */
    CompletableFuture<Decision> identity(FullHttpRequest request, QueryStringDecoder uri, boolean countAttempt) {
        Map<String, ClientMessage.Since> recover = Map.of();
        List<String> recoverParam = uri.parameters().get("recover");
        if (recoverParam != null && !recoverParam.isEmpty()) {
            try {
                recover = services.sessions().codec().decodeRecover(recoverParam.get(0));
            } catch (ProtocolException e) {
                return CompletableFuture.completedFuture(new Refusal(HttpResponseStatus.BAD_REQUEST, "bad_request", e.getMessage()));
            }
        }
        String token = tokens.extract(request, uri);
        if (token == null) {
            return CompletableFuture.completedFuture(new Refusal(HttpResponseStatus.UNAUTHORIZED, "missing_token",
                    "a token is required (query parameter, Authorization: Bearer, cookie or subprotocol)"));
        }
        Map<String, ClientMessage.Since> positions = recover;
        return services.verifier().verify(token)
                .thenCompose(principal -> {
                    String user = principal.subject();
                    CompletableFuture<ConnectAttemptLimiter.Decision> rate =
                            countAttempt ? services.attempts().attempt(user) : services.attempts().peek(user);
                    return rate.<Decision>thenApply(decision -> afterRate(decision, principal, positions));
                })
                .exceptionally(HandshakeChecks::refusalFor);
    }

    /**
     * Runs {@code task} on the connection's event loop: at once when already there (a decision that
     * needed no I/O, e.g. a missing token or an HMAC token with a local attempt limiter), so the
     * answer is written before the codec decodes whatever the client pipelined behind its request
     * (Netty refuses more than 128 requests waiting for answers); else as a task on that loop.
     */
    static void onLoop(io.netty.channel.ChannelHandlerContext ctx, Runnable task) {
        if (ctx.executor().inEventLoop()) {
            task.run();
        } else {
            ctx.executor().execute(task);
        }
    }

    private Decision afterRate(ConnectAttemptLimiter.Decision decision, Principal principal, Map<String, ClientMessage.Since> recover) {
        if (decision instanceof ConnectAttemptLimiter.Rejected rejected) {
            return new Refusal(HttpResponseStatus.TOO_MANY_REQUESTS, rejected.reason(),
                    "too many connection attempts; retry after " + rejected.retryAfterSeconds() + "s", rejected.retryAfterSeconds());
        }
        if (services.connections().draining()) {
            return draining(); // the drain began while the token was checked
        }
        return new Admitted(principal, recover);
    }

    private static Refusal refusalFor(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof TokenRejectedException rejected) {
            HttpResponseStatus status = rejected.reason() == TokenRejectedException.Reason.KEYS_UNAVAILABLE
                    ? HttpResponseStatus.SERVICE_UNAVAILABLE
                    : HttpResponseStatus.UNAUTHORIZED;
            return new Refusal(status, rejected.reason().code(), rejected.getMessage());
        }
        log.warn("handshake check failed unexpectedly", cause);
        return new Refusal(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal", "admission failed");
    }

    private static Refusal draining() {
        return new Refusal(HttpResponseStatus.SERVICE_UNAVAILABLE, "shutting_down", "server is shutting down");
    }

    /**
     * Browsers always send {@code Origin}; a request without one comes from a non-browser client,
     * which could forge any origin anyway, so only a present origin is checked (as Centrifugo does).
     */
    boolean originAllowed(String origin) {
        List<String> allowed = services.config().server().allowedOrigins();
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

    static List<String> offeredSubprotocols(FullHttpRequest request) {
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
}
