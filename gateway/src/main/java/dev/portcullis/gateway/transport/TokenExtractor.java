package dev.portcullis.gateway.transport;

import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.handler.codec.http.cookie.Cookie;
import io.netty.handler.codec.http.cookie.ServerCookieDecoder;
import java.util.List;

/**
 * Finds the token in an upgrade request, first match wins: the {@code token} query parameter, an
 * {@code Authorization: Bearer} header, a {@code portcullis.bearer.<jwt>} subprotocol entry, then
 * the configured cookie. Returns null when there is none.
 */
final class TokenExtractor {
    static final String SUBPROTOCOL = "portcullis.v1";
    static final String BEARER_SUBPROTOCOL_PREFIX = "portcullis.bearer.";
    private static final String BEARER_PREFIX = "bearer ";

    private final String cookieName;

    /** @param cookieName the cookie to read, or null when cookie auth is off */
    TokenExtractor(String cookieName) {
        this.cookieName = cookieName;
    }

    String extract(HttpRequest request, QueryStringDecoder uri) {
        List<String> fromQuery = uri.parameters().get("token");
        if (fromQuery != null && !fromQuery.isEmpty() && !fromQuery.get(0).isEmpty()) {
            return fromQuery.get(0);
        }
        String authorization = request.headers().get(HttpHeaderNames.AUTHORIZATION);
        if (authorization != null && authorization.regionMatches(true, 0, BEARER_PREFIX, 0, BEARER_PREFIX.length())) {
            String token = authorization.substring(BEARER_PREFIX.length()).trim();
            if (!token.isEmpty()) {
                return token;
            }
        }
        for (String protocols : request.headers().getAll(HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL)) {
            for (String protocol : protocols.split(",")) {
                String trimmed = protocol.trim();
                if (trimmed.startsWith(BEARER_SUBPROTOCOL_PREFIX)) {
                    // Stripped like the other sources (whitespace after the prefix: TokenExtractorFuzzTest).
                    String token = trimmed.substring(BEARER_SUBPROTOCOL_PREFIX.length()).strip();
                    if (!token.isEmpty()) {
                        return token;
                    }
                }
            }
        }
        if (cookieName != null) {
            for (String header : request.headers().getAll(HttpHeaderNames.COOKIE)) {
                for (Cookie cookie : cookies(header)) {
                    // Trimmed as the other sources are: the lax decoder keeps spaces before a ';'.
                    String value = cookie.value().strip();
                    if (cookie.name().equals(cookieName) && !value.isEmpty()) {
                        return value;
                    }
                }
            }
        }
        return null;
    }

    /**
     * The header's cookies; none when Netty's decoder refuses it: a cookie whose name is only
     * control characters throws IllegalArgumentException (found by TokenExtractorFuzzTest), which
     * used to end the handshake without an answer.
     */
    private static Iterable<Cookie> cookies(String header) {
        try {
            return ServerCookieDecoder.LAX.decode(header);
        } catch (IllegalArgumentException e) {
            return List.of();
        }
    }
}
