package dev.portcullis.gateway.transport;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongPredicate;

/**
 * Real WebSocket traffic over loopback against a gateway of this process: what the warm-up before
 * readiness and the AOT cache's training run ({@code portcullis train}) drive, so that the JIT has
 * compiled (or the cache holds) the handshake, message and fan-out paths before clients arrive.
 *
 * <p>{@link #HOLDERS} connections subscribe to channel {@code warmup} and stay, answering
 * {@code reauth}, until {@link #SETTLE_MILLIS} before the end; {@link #CYCLES_IN_FLIGHT} slots then repeat a connection's whole life (upgrade with
 * a bearer token, {@code connected}, subscribe to the slot's own {@code warmup:<slot>}, ping, publish
 * on {@code warmup}, which fans out to the holders, close handshake). The cycles keep off the
 * holders' channel so that its join/leave events do not multiply the fan-out per handshake: the
 * handshake is what a cold start pays for most. Slot {@link #BARE_SLOT} only connects and leaves,
 * with a token that carries no more than the rules require. Every
 * {@link #ADMIN_EVERY}th cycle also publishes through the backend API; the first one also reads
 * {@code /metrics}, once: a scrape every few seconds gains nothing from being compiled, and scraping
 * with every API publish gave the one C2 compiler thread of a 2-core machine ~1 s of metrics code to
 * compile while the handshake path waited in its queue (BENCHMARKS.md, "Cold start, round 4").
 * The client speaks the wire format directly on raw bytes (a fixed request, frames masked with a
 * fixed key, a {@code type} prefix match on answers): it is cheap next to the server, whose code is
 * what is being warmed.
 *
 * <p>Threads: each connection's handler is confined to its channel's event loop; the counters are
 * atomics; {@link #run} blocks the calling thread (never an event loop) until the deadline, the
 * {@code enough} signal, or a run of failures, and then at most {@link #CLOSE_WAIT_MILLIS} more.
 */
public final class WarmupTraffic {
    /** Connections that stay subscribed for the whole run. */
    public static final int HOLDERS = 16;
    /**
     * Few on purpose: the traffic only has to call each path often enough to be compiled, and the
     * JIT's compiler threads share the cores with it. With 32 in flight on 2 cores the loops left the
     * compiler so little that ~450 methods were still compiled after ready; with 4, ~150, and the
     * first 10,000 real handshakes cost ~12% less (BENCHMARKS.md, "Cold start, round 3").
     */
    static final int CYCLES_IN_FLIGHT = 4;
    /**
     * The cycle slot whose connections only upgrade, read {@code connected} and close, with a bare
     * token (no permissions claim, no {@code nbf}, nothing optional): what a client that only takes
     * its personal alerts does. With only full tokens in the warm-up, the first real token without an
     * optional claim took branches (an absent claim, empty permissions) that the compiled handshake
     * had never seen, and deoptimised it for everyone right after ready (BENCHMARKS.md, "Cold start,
     * round 4").
     */
    public static final int BARE_SLOT = CYCLES_IN_FLIGHT - 1;
    static final int ADMIN_EVERY = 32;
    private static final long CLOSE_WAIT_MILLIS = 2000;
    /**
     * How long the cycles go on after the holders left (at most a quarter of the budget). The
     * holders' leaving takes paths nothing else in the warm-up takes (the last member of a channel,
     * presence and join/leave events for many at once), and the JIT threw away the compiled frame
     * and close handling on them: when that was the end of the warm-up, it was compiled again only
     * after ready, while the first clients waited (BENCHMARKS.md, "Cold start, round 4").
     */
    static final long SETTLE_MILLIS = 1500;
    /** A connection that makes no progress for this long is closed (and counted as failed). */
    private static final long STALL_MILLIS = 5000;
    /** Stop after this many failed connections in a row: the target does not serve (warm-up is best effort). */
    private static final int FAILURES_IN_A_ROW = 50;


