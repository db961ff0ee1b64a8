package dev.portcullis.bench.floor;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import java.nio.charset.StandardCharsets;

/**
 * The floor's admin port: {@code POST /api/publish} with the gateway's request and answer shape
 * ({@code {"channel":C,"data":X}} in, {@code 200 {"offset":N,"epoch":"floor"}} out) so that the load
 * generator's publisher drives it unchanged, and {@code GET /readyz} for scripts. The bearer key is
 * not checked. The body is not parsed as JSON: the channel name is read from its
 * {@code "channel":"..."} and the data is everything after {@code "data":} up to the closing brace,
 * as the generator writes it; that text goes into the frame as it is.
 */
final class FloorAdmin extends SimpleChannelInboundHandler<FullHttpRequest> {
    private static final String DATA = "\"data\":";
    private final FloorChannels channels;

    FloorAdmin(FloorChannels channels) {
        this.channels = channels;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        String path = request.uri();
        int query = path.indexOf('?');
        path = query < 0 ? path : path.substring(0, query);
        if (path.equals("/readyz") || path.equals("/healthz")) {
            answer(ctx, request, HttpResponseStatus.OK, "{\"ready\":true}");
        } else if (!path.equals("/api/publish")) {
            answer(ctx, request, HttpResponseStatus.NOT_FOUND, "{\"error\":\"not_found\"}");
        } else if (!request.method().equals(HttpMethod.POST)) {
            answer(ctx, request, HttpResponseStatus.METHOD_NOT_ALLOWED, "{\"error\":\"method_not_allowed\"}");
        } else {
            String body = request.content().toString(StandardCharsets.UTF_8).trim();
            String channel = FloorSocket.field(body, "channel");
            int data = body.indexOf(DATA);
            if (channel == null || channel.isEmpty() || data < 0 || !body.endsWith("}")) {
                answer(ctx, request, HttpResponseStatus.BAD_REQUEST, "{\"error\":\"bad_request\",\"message\":\"expected {\\\"channel\\\":\\\"...\\\",\\\"data\\\":...}\"}");
                return;
            }
            long offset = channels.publish(channel, body.substring(data + DATA.length(), body.length() - 1).trim());
            answer(ctx, request, HttpResponseStatus.OK, "{\"offset\":" + offset + ",\"epoch\":\"" + FloorChannels.EPOCH + "\"}");
        }
    }

    private static void answer(ChannelHandlerContext ctx, FullHttpRequest request, HttpResponseStatus status, String json) {
        ByteBuf body = Unpooled.copiedBuffer(json, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, body);
        response.headers()
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .setInt(HttpHeaderNames.CONTENT_LENGTH, body.readableBytes());
        boolean keepAlive = HttpUtil.isKeepAlive(request);
        HttpUtil.setKeepAlive(response, keepAlive);
        var written = ctx.writeAndFlush(response);
        if (!keepAlive) {
            written.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
