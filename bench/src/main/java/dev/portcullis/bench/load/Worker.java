package dev.portcullis.bench.load;

import com.fasterxml.jackson.databind.ObjectMapper;
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
import io.netty.util.concurrent.ScheduledFuture;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLException;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * One load-generating process ({@code load-worker}), driven by the coordinator over stdin/stdout.
 *
 * <p>Protocol. In: the {@link WorkerPlan} as one JSON line, then commands, one per line:
 * {@code go} (open the connections), {@code stop-launching}, {@code measure <micros>} (record
 * delivery latency only for publications sent from then on), {@code send} / {@code quiet}
 * (inbound publishing on/off), {@code churn-start} / {@code churn-stop}, {@code range <first> <last>}
 * (count what subscribers missed of those offsets), {@code stop} (close everything, report, exit).
 * End of input counts as {@code stop}. Out, one per line: {@code @setup}, {@code @ready} (every
 * connection of {@code go} opened or failed), {@code @stats k=v ...} (cumulative counters, every
 * second), {@code @hist <name> <base64>} (latencies since the previous one), {@code @min <offset>}
 * (the slowest subscriber), {@code @loss k=v ...}, {@code @error <text>}, {@code @done}. Anything
 * else this process prints goes to stderr.
 *
 * <p>Threads: one event loop per core (or {@code --threads}); connection set-up is paced by a
 * {@link Launcher} on one of them; a reporter thread prints the counters.
 */
final class Worker {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final long REPORT_MS = 1000;

    private final WorkerPlan plan;
    private final PrintStream out;
    private final Counters counters = new Counters();
    private final Recorder handshake = new Recorder(3);
    private final Recorder delivery = new Recorder(3);
    private final Recorder ack = new Recorder(3);
    private final Recorder churnHandshake = new Recorder(3);
    private final Set<WsConnection> live = ConcurrentHashMap.newKeySet();
    private final TokenSource tokens;
    private final List<Target> targets = new ArrayList<>();
    private final List<InetAddress> sources = new ArrayList<>();
    private final byte[] channelBytes;
    private final byte[] sequenceKey;
    private EventLoopGroup group;
    private EventLoop launchLoop;
    private Bootstrap bootstrap;
    private SslContext ssl;
    private String[] mainTokens;
    private String badToken;
    private WsConnection[] connections;
    private Launcher launcher;
    private ScheduledFuture<?> churnTask;
    private int churnInFlight;
    private long churnLaunched;
    private long churnStartNanos;
    private long churnSeq;
    private ScheduledExecutorService reporter;
    private volatile long measureFromMicros = Long.MIN_VALUE;
    private volatile boolean sending;
    private long lastMin = Long.MIN_VALUE;

    Worker(WorkerPlan plan, PrintStream out) {
        this.plan = plan;
        this.out = out;
        this.tokens = new TokenSource(plan);
        this.channelBytes = Scan.ascii(plan.channel() == null ? "" : plan.channel());
        this.sequenceKey = plan.target().sequenceKey();
    }

