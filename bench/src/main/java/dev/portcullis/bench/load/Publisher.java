package dev.portcullis.bench.load;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.SimpleChannelInboundHandler;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollIoHandler;
import io.netty.channel.epoll.EpollSocketChannel;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpClientCodec;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpObjectAggregator;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.util.InsecureTrustManagerFactory;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import javax.net.ssl.SSLException;
import org.HdrHistogram.Histogram;

/**
 * Publishes {@code {"channel":C,"data":{"ts":<send time, wall-clock microseconds>,"pad":"..."}}}
 * through the admin API ({@code POST /api/publish}) over a few keep-alive connections, one request
 * in flight on each (the admin API does not take pipelined requests).
 *
 * <p>At a fixed rate, publication {@code i} is due at {@code start + i / rate}, and its {@code ts}
 * is that due time, not the moment a free connection sent it: when the API falls behind, the
 * backlog shows in the measured latency instead of being hidden (no coordinated omission).
 * Saturating ({@code rate 0}), a publication is sent whenever fewer than {@code window}
 * publications are ahead of the slowest subscriber, as the workers report it.
 *
 * <p>A server that does not number publications ({@link Peer#numbersPublications()}: node-ws) gets
 * {@code "seq":N} as the data's first field, counted from 0 by this publisher, and any 2xx answer
 * counts as published; subscribers count gaps in that number instead of the offset. It is in order
 * only because such a target gets one publishing connection (see {@link Preflight}).
 *
 * <p>Threading: one event loop owns all state; the coordinator reads the counters (volatile) and,
 * after {@link #finished()}, the rest.
 */
final class Publisher implements AutoCloseable {
    private final Target admin;
    private final Peer peer;
    private final String apiKey;
    private final String channel;
    private final String pad;
    private final EventLoopGroup group;
    private final EventLoop loop;
    private final SslContext ssl;
    private final List<Conn> idle = new ArrayList<>();
    private final List<Conn> all = new ArrayList<>();
    private final Map<Integer, Long> statuses = new TreeMap<>();
    private final Histogram httpLatency = Histograms.empty();
    private final ArrayDeque<Long> backlog = new ArrayDeque<>();
    private double rate;
    private int window;
    private LongSupplier slowest;
    private long startNanos;
    private long startMicros;
    private long endNanos;
    private long due;
    private ScheduledFuture<?> ticker;
    private volatile long published;
    private volatile long failures;
    private volatile long firstOffset = -1;
    private volatile long lastOffset = -1;
    private volatile boolean finished;
    private volatile String fatal;
    private long issued;

    /**
     * The data of {@code --alert-payload}: a realistic alert, about 300 bytes with the {@code ts}, for
     * compression figures (the default padding is one repeated letter, which any compressor shrinks to
     * nothing).
     */
    static final String ALERT_FIELDS = "\"severity\":\"high\",\"title\":\"Disk usage above threshold on db-7\",\"host\":\"db-7.eu-west\","
            + "\"metric\":\"disk.used.percent\",\"value\":93.4,\"threshold\":90,\"since\":\"2026-12-07T20:41:03Z\","
            + "\"runbook\":\"https://runbooks.example.com/disk-usage\",\"tags\":[\"storage\",\"database\"]";

