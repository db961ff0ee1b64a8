package dev.portcullis.gateway.transport;

import io.netty.channel.Channel;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.ServerChannel;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.channel.uring.IoUring;
import io.netty.channel.uring.IoUringIoHandler;
import io.netty.channel.uring.IoUringIoHandlerConfig;
import io.netty.channel.uring.IoUringServerSocketChannel;
import io.netty.channel.uring.IoUringSocketChannel;
import io.netty.util.concurrent.DefaultThreadFactory;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The gateway's threads: one acceptor thread and {@code ioThreads} I/O threads, on the chosen
 * {@link Transport}. Both listeners share them.
 */
public final class EventLoops implements AutoCloseable {
    /**
     * How sockets are driven. {@code auto} is epoll where the native transport loads and NIO
     * otherwise; io_uring is never picked by {@code auto}, because kernels and container runtimes
     * that allow it are the exception (seccomp profiles and {@code kernel.io_uring_disabled} often
     * forbid it) and because it only pays where one loop writes to many sockets at once (see
     * BENCHMARKS.md, "Fan-out kernel time").
     */
    public enum Transport {
        AUTO, EPOLL, IO_URING, NIO;

        /** {@code auto}, {@code epoll}, {@code io_uring} or {@code nio}, as in the configuration. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** @throws IllegalArgumentException naming the accepted values */
        public static Transport parse(String value) {
            for (Transport t : values()) {
                if (t.configName().equals(value)) {
                    return t;
                }
            }
            throw new IllegalArgumentException("'" + value + "' is not one of auto, epoll, io_uring, nio");
        }

        /**
         * Why this transport cannot run here, or null when it can ({@code auto} always can). The
         * native libraries load lazily: this is where a missing library or a forbidding kernel shows.
         */
        public String unavailableReason() {
            Throwable cause = switch (this) {
                case AUTO, NIO -> null;
                case EPOLL -> Epoll.isAvailable() ? null : Epoll.unavailabilityCause();
                case IO_URING -> IoUring.isAvailable() ? null : IoUring.unavailabilityCause();
            };
            return cause == null ? null : configName() + " is not available here: " + cause;
        }

        private Transport resolve() {
            String reason = unavailableReason();
            if (reason != null) {
                throw new IllegalStateException(reason);
            }
            return this == AUTO ? (Epoll.isAvailable() ? EPOLL : NIO) : this;
        }
    }

    /** Completion queue entries per io_uring loop (16 bytes each): 256 KiB a loop. */
    static final int IO_URING_CQ_SIZE = 16_384;

    private final EventLoopGroup acceptors;
    private final EventLoopGroup workers;
    private final Transport transport;

    /** The gateway's threads, named {@code portcullis-accept} and {@code portcullis-io}. */
    public EventLoops(int ioThreads, Transport transport) {
        this(ioThreads, transport, "portcullis");
    }

    /**
     * @param threadPrefix names the threads ({@code PREFIX-accept}, {@code PREFIX-io})
     * @throws IllegalStateException when {@code transport} cannot run here
     */
    public EventLoops(int ioThreads, Transport transport, String threadPrefix) {
        this.transport = transport.resolve();
        IoHandlerFactory factory = switch (this.transport) {
            case EPOLL -> EpollIoHandler.newFactory();
            // The completion queue holds a completion per socket written in one loop turn (a
            // publication to thousands of subscribers) plus a burst of connects; Netty's default of
            // 4,096 overflows then (no completion is lost, the kernel backs them up slowly).
            case IO_URING -> IoUringIoHandler.newFactory(new IoUringIoHandlerConfig().setCqSize(IO_URING_CQ_SIZE));
            default -> NioIoHandler.newFactory();
        };
        this.acceptors = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory(threadPrefix + "-accept", true), factory);
        this.workers = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory(threadPrefix + "-io", true), factory);
    }

    public EventLoopGroup acceptors() {
        return acceptors;
    }

    public EventLoopGroup workers() {
        return workers;
    }

    public Class<? extends ServerChannel> serverChannelClass() {
        return switch (transport) {
            case EPOLL -> EpollServerSocketChannel.class;
            case IO_URING -> IoUringServerSocketChannel.class;
            default -> NioServerSocketChannel.class;
        };
    }

    /** The client socket class of this transport (the warm-up's loopback client runs on these loops). */
    public Class<? extends Channel> socketChannelClass() {
        return switch (transport) {
            case EPOLL -> EpollSocketChannel.class;
            case IO_URING -> IoUringSocketChannel.class;
            default -> NioSocketChannel.class;
        };
    }

    /** {@code epoll}, {@code io_uring} or {@code nio}, for the start-up log. */
    public String transportName() {
        return transport.configName();
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
