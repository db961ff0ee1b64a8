package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.protocol.JsonStrings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.channel.socket.DuplexChannel;
import io.netty.handler.ssl.SslHandler;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.nio.charset.StandardCharsets;

/** Plain HTTP answers: JSON {@code {error, message}} bodies for refusals, text for the rest. */
final class HttpResponses {
    static final Duration LINGER = Duration.ofSeconds(1);

    private HttpResponses() {}

    static FullHttpResponse json(HttpResponseStatus status, String json) {
        return response(status, json, "application/json");
    }

    /** {@code {"error": code, "message": message}}; both come from our own fixed texts. */
    static FullHttpResponse error(HttpResponseStatus status, String code, String message) {
        return json(status, "{\"error\":\"" + JsonStrings.escape(code) + "\",\"message\":\"" + JsonStrings.escape(message) + "\"}");
    }

    /** A handshake refusal: its status and {@code {error, message}}, with {@code Retry-After} when it has one. */
    static FullHttpResponse refusal(HandshakeChecks.Refusal refusal) {
        FullHttpResponse response = error(refusal.status(), refusal.reason(), refusal.message());
        if (refusal.retryAfterSeconds() > 0) {
            response.headers().set(HttpHeaderNames.RETRY_AFTER, refusal.retryAfterSeconds());
        }
        if (refusal.status().equals(HttpResponseStatus.UPGRADE_REQUIRED)) {
            if (refusal.reason().equals("unsupported_version")) {
                response.headers().set(HttpHeaderNames.SEC_WEBSOCKET_VERSION, "13");
            } else {
                response.headers().set(HttpHeaderNames.UPGRADE, HttpHeaderValues.WEBSOCKET);
            }
        }
        return response;
    }

    static FullHttpResponse response(HttpResponseStatus status, String body, String contentType) {
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, contentType + "; charset=utf-8")
                .setInt(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes())
                .set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_STORE);
        return response;
    }

    /**
     * Writes the response and ends the connection: a refused handshake gets no second chance. On plain
     * TCP the server half-closes and lets the client close (at most {@link #LINGER} later): closing
     * with unread request bytes would make the kernel send a reset that can destroy the response.
     */
    static void sendAndClose(ChannelHandlerContext ctx, FullHttpResponse response) {
        response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.CLOSE);
        Channel channel = ctx.channel();
        if (!(channel instanceof DuplexChannel duplex) || ctx.pipeline().get(SslHandler.class) != null) {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
            return;
        }
        ctx.writeAndFlush(response).addListener(f -> {
            if (f.isSuccess() && channel.isActive()) {
                duplex.shutdownOutput();
                channel.eventLoop().schedule(() -> channel.close(), LINGER.toMillis(), TimeUnit.MILLISECONDS);
            } else {
                channel.close();
            }
        });
    }
}
