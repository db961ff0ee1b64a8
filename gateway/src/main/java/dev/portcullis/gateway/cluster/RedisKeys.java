package dev.portcullis.gateway.cluster;

import java.net.URLDecoder;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * How user ids appear in Redis keys and control messages. A user id is any string ({@code sub}),
 * so it is URL-encoded: no braces (which would break the {@code {hash tag}}), no spaces (the
 * control message separator).
 */
final class RedisKeys {
    private RedisKeys() {}

    static String tag(String user) {
        return URLEncoder.encode(user, StandardCharsets.UTF_8);
    }

    static String untag(String encoded) {
        return URLDecoder.decode(encoded, StandardCharsets.UTF_8);
    }
}
