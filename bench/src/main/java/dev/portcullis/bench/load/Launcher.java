package dev.portcullis.bench.load;

import java.util.function.IntConsumer;

/**
 * Opens {@code total} connections with at most {@code concurrency} of them in set-up at once, and
 * says when every one of them opened or failed (the worker's {@code @ready}).
 *
 * <p>Its own class because the pacing is the same whatever is opened (a scenario's connections,
 * bad-token handshakes) and owes nothing to the worker's other state.
 *
 * <p>Threads: runs on one event loop only, the worker's launch loop (no locks; completions and
 * {@link #stop} are handed to that loop).
 */
final class Launcher {
    private final int total;
    private final int concurrency;
    private final IntConsumer open;
    private final Runnable allDone;
    private int next;
    private int inFlight;
    private int completed;
    private boolean stopped;
    private boolean reported;

    Launcher(int total, int concurrency, IntConsumer open, Runnable allDone) {
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