    /**
     * @param target the public listener
     * @param path its {@code server.path}
     * @param admin the admin listener
     * @param apiKey a key of {@code admin.api-keys}
     * @param tokens bearer tokens with {@code rw} on channel {@code warmup}, one distinct user each;
     *     at least {@link #HOLDERS} + {@link #CYCLES_IN_FLIGHT} of them; the one at {@link #bareToken}
     *     should carry only the claims the rules require
     */
    public record Target(InetSocketAddress target, String path, InetSocketAddress admin, String apiKey, List<String> tokens) {
        public Target {
            tokens = List.copyOf(tokens);
            if (tokens.size() < HOLDERS + CYCLES_IN_FLIGHT) {
                throw new IllegalArgumentException("the warm-up needs " + (HOLDERS + CYCLES_IN_FLIGHT) + " tokens");
            }
        }
    }

    /**
     * What the run did.
     *
     * @param handshakes upgrades answered 101
     * @param failures connections that did not complete their cycle
     * @param deliveries publications the holders received
     * @param adminRequests backend API and metrics requests answered 2xx
     * @param stoppedBy {@code deadline}, {@code enough} or {@code failures}
     */
    public record Result(long handshakes, long failures, long deliveries, long adminRequests, String stoppedBy) {}

    /** Whether token {@code index} of {@link Target#tokens} goes to the {@link #BARE_SLOT} (it needs no permissions). */
    public static boolean bareToken(int index) {
        return index == HOLDERS + BARE_SLOT;
    }

    /** Tokens the total needs: {@link #HOLDERS} + {@link #CYCLES_IN_FLIGHT}. */
    public static int tokensNeeded() {
        return HOLDERS + CYCLES_IN_FLIGHT;
    }

    private final EventLoopGroup group;
    private final Class<? extends Channel> channelClass;
    private final Target target;
    private final AtomicLong handshakes = new AtomicLong();
    private final AtomicLong failures = new AtomicLong();
    private final AtomicLong failuresInARow = new AtomicLong();
    private final AtomicLong deliveries = new AtomicLong();
    private final AtomicLong adminRequests = new AtomicLong();
    private final AtomicLong cycles = new AtomicLong();
    private final List<Channel> open = new ArrayList<>();
    /** The holders' channels, once connected (guarded by {@link #open}'s lock). */
    private final List<Channel> holders = new ArrayList<>();
    private final CountDownLatch holdersSubscribed = new CountDownLatch(HOLDERS);
    private volatile boolean stopping;

    private WarmupTraffic(EventLoops loops, Target target) {
        this.group = loops.workers();
        this.channelClass = loops.socketChannelClass();
        this.target = target;
    }

    /**
     * Drives the traffic until {@code deadlineNanos} ({@link System#nanoTime}) or until {@code enough}
     * says so (asked every 50 ms), then closes every connection it opened.
     */
    public static Result run(EventLoops loops, Target target, long deadlineNanos, LongPredicate enough) throws InterruptedException {
        return new WarmupTraffic(loops, target).drive(deadlineNanos, enough);
    }

