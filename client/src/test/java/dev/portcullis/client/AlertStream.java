package dev.portcullis.client;

import dev.portcullis.gateway.testing.GatewayProcess;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executor;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * A stream of alerts {@code {"seq": n}} published through gateways' backend API at a paced rate
 * with a bounded number of requests in flight. Each publication has an idempotency key; one that
 * fails (its instance died mid-request, or answered an error) is retried on {@code fallback} with the
 * same key, so it is published once whether or not the first attempt reached Redis. Records the
 * offset each sequence number got.
 */
final class AlertStream {
    private static final int ATTEMPTS = 5;

    private final int max;
    private final int perSecond;
    private final Duration duration;
    private final IntFunction<GatewayProcess> route;
    private final Supplier<GatewayProcess> fallback;
    private final Semaphore inFlight;
    private final AtomicLongArray offsetOfSeq;
    private final AtomicInteger issued = new AtomicInteger();
    private final AtomicInteger published = new AtomicInteger();
    private final AtomicInteger retried = new AtomicInteger();
    private final List<String> failures = new CopyOnWriteArrayList<>();
    private final CompletableFuture<Void> done = new CompletableFuture<>();
    private final Executor retryDelay = CompletableFuture.delayedExecutor(100, TimeUnit.MILLISECONDS);
    private final String run = Long.toHexString(System.nanoTime());
    private volatile boolean stopping;
    private volatile long startedNanos;
    private volatile long finishedNanos;

    /**
     * Alerts at {@code perSecond} for {@code duration} (at most {@code max}; fewer when the gateways
     * cannot take that rate: the stream then goes as fast as they answer, {@code maxInFlight}
     * requests at a time); alert {@code seq} goes to {@code route.apply(seq)} and, when that fails,
     * to {@code fallback.get()}.
     */
    AlertStream(int max, int perSecond, Duration duration, int maxInFlight, IntFunction<GatewayProcess> route,
            Supplier<GatewayProcess> fallback) {
        this.max = max;
        this.perSecond = perSecond;
        this.duration = duration;
        this.route = route;
        this.fallback = fallback;
        this.inFlight = new Semaphore(maxInFlight);
        this.offsetOfSeq = new AtomicLongArray(max + 1);
    }

    AlertStream start() {
        Thread.ofPlatform().daemon().name("alert-stream").start(this::issueAll);
        return this;
    }

    /** Issues no more alerts (those in flight still complete). */
    void stop() {
        stopping = true;
    }

    /** Time since the stream started. */
    Duration elapsed() {
        return startedNanos == 0 ? Duration.ZERO : Duration.ofNanos(System.nanoTime() - startedNanos);
    }

    /** Alerts handed to a gateway so far. */
    int issued() {
        return issued.get();
    }

    /** Waits until every issued alert was acknowledged or gave up; false on timeout. */
    boolean awaitDone(Duration timeout) throws Exception {
        try {
            done.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        }
    }

    int published() {
        return published.get();
    }

    int retried() {
        return retried.get();
    }

    List<String> failures() {
        return failures;
    }

    /** The offset alert {@code seq} got (1-based), or 0. */
    long offsetOf(int seq) {
        return offsetOfSeq.get(seq);
    }

    /**
     * The sequence number published at each offset (index 0 unused), after checking that the
     * published alerts got exactly the offsets 1..{@link #published()}, each once.
     */
    int[] seqByOffset() {
        int count = published.get();
        int[] seqByOffset = new int[count + 1];
        for (int seq = 1; seq <= issued.get(); seq++) {
            long offset = offsetOfSeq.get(seq);
            if (offset < 1 || offset > count || seqByOffset[(int) offset] != 0) {
                throw new AssertionError("alert " + seq + " got offset " + offset + " (published " + count
                        + "); offsets must be 1.." + count + ", each once");
            }
            seqByOffset[(int) offset] = seq;
        }
        return seqByOffset;
    }

    /** Alerts per second from the first request to the last acknowledgement. */
    double achievedPerSecond() {
        return published.get() / ((finishedNanos - startedNanos) / 1e9);
    }

    double seconds() {
        return (finishedNanos - startedNanos) / 1e9;
    }

    private void issueAll() {
        long start = System.nanoTime();
        startedNanos = start;
        long interval = TimeUnit.SECONDS.toNanos(1) / perSecond;
        AtomicInteger outstanding = new AtomicInteger(1); // the issuing loop itself
        try {
            long end = start + duration.toNanos();
            for (int seq = 1; seq <= max && !stopping && System.nanoTime() < end; seq++) {
                long wait = start + (seq - 1) * interval - System.nanoTime();
                if (wait > 0) {
                    LockSupport.parkNanos(wait); // pacing the stream, not waiting for anything
                }
                inFlight.acquireUninterruptibly();
                outstanding.incrementAndGet();
                issued.incrementAndGet();
                int n = seq;
                attempt(n, route.apply(n), 1).whenComplete((offset, failure) -> {
                    inFlight.release();
                    if (failure == null) {
                        offsetOfSeq.set(n, offset);
                        published.incrementAndGet();
                    } else {
                        failures.add("alert " + n + ": " + failure);
                    }
                    finishOne(outstanding);
                });
            }
        } finally {
            finishOne(outstanding);
        }
    }

    private void finishOne(AtomicInteger outstanding) {
        if (outstanding.decrementAndGet() == 0) {
            finishedNanos = System.nanoTime();
            done.complete(null);
        }
    }

    private CompletableFuture<Long> attempt(int seq, GatewayProcess gateway, int attempt) {
        return gateway.admin().publishAsync(GatewayFixture.API_KEY, AlertSubscriber.CHANNEL, "{\"seq\":" + seq + "}", run + "-" + seq)
                .handle((offset, failure) -> {
                    if (failure == null) {
                        return CompletableFuture.completedFuture(offset);
                    }
                    if (attempt >= ATTEMPTS) {
                        return CompletableFuture.<Long>failedFuture(failure);
                    }
                    retried.incrementAndGet();
                    return CompletableFuture.supplyAsync(() -> null, retryDelay)
                            .thenCompose(ignored -> attempt(seq, fallback.get(), attempt + 1));
                })
                .thenCompose(f -> f);
    }
}
