package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Token extraction from any request URI, {@code Authorization}, {@code Sec-WebSocket-Protocol} and
 * {@code Cookie} values (the input's lines, in that order): the documented precedence holds (a
 * non-empty {@code token} parameter wins), a token found elsewhere is a non-empty, trimmed part of
 * the header it came from, and extraction never throws but for the URI's own malformed escapes
 * ({@link IllegalArgumentException}, which the upgrade answers with 400).
 */
class TokenExtractorFuzzTest {
    private static final TokenExtractor EXTRACTOR = new TokenExtractor("pc_token");

    @FuzzTest(maxDuration = "10m")
    void extract(byte[] input) {
        String[] lines = new String(input, StandardCharsets.UTF_8).split("\n", 4);
        String uri = lines[0];
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/",
                DefaultHttpHeadersFactory.headersFactory().withValidation(false));
        List<io.netty.util.AsciiString> names = List.of(
                HttpHeaderNames.AUTHORIZATION, HttpHeaderNames.SEC_WEBSOCKET_PROTOCOL, HttpHeaderNames.COOKIE);
        for (int i = 1; i < lines.length; i++) {
            request.headers().add(names.get(i - 1), lines[i]);
        }
        QueryStringDecoder decoder = new QueryStringDecoder(uri);
        List<String> query;
        try {
            query = decoder.parameters().get("token");
        } catch (IllegalArgumentException malformedEscape) {
            return;
        }
        String token = EXTRACTOR.extract(request, decoder);
        if (query != null && !query.isEmpty() && !query.get(0).isEmpty()) {
            assertThat(token).as("the query parameter wins").isEqualTo(query.get(0));
            return;
        }
        if (token == null) {
            return;
        }
        assertThat(token).isNotEmpty().isEqualTo(token.strip());
        boolean fromHeader = false;
        for (int i = 1; i < lines.length; i++) {
            fromHeader |= lines[i].contains(token);
        }
        assertThat(fromHeader).as("%s comes from one of the headers", token).isTrue();
    }
}
