package dev.portcullis.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ConnectTimeoutException;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollChannelOption;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;

/**
 * A worker's sockets: the event loops, the Netty bootstrap (epoll, level-triggered, TLS when a URL
 * asks for it), the targets and source addresses connections are spread over, the upgrade request
 * bytes, and the names of the ways a connect can fail.
 *
 * <p>Its own class because how a socket is opened is the same for every kind of connection the
 * worker makes (the scenario's, the churning ones, bad-token handshakes): {@link Worker} decides
 * what to open and when, this class opens it.
 *
 * <p>Threads: built and {@link #start}ed on the worker's command thread before any connection;
 * {@link #connect} then runs on the launch loop (the {@link Launcher}'s and the churn's), and the
 * lists it reads are never written again.
 */
final class Dialer {
    private final WorkerPlan plan;
    private final Counters counters;
    private final List<Target> targets = new ArrayList<>();
    private final List<InetAddress> sources = new ArrayList<>();
    private SslContext ssl;
    private EventLoopGroup group;
    private EventLoop launchLoop;
    private Bootstrap bootstrap;

    /** Parses the targets and source addresses, checks the file limit and sets up TLS; no thread yet. */
    Dialer(WorkerPlan plan, Counters counters) throws IOException {
        this.plan = plan;
        this.counters = counters;
        for (String url : plan.urls()) {
            targets.add(Target.parse(url, "ws", "wss"));
        }
        for (String source : plan.sourceAddresses()) {
            sources.add(InetAddress.getByName(source));
        }
        checkFileLimit();
        if (targets.stream().anyMatch(Target::tls)) {
            SslContextBuilder builder = SslContextBuilder.forClient();
            if (plan.insecure()) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            }
            ssl = builder.build();
        }
    }

    /** Starts the event loops and sets up the bootstrap. */
    void start() {
        boolean epoll = Epoll.isAvailable();
        IoHandlerFactory factory = epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory();
        group = new MultiThreadIoEventLoopGroup(plan.threads(), new DefaultThreadFactory("load-io-" + plan.index(), true), factory);
        launchLoop = group.next();
        bootstrap = new Bootstrap()
                .group(group)
                .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                .option(ChannelOption.TCP_NODELAY, true)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) Math.min(Integer.MAX_VALUE, plan.connectTimeoutMs()));
        if (epoll) {
            // Level-triggered: one read() per readable socket instead of reading on until EAGAIN (edge-triggered
            // needs a second, empty read per wake-up): at one small message per wake-up that halves our syscalls.
            bootstrap.option(EpollChannelOption.EPOLL_MODE, io.netty.channel.epoll.EpollMode.LEVEL_TRIGGERED);
        }
        if (epoll && !sources.isEmpty()) {
            // Let connect() pick the port per destination: 28k ports per (source, target) pair, not per source.
            bootstrap.option(EpollChannelOption.IP_BIND_ADDRESS_NO_PORT, true);
        }
    }

    /** A worker that would run out of file descriptors says so before it starts. */
    private void checkFileLimit() {
        long limit = openFilesLimit();
        long needed = (long) plan.connections() + (plan.scenario().equals("churn") ? plan.churnConcurrency() : 0) + 200;
        if (plan.scenario().equals("reject")) {
            needed = plan.concurrency() + 200L;
        }
        if (limit > 0 && needed > limit) {
            throw new IllegalStateException("this worker would need " + needed + " file descriptors but may open " + limit
                    + " (the per-process limit; 20,000 on the project machine): spread the connections over more --processes");
        }
    }

    static long openFilesLimit() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
                if (line.startsWith("Max open files")) {
                    String[] parts = line.substring("Max open files".length()).trim().split("\\s+");
                    return parts[0].equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(parts[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // not Linux: no check
        }
        return -1;
    }

    /** The loop connection set-up is paced on. */
    EventLoop launchLoop() {
        return launchLoop;
    }

    /** The URL connection number {@code n} goes to: round-robin. */
    Target target(long n) {
        return targets.get((int) (n % targets.size()));
    }

    /** Opens connection number {@code n} (it picks the source address) to {@code target}; {@code c} handles it. */
    void connect(WsConnection c, Target target, long n) {
        counters.attempts.increment();
        c.startNanos = System.nanoTime();
        Bootstrap b = bootstrap.clone();
        if (target.tls()) {
            b.handler(new ChannelInitializer<SocketChannel>() {
                @Override
                protected void initChannel(SocketChannel ch) {
                    InetSocketAddress a = target.address();
                    ch.pipeline().addLast(ssl.newHandler(ch.alloc(), a.getHostString(), a.getPort()), c);
                }
            });
        } else {
            b.handler(c);
        }
        ChannelFuture connecting = sources.isEmpty()
                ? b.connect(target.address())
                : b.connect(target.address(), new InetSocketAddress(sources.get((int) (n % sources.size())), 0));
        connecting.addListener(f -> {
            if (!f.isSuccess()) {
                c.connectFailed(f.cause());
            }
        });
    }

    static byte[] request(Peer peer, Target target, String token, boolean deflate) {
        StringBuilder b = new StringBuilder(320 + (token == null ? 0 : token.length()));
        b.append("GET ").append(peer.requestTarget(target.pathAndQuery(), token)).append(" HTTP/1.1\r\nHost: ").append(target.hostHeader())
                .append("\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n")
                .append("Sec-WebSocket-Version: 13\r\n");
        if (deflate) {
            b.append("Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n"); // what Chromium offers
        }
        if (token != null && !peer.tokenInQuery()) {
            b.append("Authorization: Bearer ").append(token).append("\r\n");
        }
        return b.append("\r\n").toString().getBytes(StandardCharsets.US_ASCII);
    }

    /** Waits until every event loop ran everything queued before: their writes are then visible here. */
    void barrier() {
        for (EventExecutor loop : group) {
            loop.submit(() -> {}).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    void shutdown() {
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    /** A short, stable name for why a connection failed: the keys of {@code fail.*} in the results. */
    static String failureKind(Throwable cause) {
        for (Throwable c = cause; c != null; c = c.getCause()) {
            String message = String.valueOf(c.getMessage());
            if (c instanceof ConnectTimeoutException) {
                return "connect_timeout";
            }
            if (message.contains("Too many open files")) {
                return "emfile";
            }
            if (message.contains("Cannot assign requested address")) {
                return "no_ports";
            }
            if (message.contains("Connection refused")) {
                return "refused";
            }
            if (message.contains("Connection reset")) {
                return "reset";
            }
            if (message.contains("Broken pipe")) {
                return "broken_pipe";
            }
            if (c instanceof SSLException) {
                return "tls";
            }
        }
        return "io";
    }
}
