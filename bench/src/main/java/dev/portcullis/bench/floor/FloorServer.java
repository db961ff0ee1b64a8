package dev.portcullis.bench.floor;

import dev.portcullis.gateway.transport.EventLoops;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpServerCodec;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * The floor: the least a server can do to fan a publication out over WebSocket on this machine,
 * and so the physical limit that Portcullis's fan-out cost and latency are measured against
 * (issue 14, goal 4: within 1.15x of it). It accepts every upgrade on {@code /ws} without a check
 * ({@link FloorSocket}), takes publications on the admin port in the gateway's shape
 * ({@link FloorAdmin}), and writes each one as one pre-encoded frame, shared by reference count, to
 * every subscribed socket with one flush per socket per batch ({@link FloorChannels}). No
 * authentication, limits, sessions, history, metrics or JSON parsing on the delivery path: what is
 * left is the kernel's work of moving the bytes, plus Netty's.
 *
 * <p>Threads and socket options are the gateway's (its {@link EventLoops}: one acceptor thread, one
 * I/O thread per core unless told otherwise, on the transport chosen as {@code server.transport} is;
 * TCP_NODELAY, the default allocator), so a difference between the two
 * is what the gateway does on top, not how it is set up. Not for deployment: anyone who can reach it
 * can publish; {@link FloorCommand} binds loopback only unless told otherwise.
 */
public final class FloorServer implements AutoCloseable {
    private final EventLoops loops;
    private final FloorChannels channels = new FloorChannels();
    private Channel publicChannel;
    private Channel adminChannel;

    private FloorServer(int ioThreads, EventLoops.Transport transport) {
        this.loops = new EventLoops(ioThreads, transport, "floor");
    }

    /** Listens on {@code host:port} (WebSocket) and {@code host:adminPort} (publish); 0 picks a free port. */
    public static FloorServer start(String host, int port, int adminPort, int ioThreads, EventLoops.Transport transport) {
        FloorServer server = new FloorServer(ioThreads, transport);
        try {
            server.publicChannel = server.bind(host, port, "--port", () -> new FloorSocket(server.channels));
            server.adminChannel = server.bind(host, adminPort, "--admin-port", () -> new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    ch.pipeline().addLast(new HttpServerCodec(), new HttpObjectAggregator(1 << 20), new FloorAdmin(server.channels));
                }
            });
            return server;
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private Channel bind(String host, int port, String option, Supplier<ChannelHandler> handler) {
        var future = new ServerBootstrap()
                .group(loops.acceptors(), loops.workers())
                .channel(loops.serverChannelClass())
                .option(ChannelOption.SO_BACKLOG, 4096)
                .option(ChannelOption.SO_REUSEADDR, true)
                .childOption(ChannelOption.ALLOCATOR, ByteBufAllocator.DEFAULT)
                .childOption(ChannelOption.TCP_NODELAY, true)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        ch.pipeline().addLast(handler.get());
                    }
                })
                .bind(host, port)
                .awaitUninterruptibly();
        if (!future.isSuccess()) {
            throw new IllegalStateException(option + ": cannot listen on " + host + ":" + port + ": " + future.cause().getMessage(),
                    future.cause());
        }
        return future.channel();
    }

    public int port() {
        return ((InetSocketAddress) publicChannel.localAddress()).getPort();
    }

    public int adminPort() {
        return ((InetSocketAddress) adminChannel.localAddress()).getPort();
    }

    public String transportName() {
        return loops.transportName();
    }

    /** Frames written to sockets so far, and sockets closed because their buffer was full. */
    public long delivered() {
        return channels.delivered();
    }

    public long closedSlow() {
        return channels.closedSlow();
    }

    @Override
    public void close() {
        for (Channel c : new Channel[] {publicChannel, adminChannel}) {
            if (c != null) {
                c.close().awaitUninterruptibly(2, TimeUnit.SECONDS);
            }
        }
        loops.shutdown(Duration.ofSeconds(1));
    }
}
