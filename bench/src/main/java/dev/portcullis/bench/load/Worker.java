package dev.portcullis.bench.load;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
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
 * <p>Threads: one event loop per core (or {@code --threads}, {@link Dialer}); connection set-up is
 * paced by a {@link Launcher} on one of them, the launch loop, as is the {@link ChurnLauncher}; a reporter
 * thread prints the counters ({@link WorkerReports}); commands are read on the calling thread.
 */
final class Worker {
    static final ObjectMapper JSON = new ObjectMapper();
    private static final long REPORT_MS = 1000;

    private final WorkerPlan plan;
    private final PrintStream out;
    private final WorkerReports reports;
    private final TokenSource tokens;
    private final byte[] channelBytes;
    private final byte[] sequenceKey;
    private Dialer dialer;
    private String[] mainTokens;
    private String badToken;
    private WsConnection[] connections;
    private Launcher launcher;
    private ChurnLauncher churn;
    private ScheduledExecutorService reporter;
    private volatile long measureFromMicros = Long.MIN_VALUE;
    private volatile boolean sending;

    Worker(WorkerPlan plan, PrintStream out) {
        this.plan = plan;
        this.out = out;
        this.reports = new WorkerReports(out);
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
        worker.reporter.scheduleAtFixedRate(worker.reports::report, REPORT_MS, REPORT_MS, TimeUnit.MILLISECONDS);
        if (worker.plan.reportMinOffset()) {
            worker.reporter.scheduleAtFixedRate(() -> worker.reports.reportMin(worker.connections), 20, 20, TimeUnit.MILLISECONDS);
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
        dialer = new Dialer(plan, reports.counters());
        if (plan.scenario().equals("reject")) {
            badToken = tokens.badToken();
        } else if (!plan.target().needsToken() && !tokens.canMint() && plan.tokensFile() == null) {
            mainTokens = new String[plan.connections()]; // the floor: no token at all
        } else {
            mainTokens = tokens.forConnections();
        }
        dialer.start();
        churn = new ChurnLauncher(this, dialer, tokens, out);
        connections = new WsConnection[plan.scenario().equals("reject") ? 0 : plan.connections()];
        reporter = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "load-report");
            thread.setDaemon(true);
            return thread;
        });
    }

    // ---- commands ---------------------------------------------------------------------------------

    private boolean command(String line) {
        String[] words = line.split(" ");
        switch (words[0]) {
            case "go" -> dialer.launchLoop().execute(this::go);
            case "stop-launching" -> dialer.launchLoop().execute(() -> {
                if (launcher != null) {
                    launcher.stop();
                }
            });
            case "measure" -> measureFromMicros = Long.parseLong(words[1]);
            case "report" -> reports.stats(Long.parseLong(words[1]));
            case "send" -> {
                sending = true;
                for (WsConnection c : connections) {
                    if (c != null && c.channel() != null) {
                        c.channel().eventLoop().execute(c::startSending);
                    }
                }
            }
            case "quiet" -> sending = false;
            case "churn-start" -> dialer.launchLoop().execute(churn::start);
            case "churn-stop" -> dialer.launchLoop().execute(churn::stop);
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
        Target target = dialer.target(global);
        WsConnection.Role role = switch (plan.scenario()) {
            case "fanout", "churn" -> WsConnection.Role.SUBSCRIBE;
            case "inbound" -> WsConnection.Role.PUBLISH;
            default -> WsConnection.Role.HOLD;
        };
        WsConnection c = new WsConnection(this, role, global, Dialer.request(plan.target(), target, mainTokens[i], plan.deflate()));
        mainTokens[i] = null;
        connections[i] = c;
        dialer.connect(c, target, global);
    }

    private void openReject(int i) {
        int global = plan.firstConnection() + i;
        Target target = dialer.target(global);
        dialer.connect(new WsConnection(this, WsConnection.Role.REJECT, global, Dialer.request(plan.target(), target, badToken, plan.deflate())), target, global);
    }

    /** Called once per connection by its event loop when its set-up finished, well or not. */
    void launchDone(WsConnection c, boolean ok) {
        if (c.role == WsConnection.Role.CHURN) {
            dialer.launchLoop().execute(churn::done);
        } else if (launcher != null) {
            dialer.launchLoop().execute(launcher::done);
        }
    }

    void live(WsConnection c, boolean open) {
        reports.live(c, open);
    }

    // ---- what connections ask -----------------------------------------------------------------

    WorkerPlan plan() {
        return plan;
    }

    Counters counters() {
        return reports.counters();
    }

    Recorder handshake() {
        return reports.handshake();
    }

    Recorder churnHandshake() {
        return reports.churnHandshake();
    }

    Recorder delivery() {
        return reports.delivery();
    }

    Recorder ack() {
        return reports.ack();
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

    // ---- the end ------------------------------------------------------------------------------

    private void loss(long first, long last) {
        dialer.barrier();
        reports.loss(connections, first, last);
    }

    private void stop() {
        sending = false;
        dialer.launchLoop().execute(() -> {
            churn.stop();
            if (launcher != null) {
                launcher.stop();
            }
        });
        for (WsConnection c : reports.live()) {
            c.channel().eventLoop().execute(c::closeGracefully);
        }
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(WsConnection.CLOSE_WAIT_MS + 2000);
        while (!reports.live().isEmpty() && System.nanoTime() < deadline) {
            sleep(50);
        }
        for (WsConnection c : reports.live()) {
            c.channel().close();
        }
        sleep(200);
        reporter.shutdown();
        try {
            reporter.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        reports.report();
        out.println("@done");
        dialer.shutdown();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String oneLine(Throwable e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replace('\n', ' ').replace('\r', ' ');
    }
}
