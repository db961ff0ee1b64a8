package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import org.junit.jupiter.api.Test;

class TokenExtractorTest {
    private final TokenExtractor withCookie = new TokenExtractor("pc");
    private final TokenExtractor withoutCookie = new TokenExtractor(null);

    private static HttpRequest request(String uri, String... headers) {
        HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, uri);
        for (int i = 0; i < headers.length; i += 2) {
            request.headers().add(headers[i], headers[i + 1]);
        }
        return request;
    }

    private static String extract(TokenExtractor extractor, HttpRequest request) {
        return extractor.extract(request, new QueryStringDecoder(request.uri()));
    }

    @Test
    void eachPlace() {
        assertThat(extract(withCookie, request("/ws?token=q"))).isEqualTo("q");
        assertThat(extract(withCookie, request("/ws", "Authorization", "Bearer h"))).isEqualTo("h");
        assertThat(extract(withCookie, request("/ws", "Authorization", "bearer   h2 "))).isEqualTo("h2");
        assertThat(extract(withCookie, request("/ws", "Sec-WebSocket-Protocol", "portcullis.v1, portcullis.bearer.s"))).isEqualTo("s");
        assertThat(extract(withCookie, request("/ws", "Cookie", "a=1; pc=c; b=2"))).isEqualTo("c");
    }

    @Test
    void queryWinsThenHeaderThenSubprotocolThenCookie() {
        HttpRequest all = request("/ws?token=q", "Authorization", "Bearer h", "Sec-WebSocket-Protocol", "portcullis.bearer.s", "Cookie", "pc=c");
        assertThat(extract(withCookie, all)).isEqualTo("q");
        all.setUri("/ws");
        assertThat(extract(withCookie, all)).isEqualTo("h");
        all.headers().remove("Authorization");
        assertThat(extract(withCookie, all)).isEqualTo("s");
        all.headers().remove("Sec-WebSocket-Protocol");
        assertThat(extract(withCookie, all)).isEqualTo("c");
    }

    @Test
    void nothingUsable() {
        assertThat(extract(withCookie, request("/ws?token="))).isNull();
        assertThat(extract(withCookie, request("/ws", "Authorization", "Basic dXNlcjpwYXNz"))).isNull();
        assertThat(extract(withCookie, request("/ws", "Sec-WebSocket-Protocol", "portcullis.v1, portcullis.bearer."))).isNull();
        assertThat(extract(withoutCookie, request("/ws", "Cookie", "pc=c"))).as("cookie auth off").isNull();
    }
}