    Publisher(Target admin, Peer peer, String apiKey, String channel, int payloadBytes, boolean alert, boolean insecure) throws SSLException {
        this.admin = admin;
        this.peer = peer;
        this.apiKey = apiKey;
        this.channel = channel;
        this.pad = alert ? ALERT_FIELDS : "\"pad\":\"" + "x".repeat(Math.max(0, payloadBytes - 40)) + "\"";
        boolean epoll = Epoll.isAvailable();
        this.group = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("load-publisher", true),
                epoll ? EpollIoHandler.newFactory() : NioIoHandler.newFactory());
        this.loop = group.next();
        SslContext context = null;
        if (admin.tls()) {
            SslContextBuilder builder = SslContextBuilder.forClient();
            if (insecure) {
                builder.trustManager(InsecureTrustManagerFactory.INSTANCE);
            }
            context = builder.build();
        }
        this.ssl = context;
    }

    /** Opens {@code connections} keep-alive connections to the admin port; throws with a clear message if it cannot. */
    void connect(int connections) {
        boolean epoll = Epoll.isAvailable();
        for (int i = 0; i < connections; i++) {
            Conn conn = new Conn();
            var future = new Bootstrap()
                    .group(loop)
                    .channel(epoll ? EpollSocketChannel.class : NioSocketChannel.class)
                    .option(ChannelOption.TCP_NODELAY, true)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 5000)
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            if (ssl != null) {
                                ch.pipeline().addLast(ssl.newHandler(ch.alloc(), admin.address().getHostString(), admin.address().getPort()));
                            }
                            ch.pipeline().addLast(new HttpClientCodec(), new HttpObjectAggregator(1 << 20), conn);
                        }
                    })
                    .connect(admin.address())
                    .awaitUninterruptibly();
            if (!future.isSuccess()) {
                throw new IllegalStateException("cannot connect to the admin API at " + admin.url() + " ("
                        + Dialer.failureKind(future.cause()) + "): is --admin-url the gateway's admin port (admin.port)?");
            }
            conn.channel = future.channel();
            loop.execute(() -> {
                all.add(conn);
                idle.add(conn);
            });
        }
    }

    /**
     * Publishes for {@code durationNanos} at {@code rate} per second, or saturating within
     * {@code window} publications of {@code slowest} when {@code rate} is 0.
     */
    void start(double rate, long durationNanos, int window, LongSupplier slowest) {
        loop.execute(() -> {
            this.rate = rate;
            this.window = Math.max(1, window);
            this.slowest = slowest;
            this.startNanos = System.nanoTime();
            this.startMicros = Scan.wallMicros();
            this.endNanos = startNanos + durationNanos;
            ticker = loop.scheduleAtFixedRate(this::tick, 0, rate > 0 && rate < 1000 ? Math.max(1000, (long) (1e6 / rate)) : 1000,
                    TimeUnit.MICROSECONDS);
        });
    }

    private void tick() {
        long now = System.nanoTime();
        boolean over = now - endNanos >= 0 || fatal != null;
        if (!over && rate > 0) {
            long shouldHave = Math.min((long) ((now - startNanos) / 1e9 * rate) + 1, (long) Math.ceil((endNanos - startNanos) / 1e9 * rate));
            while (due < shouldHave) {
                backlog.add(startMicros + (long) (due * 1e6 / rate));
                due++;
            }
        }
        if (over) {
            backlog.clear();
        }
        pump();
        if (over && (idle.size() == all.size() || now - endNanos > TimeUnit.SECONDS.toNanos(10))) {
            ticker.cancel(false);
            finished = true;
        }
    }

    private void pump() {
        while (!idle.isEmpty()) {
            long ts;
            if (rate > 0) {
                if (backlog.isEmpty()) {
                    return;
                }
                ts = backlog.poll();
            } else {
                if (System.nanoTime() - endNanos >= 0 || fatal != null || !windowOpen()) {
                    return;
                }
                ts = Scan.wallMicros();
            }
            send(idle.remove(idle.size() - 1), ts);
        }
    }

    /** Fewer than {@code window} publications issued beyond what the slowest subscriber has received. */
    private boolean windowOpen() {
        if (firstOffset < 0) {
            return issued < all.size(); // until the first answer, one per connection
        }
        long reached = Math.max(slowest.getAsLong(), firstOffset - 1);
        long issuedUpTo = firstOffset + issued - 1;
        return issuedUpTo - reached < window;
    }

    private void send(Conn conn, long tsMicros) {
        conn.seq = issued++;
        String seq = peer.numbersPublications() ? "" : "\"seq\":" + conn.seq + ",";
        byte[] body = ("{\"channel\":\"" + channel + "\",\"data\":{" + seq + "\"ts\":" + tsMicros + "," + pad + "}}")
                .getBytes(StandardCharsets.US_ASCII);
        FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.POST, "/api/publish",
                Unpooled.wrappedBuffer(body));
        request.headers()
                .set(HttpHeaderNames.HOST, admin.hostHeader())
                .set(HttpHeaderNames.CONTENT_TYPE, HttpHeaderValues.APPLICATION_JSON)
                .set(HttpHeaderNames.CONTENT_LENGTH, body.length)
                .set(HttpHeaderNames.AUTHORIZATION, "Bearer " + apiKey);
        conn.sentNanos = System.nanoTime();
        conn.channel.writeAndFlush(request).addListener(f -> {
            if (!f.isSuccess()) {
                failed(0, "the admin API connection failed: " + Dialer.failureKind(f.cause()));
            }
        });
    }

    private void answered(Conn conn, FullHttpResponse response) {
        httpLatency.recordValue(Math.max(0, (System.nanoTime() - conn.sentNanos) / 1000));
        int status = response.status().code();
        statuses.merge(status, 1L, Long::sum);
        if (status / 100 == 2) { // the gateway and the floor: 200 {offset, epoch}; node-ws: 202 {ok, delivered}
            ByteBuf body = response.content();
            long offset = peer.numbersPublications() ? Scan.numberAfter(body, body.readerIndex(), body.writerIndex(), Scan.OFFSET) : conn.seq;
            if (offset != Scan.NONE) {
                if (firstOffset < 0 || offset < firstOffset) {
                    firstOffset = offset;
                }
                lastOffset = Math.max(lastOffset, offset);
            }
            published++;
        } else {
            String text = response.content().toString(StandardCharsets.UTF_8);
            switch (status) {
                case 401 -> failed(status, "the admin API refused --api-key (401)");
                case 404 -> failed(status, "no /api/publish at " + admin.url() + " (404): is --admin-url the admin port?");
                case 400, 413 -> failed(status, "the admin API refused the publication (" + status + "): " + text);
                default -> failures++; // 503 and friends: counted, publishing goes on
            }
        }
        idle.add(conn);
        pump();
    }

    private void failed(int status, String message) {
        failures++;
        if (fatal == null) {
            fatal = message;
        }
    }

    boolean finished() {
        return finished;
    }

    String fatal() {
        return fatal;
    }

    long published() {
        return published;
    }

    long failures() {
        return failures;
    }

    long firstOffset() {
        return firstOffset;
    }

    long lastOffset() {
        return lastOffset;
    }

    /** After {@link #finished()}: answers by HTTP status and the API's round-trip times. */
    Map<Integer, Long> statuses() {
        return statuses;
    }

    Histogram httpLatency() {
        return httpLatency;
    }

    @Override
    public void close() {
        for (Conn conn : all) {
            conn.channel.close();
        }
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    private final class Conn extends SimpleChannelInboundHandler<FullHttpResponse> {
        Channel channel;
        long sentNanos;
        /** The publisher's number of the request in flight (node-ws: its {@code seq}). */
        long seq;

        @Override
        protected void channelRead0(ChannelHandlerContext ctx, FullHttpResponse response) {
            answered(this, response);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!finished) {
                failed(0, "the admin API closed a connection");
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }
    }
}
