package dev.portcullis.gateway.transport;

import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.haproxy.HAProxyMessageDecoder;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;

/**
 * The public listener's pipeline before the upgrade: [PROXY protocol] -> [TLS] -> HTTP codec (small limits: an upgrade
 * request has no body) -> handshake timeout -> upgrade handler. After the upgrade the handshaker
 * swaps the HTTP codec for WebSocket frame codecs and the upgrade handler adds the frame aggregator
 * and {@link WebSocketHandler}.
 */
final class PublicChannelInitializer extends ChannelInitializer<SocketChannel> {
    private static final int MAX_INITIAL_LINE = 8192;
    private static final int MAX_HEADER_BYTES = 16384;
    private static final int MAX_REQUEST_BODY = 1024;

    private final Services services;
    private final SslContext ssl;
    private final ForwardedFor forwardedFor;

    PublicChannelInitializer(Services services, SslContext ssl) {
        this.services = services;
        this.ssl = ssl;
        this.forwardedFor = new ForwardedFor(services.config().server().trustedProxies());
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
                new HandshakeTimeoutHandler(timeoutMillis, () -> services.metrics().handshakeRejected("handshake_timeout")));
        if (services.config().server().proxyProtocol()) {
            pipeline.addLast("proxy-protocol", new HAProxyMessageDecoder());
            pipeline.addLast("proxy-address", new ProxyProtocolHandler());
        }
        if (ssl != null) {
            pipeline.addLast("tls", ssl.newHandler(channel.alloc()));
        }
        pipeline.addLast("http", new HttpServerCodec(MAX_INITIAL_LINE, MAX_HEADER_BYTES, 8192));
        pipeline.addLast("http-aggregator", new HttpObjectAggregator(MAX_REQUEST_BODY));
        pipeline.addLast("upgrade", new UpgradeHandler(services, forwardedFor));
    }
}
