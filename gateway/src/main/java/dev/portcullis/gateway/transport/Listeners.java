package dev.portcullis.gateway.transport;

import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.AdaptiveRecvByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.ChannelOption;
import io.netty.channel.WriteBufferWaterMark;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import io.netty.handler.ssl.SslContext;
import java.net.InetSocketAddress;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/** Binds the public WebSocket listener and the admin HTTP listener; unbinds them on shutdown. */
public final class Listeners {
    private final Channel publicChannel;
    private final Channel adminChannel;

    private Listeners(Channel publicChannel, Channel adminChannel) {
        this.publicChannel = publicChannel;
        this.adminChannel = adminChannel;
    }

    /**
     * @param ssl TLS for the public listener, or null for plain ws://
     * @param adminSsl TLS for the admin listener (with client certificates if so configured), or null for plain HTTP
     * @param ready what {@code /readyz} reports
     * @throws IllegalStateException when a port cannot be bound, naming the config key
     */
    public static Listeners bind(EventLoops loops, Services services, Supplier<SslContext> ssl, Supplier<SslContext> adminSsl,
            BooleanSupplier ready) {
        var config = services.config();
        Channel publicChannel = bind(loops, new PublicChannelInitializer(services, ssl),
                config.server().host(), config.server().port(), "server.port",
                new WriteBufferWaterMark(config.limits().maxOutboundBytes() / 2, config.limits().maxOutboundBytes()));
        Channel adminChannel;
        java.util.concurrent.atomic.AtomicInteger adminConnections = new java.util.concurrent.atomic.AtomicInteger();
        try {
            adminChannel = bind(loops, new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel channel) {
                    var admin = config.admin();
                    if (adminSsl != null) {
                        // Before the idle handler, so a peer stalling the handshake is closed by the idle timeout too.
                        channel.pipeline().addLast("tls", adminSsl.get().newHandler(channel.alloc()));
                    }
                    channel.pipeline()
                            .addLast(new io.netty.handler.timeout.IdleStateHandler(0, 0, admin.idleTimeout().toMillis(),
                                    java.util.concurrent.TimeUnit.MILLISECONDS))
                            .addLast(new HttpServerCodec())
                            .addLast(new AdminGuard(adminConnections, admin.maxConnections(), admin.requestTimeout().toMillis()))
                            .addLast(new HttpObjectAggregator(config.admin().maxBodyBytes()))
                            .addLast(new AdminHandler(services, ready));
                }
            }, config.admin().host(), config.admin().port(), "admin.port", WriteBufferWaterMark.DEFAULT);
        } catch (RuntimeException e) {
            publicChannel.close().awaitUninterruptibly();
            throw e;
        }
        return new Listeners(publicChannel, adminChannel);
    }

    /** Stateless: it only makes the per-channel handles, so every socket can share it. */
    private static final AdaptiveRecvByteBufAllocator RECEIVE_SIZES = new AdaptiveRecvByteBufAllocator();

    private static Channel bind(EventLoops loops, ChannelInitializer<SocketChannel> initializer, String host, int port, String key,
            WriteBufferWaterMark waterMark) {
        var future = new ServerBootstrap()
                .group(loops.acceptors(), loops.workers())
                .channel(loops.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                // The same allocator as the brokers' publications (one set of pools, see Publication#encode).
                .childOption(ChannelOption.ALLOCATOR, ByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childOption(ChannelOption.SO_KEEPALIVE, true)
                .childOption(ChannelOption.WRITE_BUFFER_WATER_MARK, waterMark)
                // One receive-size policy for every socket (its per-socket state lives in the handle each
                // channel makes from it): Netty's default is a new one per socket, 32 bytes each.
                .childOption(ChannelOption.RCVBUF_ALLOCATOR, RECEIVE_SIZES)
                .childHandler(initializer)
                .bind(host, port)
                .awaitUninterruptibly();
        if (!future.isSuccess()) {
            throw new IllegalStateException(key + ": cannot listen on " + host + ":" + port + ": " + future.cause().getMessage(), future.cause());
        }
        return future.channel();
    }

    public int publicPort() {
        return ((InetSocketAddress) publicChannel.localAddress()).getPort();
    }

    public int adminPort() {
        return ((InetSocketAddress) adminChannel.localAddress()).getPort();
    }

    /** Stops accepting new public connections; connected ones are unaffected. */
    public void stopAccepting() {
        publicChannel.close().awaitUninterruptibly();
    }

    /** Closes the admin listener too (last, so metrics and health answer while draining). */
    public void close() {
        publicChannel.close().awaitUninterruptibly();
        adminChannel.close().awaitUninterruptibly();
    }
}
