package dev.portcullis.bench.load;

import io.netty.util.concurrent.ScheduledFuture;
import java.io.PrintStream;
import java.util.concurrent.TimeUnit;

/**
 * The churn scenario's coming and going clients: every 10 ms as many new connections as the asked
 * rate makes due since {@code churn-start}, at most {@code --churn-concurrency} of them alive at
 * once (a due one beyond that is skipped and counted); each opens, gets {@code connected} and closes.
 *
 * <p>Its own class because this pacing and its counts stand apart from the worker's main
 * connections, which the {@link Launcher} opens once and keeps.
 *
 * <p>Threads: everything runs on the worker's launch loop (the ticks are scheduled there, and the
 * worker hands {@link #done} and {@link #start}/{@link #stop} to it), so the counts need no locks.
 */
final class ChurnLauncher {
    private final Worker worker;
    private final WorkerPlan plan;
    private final Dialer dialer;
    private final TokenSource tokens;
    private final PrintStream out;
    private ScheduledFuture<?> task;
    private int inFlight;
    private long launched;
    private long startNanos;
    private long seq;

    ChurnLauncher(Worker worker, Dialer dialer, TokenSource tokens, PrintStream out) {
        this.worker = worker;
        this.plan = worker.plan();
        this.dialer = dialer;
        this.tokens = tokens;
        this.out = out;
    }

    void start() {
        startNanos = System.nanoTime();
        launched = 0;
        task = dialer.launchLoop().scheduleAtFixedRate(this::tick, 0, 10, TimeUnit.MILLISECONDS);
    }

    private void tick() {
        long due = (long) ((System.nanoTime() - startNanos) / 1e9 * plan.churnRate());
        while (launched < due) {
            launched++;
            if (inFlight >= plan.churnConcurrency()) {
                worker.counters().count("churn_skipped"); // the gateway is slower than the asked rate
                continue;
            }
            inFlight++;
            long n = plan.firstConnection() + seq++;
            Target target = dialer.target(n);
            String token;
            try {
                token = tokens.nextChurnToken();
            } catch (RuntimeException e) {
                out.println("@error " + Worker.oneLine(e));
                stop();
                return;
            }
            dialer.connect(new WsConnection(worker, WsConnection.Role.CHURN, -1, Dialer.request(plan.target(), target, token, plan.deflate())),
                    target, n);
        }
    }

    /** A churning connection finished its set-up, well or not. */
    void done() {
        inFlight--;
    }

    void stop() {
        if (task != null) {
            task.cancel(false);
            task = null;
        }
    }
}
