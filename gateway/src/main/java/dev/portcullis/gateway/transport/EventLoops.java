package dev.portcullis.gateway.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's threads: one acceptor thread and one I/O thread per core, on epoll where the
 * native transport loads and on NIO otherwise. Both listeners share them.
 */
public final class EventLoops implements AutoCloseable {
    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final boolean epoll;

    public EventLoops(int ioThreads) {
        this.epoll = Epoll.isAvailable();
        var factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        this.acceptors = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("portcullis-accept", true), factory);
        this.workers = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("portcullis-io", true), factory);
    }

    public EventLoopGroup acceptors() {
        return acceptors;
    }

    public EventLoopGroup workers() {
        return workers;
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return epoll ? EpollServerSocketChannel.class : NioServerSocketChannel.class;
    }

    /** The client socket class of this transport (the warm-up's loopback client runs on these loops). */
    public Class<? extends Channel> socketChannelClass() {
        return epoll ? EpollSocketChannel.class : NioSocketChannel.class;
    }

    /** {@code epoll} or {@code nio}, for the start-up log. */
    public String transportName() {
        return epoll ? "epoll" : "nio";
    }

    /** Stops both groups, letting queued tasks run for at most {@code timeout}. */
    public void shutdown(Duration timeout) {
        acceptors.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS);
        workers.shutdownGracefully(0, timeout.toMillis(), TimeUnit.MILLISECONDS);
        acceptors.terminationFuture().awaitUninterruptibly(timeout.toMillis() + 1000);
        workers.terminationFuture().awaitUninterruptibly(timeout.toMillis() + 1000);
    }

    @Override
    public void close() {
        shutdown(Duration.ofSeconds(2));
    }
}
