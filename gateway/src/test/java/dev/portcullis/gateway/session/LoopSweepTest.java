package dev.portcullis.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.channel.DefaultEventLoop;
import io.netty.channel.embedded.EmbeddedChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The per-loop sweep that replaced per-connection scheduled tasks, on an event loop whose time the test moves. */
class LoopSweepTest {
    private final EmbeddedChannel loop = new EmbeddedChannel();

    @BeforeEach
    void freeze() {
        loop.freezeTime();
    }

    @AfterEach
    void close() {
        loop.finishAndReleaseAll();
    }

    /** Counts its sweeps; leaves after {@code lives} of them. */
    private static final class Counter implements LoopSweep.Member {
        int sweeps;
        int lives;

        Counter(int lives) {
            this.lives = lives;
        }

        @Override
        public boolean sweep() {
            sweeps++;
            return --lives > 0;
        }
    }

    private void advance(Duration d) {
        loop.advanceTimeBy(d.toNanos(), TimeUnit.NANOSECONDS);
        loop.runScheduledPendingTasks();
    }

    @Test
    void theTickIsATenthOfTheShortestDurationWithinItsBounds() {
        assertThat(LoopSweep.tick(Duration.ofSeconds(30))).isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(LoopSweep.tick(Duration.ofSeconds(5))).isEqualTo(Duration.ofMillis(500).toNanos());
        assertThat(LoopSweep.tick(Duration.ofMillis(50))).isEqualTo(Duration.ofMillis(10).toNanos());
        assertThat(LoopSweep.tick(Duration.ZERO)).isEqualTo(Duration.ofSeconds(1).toNanos());
        assertThat(LoopSweep.shorter(Duration.ZERO, Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(3));
        assertThat(LoopSweep.shorter(Duration.ofSeconds(2), Duration.ZERO)).isEqualTo(Duration.ofSeconds(2));
        assertThat(LoopSweep.shorter(Duration.ofSeconds(2), Duration.ofSeconds(3))).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void sweepsEveryTickUntilAMemberLeavesThenStops() {
        Counter counter = new Counter(3);
        LoopSweep.join(loop.eventLoop(), Duration.ofSeconds(30), counter); // a tick of 1 s
        advance(Duration.ofMillis(999));
        assertThat(counter.sweeps).isZero(); // never early
        advance(Duration.ofMillis(1));
        assertThat(counter.sweeps).isEqualTo(1);
        advance(Duration.ofSeconds(5));
        assertThat(counter.sweeps).isEqualTo(3); // left after its third sweep
        assertThat(loop.runScheduledPendingTasks()).as("no task left once the sweep is empty").isEqualTo(-1);
    }

    @Test
    void aShorterDurationMakesTheTickFinerForEveryMember() {
        Counter slow = new Counter(1_000);
        Counter fast = new Counter(1_000);
        LoopSweep.join(loop.eventLoop(), Duration.ofSeconds(30), slow);
        LoopSweep.join(loop.eventLoop(), Duration.ofSeconds(1), fast); // a tick of 100 ms
        advance(Duration.ofMillis(100));
        assertThat(slow.sweeps).isEqualTo(1);
        assertThat(fast.sweeps).isEqualTo(1);
        slow.lives = 1;
        fast.lives = 1;
        advance(Duration.ofMillis(100));
        assertThat(loop.runScheduledPendingTasks()).isEqualTo(-1);
    }

    @Test
    void membersThatJoinDuringASweepAndMembersThatThrowDoNotDisturbTheOthers() {
        Counter late = new Counter(2);
        Counter steady = new Counter(2);
        LoopSweep.Member joining = () -> {
            LoopSweep.join(loop.eventLoop(), Duration.ZERO, late);
            return false;
        };
        LoopSweep.Member failing = () -> {
            throw new IllegalStateException("a bug in one member");
        };
        LoopSweep.join(loop.eventLoop(), Duration.ZERO, joining);
        LoopSweep.join(loop.eventLoop(), Duration.ZERO, failing);
        LoopSweep.join(loop.eventLoop(), Duration.ZERO, steady);
        advance(Duration.ofSeconds(1));
        assertThat(steady.sweeps).isEqualTo(1);
        assertThat(late.sweeps).as("joined during the sweep: swept from the next tick").isZero();
        advance(Duration.ofSeconds(1));
        assertThat(steady.sweeps).isEqualTo(2);
        assertThat(late.sweeps).isEqualTo(1);
        advance(Duration.ofSeconds(1));
        assertThat(late.sweeps).isEqualTo(2);
        assertThat(loop.runScheduledPendingTasks()).as("the failing member was dropped, the rest left").isEqualTo(-1);
    }

    @Test
    void aSweepWithManyMembersKeepsOnlyThoseThatStay() {
        List<Counter> counters = new ArrayList<>();
        for (int i = 0; i < 1_000; i++) {
            Counter counter = new Counter(1 + i % 3);
            counters.add(counter);
            LoopSweep.join(loop.eventLoop(), Duration.ZERO, counter);
        }
        for (int tick = 1; tick <= 4; tick++) {
            advance(Duration.ofSeconds(1));
        }
        for (int i = 0; i < counters.size(); i++) {
            assertThat(counters.get(i).sweeps).isEqualTo(1 + i % 3);
        }
        assertThat(loop.runScheduledPendingTasks()).isEqualTo(-1);
    }

    @Test
    void theSweepOfALoopThatWasShutDownWithMembersIsForgottenWhenAnotherLoopStartsOne() throws Exception {
        DefaultEventLoop stopped = new DefaultEventLoop();
        stopped.submit(() -> LoopSweep.join(stopped, Duration.ZERO, () -> true)).get(5, TimeUnit.SECONDS);
        assertThat(LoopSweep.sweeping(stopped)).isTrue();
        stopped.shutdownGracefully(0, 0, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        LoopSweep.join(loop.eventLoop(), Duration.ZERO, new Counter(1));
        assertThat(LoopSweep.registered(stopped)).isFalse();
        assertThat(LoopSweep.sweeping(loop.eventLoop())).isTrue();
        advance(Duration.ofSeconds(1));
        assertThat(LoopSweep.sweeping(loop.eventLoop())).as("empty: its tick stops").isFalse();
        assertThat(loop.runScheduledPendingTasks()).as("nothing scheduled").isEqualTo(-1);
        assertThat(LoopSweep.registered(loop.eventLoop())).as("kept for the loop's next member").isTrue();

        Counter next = new Counter(1);
        LoopSweep.join(loop.eventLoop(), Duration.ZERO, next);
        assertThat(LoopSweep.sweeping(loop.eventLoop())).as("ticking again").isTrue();
        advance(Duration.ofSeconds(1));
        assertThat(next.sweeps).isEqualTo(1);
    }
}