    private Result drive(long deadlineNanos, LongPredicate enough) throws InterruptedException {
        long settleNanos = Math.min(TimeUnit.MILLISECONDS.toNanos(SETTLE_MILLIS), Math.max(0, deadlineNanos - System.nanoTime()) / 4);
        for (int i = 0; i < HOLDERS; i++) {
            connect(new Connection(Role.HOLDER, target.tokens().get(i), WarmupFrames.SUBSCRIBE));
        }
        holdersSubscribed.await(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
        for (int slot = 0; slot < CYCLES_IN_FLIGHT; slot++) {
            connect(new Connection(Role.CYCLE, target.tokens().get(HOLDERS + slot),
                    slot == BARE_SLOT ? null : WarmupFrames.subscribe("warmup:" + slot)));
        }
        String stoppedBy = await(deadlineNanos - settleNanos, enough);
        if (!stoppedBy.equals("failures")) {
            // The holders leave while the cycles go on (see SETTLE_MILLIS).
            List<Channel> leaving;
            synchronized (open) {
                leaving = new ArrayList<>(holders);
            }
            closeAll(leaving);
            await(Math.min(deadlineNanos, System.nanoTime() + settleNanos), handshakes -> false);
        }
        stopping = true;
        List<Channel> left;
        synchronized (open) {
            left = new ArrayList<>(open);
        }
        closeAll(left);
        return new Result(handshakes.get(), failures.get(), deliveries.get(), adminRequests.get(), stoppedBy);
    }

    /** Waits until {@code untilNanos}, or {@code enough}, or a run of failures; says which. */
    private String await(long untilNanos, LongPredicate enough) throws InterruptedException {
        while (System.nanoTime() - untilNanos < 0) {
            if (failuresInARow.get() >= FAILURES_IN_A_ROW) {
                return "failures";
            }
            if (enough.test(handshakes.get())) {
                return "enough";
            }
            Thread.sleep(50);
        }
        return "deadline";
    }

    /** Sends each a close frame and waits up to {@link #CLOSE_WAIT_MILLIS} in all for them to close. */
    private static void closeAll(List<Channel> channels) throws InterruptedException {
        for (Channel channel : channels) {
            channel.eventLoop().execute(() -> {
                if (channel.isActive()) {
                    channel.writeAndFlush(Unpooled.wrappedBuffer(WarmupFrames.CLOSE));
                }
            });
        }
        long closeBy = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(CLOSE_WAIT_MILLIS);
        for (Channel channel : channels) {
            if (!channel.closeFuture().await(Math.max(0, TimeUnit.NANOSECONDS.toMillis(closeBy - System.nanoTime())))) {
                channel.close();
            }
        }
    }

    private void connect(ChannelInboundHandlerAdapter handler) {
        if (stopping) {
            return;
        }
        boolean admin = handler instanceof WarmupAdminRequest;
        new Bootstrap().group(group).channel(channelClass)
                .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) STALL_MILLIS)
                .handler(handler)
                .connect(admin ? target.admin() : target.target())
                .addListener(f -> {
                    if (!f.isSuccess() && !admin) {
                        ((Connection) handler).failed();
                    }
                });
    }

    private void track(Channel channel) {
        synchronized (open) {
            open.add(channel);
        }
        channel.closeFuture().addListener(f -> {
            synchronized (open) {
                open.remove(channel);
            }
        });
    }

    private enum Role { HOLDER, CYCLE }

    /** One WebSocket connection: a holder that stays subscribed, or one pass of a cycle slot. */
    private final class Connection extends ChannelInboundHandlerAdapter {
        private final Role role;
        private final String token;
        private final byte[] subscribe; // null: the bare slot, which does not subscribe
        private ByteBuf received;
        private boolean upgraded;
        private boolean done;
        private boolean counted;

        Connection(Role role, String token, byte[] subscribe) {
            this.role = role;
            this.token = token;
            this.subscribe = subscribe;
        }

        @Override
        public void channelActive(ChannelHandlerContext ctx) {
            track(ctx.channel());
            if (role == Role.HOLDER) {
                synchronized (open) {
                    holders.add(ctx.channel());
                }
            }
            received = ctx.alloc().buffer(512);
            ctx.executor().schedule(() -> {
                if (!done && role == Role.CYCLE) {
                    ctx.close(); // stalled: closing counts it as failed
                }
            }, STALL_MILLIS, TimeUnit.MILLISECONDS);
            String request = "GET " + target.path() + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                    + "Authorization: Bearer " + token + "\r\n\r\n";
            ctx.writeAndFlush(Unpooled.wrappedBuffer(request.getBytes(StandardCharsets.US_ASCII)));
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            ByteBuf in = (ByteBuf) msg;
            try {
                received.writeBytes(in);
            } finally {
                in.release();
            }
            if (!upgraded) {
                int end = WarmupFrames.headerEnd(received);
                if (end < 0) {
                    return;
                }
                String status = received.toString(received.readerIndex(), Math.min(12, end), StandardCharsets.US_ASCII);
                if (!status.endsWith(" 101")) {
                    ctx.close();
                    return;
                }
                upgraded = true;
                handshakes.incrementAndGet();
                received.readerIndex(end);
            }
            readFrames(ctx);
            received.discardReadBytes();
        }

        private void readFrames(ChannelHandlerContext ctx) {
            while (received.readableBytes() >= 2) {
                int start = received.readerIndex();
                int opcode = received.getByte(start) & 0x0F;
                int length = received.getByte(start + 1) & 0x7F;
                int header = 2;
                if (length == 126) {
                    if (received.readableBytes() < 4) {
                        return;
                    }
                    length = received.getUnsignedShort(start + 2);
                    header = 4;
                } else if (length == 127) {
                    ctx.close(); // nothing the gateway sends here is that large
                    return;
                }
                if (received.readableBytes() < header + length) {
                    return;
                }
                String text = opcode == 1 ? received.toString(start + header, length, StandardCharsets.UTF_8) : null;
                received.readerIndex(start + header + length);
                switch (opcode) {
                    case 1 -> onText(ctx, text);
                    case 8 -> { // the server's close (an answer to ours, or its own): the TCP close follows
                        done = true;
                        ctx.close();
                    }
                    case 9 -> ctx.writeAndFlush(Unpooled.wrappedBuffer(WarmupFrames.PONG));
                    default -> { }
                }
            }
        }

        private void onText(ChannelHandlerContext ctx, String text) {
            if (text.startsWith("{\"type\":\"connected\"")) {
                if (subscribe == null) { // the bare slot: connected is all it came for
                    done = true;
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(WarmupFrames.CLOSE));
                } else {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(subscribe));
                }
            } else if (text.startsWith("{\"type\":\"ack\",\"id\":\"s\"")) {
                if (role == Role.HOLDER) {
                    holdersSubscribed.countDown();
                } else {
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(WarmupFrames.PING));
                    ctx.writeAndFlush(Unpooled.wrappedBuffer(WarmupFrames.PUBLISH));
                }
            } else if (text.startsWith("{\"type\":\"ack\",\"id\":\"p\"")) {
                done = true;
                ctx.writeAndFlush(Unpooled.wrappedBuffer(WarmupFrames.CLOSE));
            } else if (text.startsWith("{\"type\":\"message\"")) {
                if (role == Role.HOLDER) {
                    deliveries.incrementAndGet();
                }
            } else if (text.startsWith("{\"type\":\"reauth\"")) {
                ctx.writeAndFlush(Unpooled.wrappedBuffer(WarmupFrames.frame("{\"type\":\"auth\",\"id\":\"r\",\"token\":\"" + token + "\"}")));
            }
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            received.release();
            if (done && role == Role.CYCLE) {
                failuresInARow.set(0);
                next();
            } else if (!done && !stopping) {
                failed();
            }
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close();
        }

        /** This pass did not complete (refused, reset, stalled, or no connection at all). */
        void failed() {
            if (counted) {
                return;
            }
            counted = true;
            failures.incrementAndGet();
            failuresInARow.incrementAndGet();
            if (role == Role.CYCLE) {
                next();
            }
        }

        private void next() {
            if (stopping) {
                return;
            }
            long cycle = cycles.incrementAndGet();
            if (cycle % ADMIN_EVERY == 1) { // from the first cycle on
                connect(new WarmupAdminRequest(WarmupAdminRequest.publish(target.apiKey()), WarmupTraffic.this::track, adminRequests, STALL_MILLIS));
            }
            if (cycle == 1) {
                connect(new WarmupAdminRequest(WarmupAdminRequest.METRICS, WarmupTraffic.this::track, adminRequests, STALL_MILLIS));
            }
            connect(new Connection(Role.CYCLE, token, subscribe));
        }
    }
}
