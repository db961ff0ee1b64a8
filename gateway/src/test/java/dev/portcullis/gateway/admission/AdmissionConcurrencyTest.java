package dev.portcullis.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Hammers the registries from several threads at once; every count must come back to zero. */
class AdmissionConcurrencyTest {

    static final int THREADS = 8;
    static final int ROUNDS = 20_000;

    final ExecutorService pool = Executors.newFixedThreadPool(THREADS);

    @AfterEach
    void shutdown() {
        pool.shutdownNow();
    }

    @Test
    void acquireAndReleaseFromManyThreadsLeaveNothingBehind() throws Exception {
        var slots = ConnectionSlotsTest.slots(0, 3);
        InetAddress[] addresses = {
            ConnectionSlotsTest.A, ConnectionSlotsTest.B, ConnectionSlotsTest.V6
        };
        AtomicInteger overCap = new AtomicInteger();

        runConcurrently(thread -> {
            List<Slot> held = new ArrayList<>();
            for (int i = 0; i < ROUNDS; i++) {
                InetAddress address = addresses[(thread + i) % addresses.length];
                if (slots.tryAcquire(address) instanceof ConnectionSlots.Acquired acquired) {
                    held.add(acquired.slot());
                    if (slots.activeFor(address) > 3) {
                        overCap.incrementAndGet();
                    }
                }
                if (held.size() > 2 || i % 3 == 0) {
                    for (Slot slot : held) {
                        slot.release();
                        slot.release();
                    }
                    held.clear();
                }
            }
            held.forEach(Slot::release);
        });

        assertThat(overCap).hasValue(0);
        assertThat(slots.active()).isZero();
        assertThat(slots.addresses()).isZero();
    }

    @Test
    void racingAcquiresNeverExceedTheGlobalCap() throws Exception {
        var slots = ConnectionSlotsTest.slots(10, 0);
        AtomicInteger acquired = new AtomicInteger();
        List<Slot> all = java.util.Collections.synchronizedList(new ArrayList<>());

        runConcurrently(thread -> {
            for (int i = 0; i < 1_000; i++) {
                if (slots.tryAcquire(ConnectionSlotsTest.A) instanceof ConnectionSlots.Acquired a) {
                    acquired.incrementAndGet();
                    all.add(a.slot());
                }
            }
        });

        assertThat(acquired).hasValue(10);
        assertThat(slots.active()).isEqualTo(10);
        all.forEach(Slot::release);
        assertThat(slots.active()).isZero();
        assertThat(slots.addresses()).isZero();
    }

    @Test
    void admitAndRemoveFromManyThreadsLetEveryConnectionLeaveExactlyOnce() throws Exception {
        var registry = new UserConnections<Long>(2);
        String[] users = {"alice", "bob", "carol"};
        AtomicLong ids = new AtomicLong();
        AtomicInteger admitted = new AtomicInteger();
        AtomicInteger left = new AtomicInteger();
        AtomicInteger overLimit = new AtomicInteger();

        runConcurrently(thread -> {
            for (int i = 0; i < ROUNDS; i++) {
                String user = users[(thread + i) % users.length];
                long conn = ids.incrementAndGet();
                admitted.incrementAndGet();
                List<Long> evicted = registry.admit(user, conn);
                left.addAndGet(evicted.size());
                if (evicted.contains(conn) || registry.connections(user).size() > 2) {
                    overLimit.incrementAndGet();
                }
                if (i % 2 == 0 && registry.remove(user, conn)) {
                    left.incrementAndGet();
                }
            }
        });
        for (String user : users) {
            for (Long conn : registry.connections(user)) {
                if (registry.remove(user, conn)) {
                    left.incrementAndGet();
                }
            }
        }

        assertThat(overLimit).hasValue(0);
        assertThat(left.get()).isEqualTo(admitted.get());
        assertThat(registry.size()).isZero();
        assertThat(registry.users()).isZero();
    }

    @Test
    void racingAttemptsOfOneUserGetExactlyTheBudget() throws Exception {
        AtomicLong nanos = new AtomicLong();
        var limiter = new ConnectAttemptLimiter(5, nanos::get);
        AtomicInteger allowed = new AtomicInteger();

        runConcurrently(thread -> {
            for (int i = 0; i < 1_000; i++) {
                if (limiter.tryAttempt("alice") instanceof ConnectAttemptLimiter.Allowed) {
                    allowed.incrementAndGet();
                }
                if (thread == 0) {
                    limiter.sweep(); // the bucket is never full again, so a sweep must not reset it
                }
            }
        });

        assertThat(allowed).hasValue(5);
        assertThat(limiter.trackedUsers()).isEqualTo(1);
    }

    interface Work {
        void run(int thread) throws Exception;
    }

    private void runConcurrently(Work work) throws Exception {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Void>> futures = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
            int thread = t;
            Callable<Void> task = () -> {
                start.await();
                work.run(thread);
                return null;
            };
            futures.add(pool.submit(task));
        }
        start.countDown();
        for (Future<Void> future : futures) {
            future.get(60, TimeUnit.SECONDS);
        }
    }
}
