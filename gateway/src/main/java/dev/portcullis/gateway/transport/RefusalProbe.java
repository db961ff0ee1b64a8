package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.protocol.JsonStrings;
import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.admission.ConnectionSlots;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.net.InetSocketAddress;

/**
 * "Why was I refused?": a browser sees a refused upgrade only as close 1006 with no status, so it
 * cannot tell 401 (get a new token) from 429 (wait) from 503 (back off). A plain {@code GET
 * <server.path>} with {@code Accept: application/json}, carrying the credentials an upgrade would,
 * answers the decision an upgrade would get right now: 200 {@code {"ok":true,"user","expiresAt"}},
 * or the refusal's status, {@code {"error","message"}} body and {@code Retry-After}.
 *
 * <p>It must not become a way around the limits it reports: it counts no connection attempt (the
 * rate is only looked at), holds its socket's slot only until the answer is written, and is itself
 * limited per client address ({@code limits.refusal-probes-per-ip-per-minute}; over it 429
 * {@code probe_rate}, counted per address or IPv6 /64, after the origin check so that a foreign
 * page cannot use up its visitors' probes). CORS, preflight included, is answered for the origins
 * an upgrade accepts, with credentials and {@code Retry-After} readable by the page.
 */
final class RefusalProbe {
    static final String PROBE_RATE = "probe_rate";

    private final Services services;
    private final HandshakeChecks checks;

    RefusalProbe(Services services, HandshakeChecks checks) {
        this.services = services;
        this.checks = checks;
    }

    /** A plain GET (no upgrade) that asks for JSON. */
    static boolean wanted(FullHttpRequest request) {
        if (!request.method().equals(HttpMethod.GET) || request.headers().contains(HttpHeaderNames.UPGRADE)) {
            return false;
        }
        String accept = request.headers().get(HttpHeaderNames.ACCEPT);
        return accept != null && accept.toLowerCase(java.util.Locale.ROOT).contains("application/json");
    }

    /** A CORS preflight for the probe: {@code OPTIONS <server.path>} with {@code Access-Control-Request-Method}. */
    static boolean preflight(FullHttpRequest request) {
        return request.method().equals(HttpMethod.OPTIONS)
                && request.headers().contains(HttpHeaderNames.ACCESS_CONTROL_REQUEST_METHOD);
    }

    void answerPreflight(ChannelHandlerContext ctx, FullHttpRequest request) {
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (origin == null || !checks.originAllowed(origin)) {
            HttpResponses.sendAndClose(ctx, HttpResponses.error(HttpResponseStatus.FORBIDDEN, "origin", "origin not allowed"));
            return;
        }
        FullHttpResponse response = HttpResponses.response(HttpResponseStatus.NO_CONTENT, "", "text/plain");
        response.headers().remove(HttpHeaderNames.CONTENT_TYPE);
        cors(response.headers(), origin);
        response.headers()
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_METHODS, "GET")
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_HEADERS, "Authorization, Accept")
                .set(HttpHeaderNames.ACCESS_CONTROL_MAX_AGE, 600);
        HttpResponses.sendAndClose(ctx, response);
    }

    /**
     * Answers the probe. {@code slot} is what the socket's slot acquisition found: the caps are
     * judged as for an upgrade arriving now on this socket.
     */
    void answer(ChannelHandlerContext ctx, FullHttpRequest request, QueryStringDecoder uri, ConnectionSlots.Result slot,
            InetSocketAddress client) {
        String origin = request.headers().get(HttpHeaderNames.ORIGIN);
        if (!checks.originAllowed(origin)) {
            // Before the rate: a page on a foreign origin must not use up the probes of the people it is shown to.
            send(ctx, origin, new HandshakeChecks.Refusal(HttpResponseStatus.FORBIDDEN, "origin", "origin not allowed"));
            return;
        }
        String address = ConnectionSlots.group(client.getAddress()).getHostAddress(); // IPv6: one budget per /64
        ConnectAttemptLimiter.Decision rate = services.probes().tryAttempt(address);
        if (rate instanceof ConnectAttemptLimiter.Rejected rejected) {
            send(ctx, origin, new HandshakeChecks.Refusal(HttpResponseStatus.TOO_MANY_REQUESTS, PROBE_RATE,
                    "too many refusal probes from your address", rejected.retryAfterSeconds()));
            return;
        }
        HandshakeChecks.Refusal refusal = checks.admission(request, slot);
        if (refusal != null) {
            send(ctx, origin, refusal);
            return;
        }
        checks.identity(request, uri, false).thenAccept(decision -> HandshakeChecks.onLoop(ctx, () -> {
            if (ctx.channel().isActive()) {
                send(ctx, origin, decision);
            }
        }));
    }

    private void send(ChannelHandlerContext ctx, String origin, HandshakeChecks.Decision decision) {
        FullHttpResponse response;
        if (decision instanceof HandshakeChecks.Admitted admitted) {
            services.metrics().connections().refusalProbe("ok");
            response = HttpResponses.json(HttpResponseStatus.OK, "{\"ok\":true,\"user\":\""
                    + JsonStrings.escape(admitted.principal().subject()) + "\",\"expiresAt\":"
                    + admitted.principal().expiresAtMillis() + "}");
        } else {
            HandshakeChecks.Refusal refusal = (HandshakeChecks.Refusal) decision;
            services.metrics().connections().refusalProbe(refusal.reason());
            response = HttpResponses.refusal(refusal);
        }
        if (origin != null && checks.originAllowed(origin)) {
            cors(response.headers(), origin);
        }
        HttpResponses.sendAndClose(ctx, response);
    }

    /**
     * CORS for an allowed origin, with credentials so the JS client can send the cookie
     * ({@code credentials: 'include'}). This exposes nothing the page does not already hold: the
     * answer depends on the token the page itself sent, and on the cookie only with cookie auth,
     * which requires an explicit {@code server.allowed-origins} list (with an empty list, the
     * gateway reads no cookie at all).
     */
    private static void cors(HttpHeaders headers, String origin) {
        headers.set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
                .set(HttpHeaderNames.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
                .set(HttpHeaderNames.ACCESS_CONTROL_EXPOSE_HEADERS, HttpHeaderNames.RETRY_AFTER)
                .add(HttpHeaderNames.VARY, HttpHeaderNames.ORIGIN);
    }
}
