package dev.portcullis.gateway.cluster;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * At most {@code max} history reads in flight; the rest wait their turn. After a reconnect every
 * channel with local subscribers catches up at once, and 100k reads sent together would only fill
 * the command queue and time out.
 *
 * <p>A read submitted while there is room runs on the caller's thread; a queued one starts on
 * {@code executor}, never inside another read's completion: the callers hold their channel's lock,
 * and running another channel's read there (whose completion may take that channel's lock at once)
 * could deadlock two channels. Thread-safe.
 */
final class PacedReads {
    private final int max;
    private final Executor executor;
    private final Queue<Runnable> queued = new ConcurrentLinkedQueue<>();
    private final AtomicInteger running = new AtomicInteger();

    PacedReads(int max, Executor executor) {
        this.max = max;
        this.executor = executor;
    }

    /** Runs {@code read} now or later; the read must call {@link #done()} once when it has finished. */
    void submit(Runnable read) {
        if (tryAcquire()) {
            read.run();
            return;
        }
        queued.add(read);
        if (running.get() < max) { // every running read finished before this one was queued
            drainLater();
        }
    }

    /** A read finished: the next queued one may start. */
    void done() {
        running.decrementAndGet();
        if (!queued.isEmpty()) {
            drainLater();
        }
    }

    private void drainLater() {
        try {
            executor.execute(this::drain);
        } catch (RejectedExecutionException shuttingDown) {
            queued.clear();
        }
    }

    private void drain() {
        while (!queued.isEmpty() && tryAcquire()) {
            Runnable next = queued.poll();
            if (next == null) {
                running.decrementAndGet();
            } else {
                next.run();
            }
        }
    }

    private boolean tryAcquire() {
        for (int now = running.get(); now < max; now = running.get()) {
            if (running.compareAndSet(now, now + 1)) {
                return true;
            }
        }
        return false;
    }
}
