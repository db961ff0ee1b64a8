package dev.portcullis.gateway.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.HttpMessage;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import java.util.function.Supplier;

/**
 * The public listener's pipeline before the upgrade: [PROXY protocol] -> [TLS] -> HTTP codec (small limits: an upgrade
 * request has no body) -> handshake timeout -> upgrade handler. After the upgrade the handshaker
 * swaps the HTTP codec for WebSocket frame codecs and the upgrade handler adds the frame aggregator
 * and {@link WebSocketHandler}. The TLS context is read per connection, so a certificate reloaded by
 * {@link TlsReloader} serves the next handshake while open connections keep theirs.
 */
final class PublicChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_INITIAL_LINE = 8192;
    private static final int MAX_HEADER_BYTES = 16384;
    private static final int MAX_REQUEST_BODY = 1024;

    private final Services services;
    private final Supplier<SslContext> ssl;
    private final ForwardedFor forwardedFor;
    private final UpgradeHandler.DecoderConfigs decoders;

    /** @param ssl the current TLS context, or null for plain ws:// */
    PublicChannelInitializer(Services services, Supplier<SslContext> ssl) {
        this.services = services;
        this.ssl = ssl;
        this.forwardedFor = new ForwardedFor(services.config().server().trustedProxies());
        this.decoders = UpgradeHandler.DecoderConfigs.of(services.config().limits().maxMessageBytes());
    }

    @Override
    protected void initChannel(SocketChannel channel) {
        initPipeline(channel);
    }

    /** The handlers of {@link #initChannel}, for any channel: the handshake fuzz test runs them on an {@code EmbeddedChannel}. */
    void initPipeline(Channel channel) {
        services.connections().accepted(channel);
        ChannelPipeline pipeline = channel.pipeline();
        long timeoutMillis = services.config().limits().handshakeTimeout().toMillis();
        pipeline.addLast(HandshakeTimeoutHandler.NAME,
                new HandshakeTimeoutHandler(timeoutMillis, () -> services.metrics().connections().handshakeRejected("handshake_timeout")));
        if (services.config().server().proxyProtocol()) {
            pipeline.addLast("proxy-protocol", new HAProxyMessageDecoder());
            pipeline.addLast("proxy-address", new ProxyProtocolHandler());
        }
        if (ssl != null) {
            pipeline.addLast("tls", ssl.get().newHandler(channel.alloc()));
        }
        pipeline.addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, 8192));
        pipeline.addLast("http-aggregator", new OneRequestAggregator(services));
        pipeline.addLast("upgrade", new UpgradeHandler(services, forwardedFor, decoders));
    }

    /**
     * The HTTP aggregator, but a request whose body is over the limit gets 413 with
     * {@code Connection: close} and the connection ends, like every other refusal. Netty's own answer
     * keeps a keep-alive connection open for a next request (found by HandshakeFuzzTest), while this
     * listener serves one request per connection.
     */
    private static final class OneRequestAggregator extends HttpObjectAggregator {
        private final Services services;

        OneRequestAggregator(Services services) {
            super(MAX_REQUEST_BODY);
            this.services = services;
        }

        @Override
        protected void handleOversizedMessage(ChannelHandlerContext ctx, HttpMessage oversized) {
            services.metrics().connections().handshakeRejected("too_large");
            HttpResponses.sendAndClose(ctx, HttpResponses.error(HttpResponseStatus.REQUEST_ENTITY_TOO_LARGE, "too_large",
                    "a request to this endpoint has no body"));
        }
    }
}
