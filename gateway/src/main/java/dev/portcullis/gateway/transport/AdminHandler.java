package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.protocol.JsonStrings;
import dev.portcullis.gateway.broker.BrokerHealth;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.QueryStringDecoder;
import java.util.function.BooleanSupplier;

/**
 * The admin listener's routes: {@code GET /metrics} (Prometheus text), {@code GET /healthz}
 * (the process is alive) and {@code GET /readyz} (it accepts connections: false while starting and
 * once shutdown began), and the backend API under {@code /api/} (see {@code BackendApi}). Everything
 * else is 404, or 405 for a known path with another method. Pipelined requests are answered in
 * order only for the synchronous routes; API clients should not pipeline (none of the usual HTTP
 * clients do).
 */
final class AdminHandler extends SimpleChannelInboundHandler<FullHttpRequest> {
    private final Services services;
    private final BooleanSupplier ready;

    AdminHandler(Services services, BooleanSupplier ready) {
        this.services = services;
        this.ready = ready;
    }

    @Override
    protected void channelRead0(ChannelHandlerContext ctx, FullHttpRequest request) {
        QueryStringDecoder uri = new QueryStringDecoder(request.uri());
        String path = uri.path();
        if (path.startsWith("/api/")) {
            byte[] body = ByteBufUtil.getBytes(request.content());
            boolean keepAlive = HttpUtil.isKeepAlive(request);
            services.api()
                    .handle(request.method().name(), path, uri.parameters(), request.headers().get(HttpHeaderNames.AUTHORIZATION), body)
                    .whenComplete((answer, failure) -> ctx.executor().execute(() -> {
                        FullHttpResponse response = failure == null
                                ? HttpResponses.json(HttpResponseStatus.valueOf(answer.status()), answer.json())
                                : HttpResponses.error(HttpResponseStatus.INTERNAL_SERVER_ERROR, "internal", "the request failed");
                        write(ctx, response, keepAlive);
                    }));
            return;
        }
        FullHttpResponse response = switch (path) {
            case "/metrics", "/healthz", "/readyz" -> request.method().equals(HttpMethod.GET) || request.method().equals(HttpMethod.HEAD)
                    ? route(path)
                    : HttpResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED, "method_not_allowed", "use GET");
            default -> HttpResponses.error(HttpResponseStatus.NOT_FOUND, "not_found", "no such admin route");
        };
        write(ctx, response, HttpUtil.isKeepAlive(request));
    }

    private static void write(ChannelHandlerContext ctx, FullHttpResponse response, boolean keepAlive) {
        if (keepAlive) {
            response.headers().set(HttpHeaderNames.CONNECTION, HttpHeaderValues.KEEP_ALIVE);
            ctx.writeAndFlush(response);
        } else {
            ctx.writeAndFlush(response).addListener(ChannelFutureListener.CLOSE);
        }
    }

    private FullHttpResponse route(String path) {
        return switch (path) {
            case "/metrics" -> HttpResponses.response(HttpResponseStatus.OK, services.metrics().scrape(), "text/plain; version=0.0.4");
            case "/healthz" -> HttpResponses.json(HttpResponseStatus.OK, "{\"status\":\"ok\"}");
            default -> readiness();
        };
    }

    /**
     * 200 {@code ready} or {@code degraded} (the broker cannot reach other instances, but this one
     * still serves its connections: taking it out of rotation would not help), 503 {@code not_ready}
     * while starting or shutting down. The body always says why.
     */
    private FullHttpResponse readiness() {
        if (!ready.getAsBoolean()) {
            return HttpResponses.json(HttpResponseStatus.SERVICE_UNAVAILABLE, "{\"status\":\"not_ready\"}");
        }
        BrokerHealth broker = services.sessions().broker().health();
        String body = "{\"status\":\"" + (broker.healthy() ? "ready" : "degraded") + "\",\"connections\":"
                + services.connections().active() + ",\"broker\":{\"type\":\"" + broker.type() + "\",\"state\":\""
                + broker.state() + "\"" + (broker.reason() == null ? "" : ",\"reason\":\"" + JsonStrings.escape(broker.reason()) + "\"")
                + "}}";
        return HttpResponses.json(HttpResponseStatus.OK, body);
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        ctx.close();
    }
}
