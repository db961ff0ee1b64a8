package dev.portcullis.gateway.channel;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.UnpooledByteBufAllocator;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class SubscriptionIndexTest {
    private final ExecutorService loop = Executors.newSingleThreadExecutor();
    private final SubscriptionIndex index = new SubscriptionIndex();

    @AfterEach
    void stop() throws InterruptedException {
        loop.shutdown();
        assertThat(loop.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
    }

    /** Records what the index calls, on the loop; "flush" marks each flush. */
    private class Recorder implements Subscriber {
        final List<String> calls = new ArrayList<>();

        @Override
        public java.util.concurrent.Executor executor() {
            return loop;
        }

        @Override
        public void deliver(Publication publication) {
            calls.add(Long.toString(publication.offset()));
        }

        @Override
        public void flush() {
            calls.add("flush");
        }
    }

    private static Publication publication(long offset) {
        return Publication.encode(UnpooledByteBufAllocator.DEFAULT, "alerts", offset, "e1", "{\"n\":" + offset + "}");
    }

    /** Keeps the loop busy until the returned latch is counted down, so that publications queue up. */
    private CountDownLatch holdLoop() {
        CountDownLatch release = new CountDownLatch(1);
        loop.execute(() -> {
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        return release;
    }

    private void onLoop(Runnable task) throws Exception {
        loop.submit(task).get(5, TimeUnit.SECONDS);
    }

    @Test
    void aPublicationIsWrittenAndFlushedToEveryMember() throws Exception {
        Recorder a = new Recorder();
        Recorder b = new Recorder();
        onLoop(() -> {
            index.subscribe("alerts", a);
            index.subscribe("alerts", b);
        });
        Publication p = publication(1);
        assertThat(index.publish(p)).isEqualTo(2);
        p.release();
        onLoop(() -> {});
        assertThat(a.calls).containsExactly("1", "flush");
        assertThat(b.calls).containsExactly("1", "flush");
        assertThat(p.refCnt()).isZero();
    }

    @Test
    void publicationsQueuedWhileTheLoopIsBusyShareOneFlushPerMember() throws Exception {
        Recorder a = new Recorder();
        onLoop(() -> index.subscribe("alerts", a));
        CountDownLatch release = holdLoop();
        List<Publication> sent = new ArrayList<>();
        for (long offset = 1; offset <= 3; offset++) {
            Publication p = publication(offset);
            sent.add(p);
            index.publish(p);
            p.release();
        }
        release.countDown();
        onLoop(() -> {});
        assertThat(a.calls).containsExactly("1", "2", "3", "flush");
        assertThat(sent).allSatisfy(p -> assertThat(p.refCnt()).isZero());
    }

    @Test
    void aLongBacklogIsDrainedInOrderInBoundedBatches() throws Exception {
        Recorder a = new Recorder();
        onLoop(() -> index.subscribe("alerts", a));
        CountDownLatch release = holdLoop();
        int count = 3 * SubscriptionIndex.MAX_BATCH + 5;
        for (long offset = 1; offset <= count; offset++) {
            Publication p = publication(offset);
            index.publish(p);
            p.release();
        }
        release.countDown();
        // A drain reschedules itself for the rest of the backlog: wait until all of it arrived.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        List<String> seen;
        do {
            seen = loop.submit(() -> List.copyOf(a.calls)).get(5, TimeUnit.SECONDS);
        } while (seen.stream().filter(c -> !c.equals("flush")).count() < count && System.nanoTime() < deadline);

        List<String> offsets = seen.stream().filter(c -> !c.equals("flush")).toList();
        assertThat(offsets).hasSize(count);
        for (int i = 0; i < count; i++) {
            assertThat(offsets.get(i)).isEqualTo(Long.toString(i + 1));
        }
        assertThat(seen.stream().filter(c -> c.equals("flush")).count()).isEqualTo(4); // 64 + 64 + 64 + 5
        int sinceFlush = 0;
        for (String call : seen) {
            sinceFlush = call.equals("flush") ? 0 : sinceFlush + 1;
            assertThat(sinceFlush).isLessThanOrEqualTo(SubscriptionIndex.MAX_BATCH);
        }
    }

    @Test
    void aMemberThatLeavesGetsNothingMore() throws Exception {
        Recorder a = new Recorder();
        onLoop(() -> index.subscribe("alerts", a));
        onLoop(() -> index.unsubscribe("alerts", a));
        Publication p = publication(1);
        assertThat(index.publish(p)).isZero();
        p.release();
        onLoop(() -> {});
        assertThat(a.calls).isEmpty();
        assertThat(index.channels()).isZero();
    }

    @Test
    void aSubscriberThatThrowsDoesNotKeepThePublicationFromTheOthers() throws Exception {
        Recorder before = new Recorder();
        Recorder broken = new Recorder() {
            @Override
            public void deliver(Publication publication) {
                throw new IllegalStateException("a bug in one subscriber");
            }
        };
        Recorder after = new Recorder();
        onLoop(() -> {
            index.subscribe("alerts", before);
            index.subscribe("alerts", broken);
            index.subscribe("alerts", after);
        });
        Publication p = publication(1);
        index.publish(p);
        p.release();
        onLoop(() -> {});
        assertThat(before.calls).containsExactly("1", "flush");
        assertThat(after.calls).containsExactly("1", "flush");
        assertThat(p.refCnt()).isZero();
    }

    @Test
    void publicationsForALoopThatHasShutDownAreReleased() throws Exception {
        ExecutorService gone = Executors.newSingleThreadExecutor();
        Subscriber member = new Subscriber() {
            @Override
            public java.util.concurrent.Executor executor() {
                return gone;
            }

            @Override
            public void deliver(Publication publication) {}

            @Override
            public void flush() {}
        };
        gone.submit(() -> index.subscribe("alerts", member)).get(5, TimeUnit.SECONDS);
        gone.shutdown();
        assertThat(gone.awaitTermination(5, TimeUnit.SECONDS)).isTrue();
        for (long offset = 1; offset <= 3; offset++) { // not only the first: the shard must not stay stuck
            Publication p = publication(offset);
            index.publish(p);
            p.release();
            assertThat(p.refCnt()).as("publication %d", offset).isZero();
        }
    }
}