    /** {@code java -cp portcullis-bench.jar dev.portcullis.bench.Main load-worker}: stdout carries only the protocol. */
    static void main() {
        if (System.getProperty("io.netty.leakDetection.level") == null) {
            // Sampled leak tracking records stack traces on the hot path; ask for it with -Dio.netty.leakDetection.level.
            io.netty.util.ResourceLeakDetector.setLevel(io.netty.util.ResourceLeakDetector.Level.DISABLED);
        }
        PrintStream protocol = new PrintStream(new FileOutputStream(FileDescriptor.out), true, StandardCharsets.UTF_8);
        System.setOut(System.err);
        int code = run(new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)), protocol);
        protocol.flush();
        System.exit(code);
    }

    static int run(BufferedReader in, PrintStream out) {
        Worker worker;
        try {
            String first = in.readLine();
            if (first == null) {
                return 1;
            }
            worker = new Worker(JSON.readValue(first, WorkerPlan.class), out);
            worker.setUp();
        } catch (Exception e) {
            out.println("@error " + oneLine(e));
            return 1;
        }
        out.println("@setup");
        worker.reporter.scheduleAtFixedRate(worker::report, REPORT_MS, REPORT_MS, TimeUnit.MILLISECONDS);
        if (worker.plan.reportMinOffset()) {
            worker.reporter.scheduleAtFixedRate(worker::reportMin, 20, 20, TimeUnit.MILLISECONDS);
        }
        try {
            for (String line; (line = in.readLine()) != null; ) {
                if (!worker.command(line.trim())) {
                    return 0;
                }
            }
        } catch (IOException | RuntimeException e) {
            out.println("@error " + oneLine(e));
        }
        worker.stop();
        return 0;
    }

    private void setUp() throws IOException {
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
        if (plan.scenario().equals("reject")) {
            badToken = tokens.badToken();
        } else if (!plan.target().needsToken() && !tokens.canMint() && plan.tokensFile() == null) {
            mainTokens = new String[plan.connections()]; // the floor: no token at all
        } else {
            mainTokens = tokens.forConnections();
        }
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
        connections = new WsConnection[plan.scenario().equals("reject") ? 0 : plan.connections()];
        reporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "load-report");
            thread.setDaemon(true);
            return thread;
        });
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

    // ---- commands ---------------------------------------------------------------------------------

    private boolean command(String line) {
        String[] words = line.split(" ");
        switch (words[0]) {
            case "go" -> launchLoop.execute(this::go);
            case "stop-launching" -> launchLoop.execute(() -> {
                if (launcher != null) {
                    launcher.stop();
                }
            });
            case "measure" -> measureFromMicros = Long.parseLong(words[1]);
            case "report" -> out.println("@stats seq=" + Long.parseLong(words[1]) + " live=" + live.size() + counters.line());
            case "send" -> {
                sending = true;
                for (WsConnection c : connections) {
                    if (c != null && c.channel() != null) {
                        c.channel().eventLoop().execute(c::startSending);
                    }
                }
            }
            case "quiet" -> sending = false;
            case "churn-start" -> launchLoop.execute(this::startChurn);
            case "churn-stop" -> launchLoop.execute(this::stopChurn);
            case "range" -> loss(Long.parseLong(words[1]), Long.parseLong(words[2]));
            case "stop" -> {
                stop();
                return false;
            }
            case "" -> {}
            default -> out.println("@error unknown command " + words[0]);
        }
        return true;
    }

    private void go() {
        int total = plan.connections();
        if (plan.scenario().equals("reject")) {
            launcher = new Launcher(total, plan.concurrency(), this::openReject, () -> out.println("@ready"));
        } else {
            launcher = new Launcher(total, plan.concurrency(), this::openMain, () -> out.println("@ready"));
        }
        launcher.pump();
    }

    private void openMain(int i) {
        int global = plan.firstConnection() + i;
        Target target = targets.get(global % targets.size());
        WsConnection.Role role = switch (plan.scenario()) {
            case "fanout", "churn" -> WsConnection.Role.SUBSCRIBE;
            case "inbound" -> WsConnection.Role.PUBLISH;
            default -> WsConnection.Role.HOLD;
        };
        WsConnection c = new WsConnection(this, role, global, request(plan.target(), target, mainTokens[i], plan.deflate()));
        mainTokens[i] = null;
        connections[i] = c;
        connect(c, target, global);
    }

    private void openReject(int i) {
        int global = plan.firstConnection() + i;
        Target target = targets.get(global % targets.size());
        connect(new WsConnection(this, WsConnection.Role.REJECT, global, request(plan.target(), target, badToken, plan.deflate())), target, global);
    }

    private void connect(WsConnection c, Target target, long n) {
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

    /** Called once per connection by its event loop when its set-up finished, well or not. */
    void launchDone(WsConnection c, boolean ok) {
        if (c.role == WsConnection.Role.CHURN) {
            launchLoop.execute(() -> churnInFlight--);
        } else if (launcher != null) {
            launchLoop.execute(launcher::done);
        }
    }

    void live(WsConnection c, boolean open) {
        if (open) {
            live.add(c);
        } else {
            live.remove(c);
        }
    }

    // ---- churn --------------------------------------------------------------------------------

    private void startChurn() {
        churnStartNanos = System.nanoTime();
        churnLaunched = 0;
        churnTask = launchLoop.scheduleAtFixedRate(this::churnTick, 0, 10, TimeUnit.MILLISECONDS);
    }

    private void churnTick() {
        long due = (long) ((System.nanoTime() - churnStartNanos) / 1e9 * plan.churnRate());
        while (churnLaunched < due) {
            churnLaunched++;
            if (churnInFlight >= plan.churnConcurrency()) {
                counters.count("churn_skipped"); // the gateway is slower than the asked rate
                continue;
            }
            churnInFlight++;
            long n = plan.firstConnection() + churnSeq++;
            Target target = targets.get((int) (n % targets.size()));
            String token;
            try {
                token = tokens.nextChurnToken();
            } catch (RuntimeException e) {
                out.println("@error " + oneLine(e));
                stopChurn();
                return;
            }
            connect(new WsConnection(this, WsConnection.Role.CHURN, -1, request(plan.target(), target, token, plan.deflate())), target, n);
        }
    }

    private void stopChurn() {
        if (churnTask != null) {
            churnTask.cancel(false);
            churnTask = null;
        }
    }

    // ---- what connections ask -----------------------------------------------------------------

    WorkerPlan plan() {
        return plan;
    }

    Counters counters() {
        return counters;
    }

    Recorder handshake() {
        return handshake;
    }

    Recorder churnHandshake() {
        return churnHandshake;
    }

    Recorder delivery() {
        return delivery;
    }

    Recorder ack() {
        return ack;
    }

    byte[] channelBytes() {
        return channelBytes;
    }

    long measureFromMicros() {
        return measureFromMicros;
    }

    boolean sending() {
        return sending;
    }

    byte[] subscribeMessage() {
        return plan.target().subscribeMessage(plan.channel());
    }

    /** The key of the number a subscriber counts gaps by (the gateway's offset, or node-ws's publisher-written seq). */
    byte[] sequenceKey() {
        return sequenceKey;
    }

    static String room(int index, int rooms) {
        return String.format("00000000-0000-4000-8000-%012x", index % Math.max(1, rooms));
    }

    byte[] roomSubscribeMessage(int index) {
        return Scan.ascii("{\"type\":\"subscribe\",\"id\":\"s\",\"channel\":\"" + plan.namespace() + ":" + room(index, plan.rooms()) + "\"}");
    }

    /** A chat message as examples/chat.schema.json describes it, padded to about {@code --payload-bytes} of data. */
    byte[] publishMessage(int index) {
        String room = room(index, plan.rooms());
        String head = "{\"type\":\"chat\",\"roomId\":\"" + room + "\",\"content\":\"";
        int pad = Math.max(1, plan.payloadBytes() - head.length() - 2);
        return Scan.ascii("{\"type\":\"publish\",\"id\":\"p\",\"channel\":\"" + plan.namespace() + ":" + room + "\",\"data\":"
                + head + "x".repeat(pad) + "\"}}");
    }

    /** A fresh token for re-authentication, or null when this worker cannot mint. */
    String freshToken(int index) {
        return index >= 0 && tokens.canMint() ? tokens.mint(tokens.user(index)) : null;
    }

    // ---- reports ------------------------------------------------------------------------------

    private void report() {
        Scan.reanchor();
        try {
            StringBuilder b = new StringBuilder(512);
            b.append("@stats live=").append(live.size()).append(counters.line());
            out.println(b);
            hist(Histograms.HANDSHAKE, handshake);
            hist(Histograms.DELIVERY, delivery);
            hist(Histograms.ACK, ack);
            hist(Histograms.CHURN_HANDSHAKE, churnHandshake);
        } catch (RuntimeException e) {
            out.println("@error report failed: " + oneLine(e));
        }
    }

    private void hist(String name, Recorder recorder) {
        Histogram interval = recorder.getIntervalHistogram();
        if (interval.getTotalCount() > 0) {
            out.println("@hist " + name + " " + Histograms.encode(interval));
        }
    }

    /** The lowest offset any open subscriber has reached: the coordinator's flow control when saturating. */
    private void reportMin() {
        long min = Long.MAX_VALUE;
        for (WsConnection c : connections) {
            if (c != null && c.subscribedAndOpen()) {
                min = Math.min(min, c.lastOffset);
            }
        }
        if (min != Long.MAX_VALUE && min != lastMin) {
            lastMin = min;
            out.println("@min " + min);
        }
    }

    private void loss(long first, long last) {
        barrier();
        long missing = 0;
        long duplicates = 0;
        long subscribers = 0;
        long complete = 0;
        for (WsConnection c : connections) {
            if (c == null || c.role != WsConnection.Role.SUBSCRIBE) {
                continue;
            }
            subscribers++;
            long m = c.missing(first, last);
            missing += m;
            duplicates += c.duplicates();
            if (m == 0) {
                complete++;
            }
        }
        out.println("@loss missing=" + missing + " duplicates=" + duplicates + " subscribers=" + subscribers + " complete=" + complete);
    }

    /** Waits until every event loop ran everything queued before: their writes are then visible here. */
    private void barrier() {
        for (EventExecutor loop : group) {
            loop.submit(() -> {}).awaitUninterruptibly(5, TimeUnit.SECONDS);
        }
    }

    private void stop() {
        sending = false;
        launchLoop.execute(() -> {
            stopChurn();
            if (launcher != null) {
                launcher.stop();
            }
        });
        for (WsConnection c : live) {
            c.channel().eventLoop().execute(c::closeGracefully);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WsConnection.CLOSE_WAIT_MS + 2000);
        while (!live.isEmpty() && System.nanoTime() < deadline) {
            sleep(50);
        }
        for (WsConnection c : live) {
            c.channel().close();
        }
        sleep(200);
        reporter.shutdown();
        try {
            reporter.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        report();
        out.println("@done");
        group.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(3, TimeUnit.SECONDS);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
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

    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replace('\n', ' ').replace('\r', ' ');
    }

    /**
     * Opens {@code total} connections with at most {@code concurrency} of them in set-up at once.
     * Runs on one event loop only (no locks; completions are handed to that loop).
     */
    private static final class Launcher {
        private final int total;
        private final int concurrency;
        private final java.util.function.IntConsumer open;
        private final Runnable allDone;
        private int next;
        private int inFlight;
        private int completed;
        private boolean stopped;
        private boolean reported;

        Launcher(int total, int concurrency, java.util.function.IntConsumer open, Runnable allDone) {
            this.total = total;
            this.concurrency = Math.max(1, concurrency);
            this.open = open;
            this.allDone = allDone;
        }

        void pump() {
            while (!stopped && inFlight < concurrency && next < total) {
                int i = next++;
                inFlight++;
                open.accept(i);
            }
            finishedCheck();
        }

        void done() {
            inFlight--;
            completed++;
            pump();
        }

        void stop() {
            stopped = true;
            finishedCheck();
        }

        private void finishedCheck() {
            if (!reported && inFlight == 0 && (next >= total || stopped)) {
                reported = true;
                allDone.run();
            }
        }
    }
}
