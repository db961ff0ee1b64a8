package dev.portcullis.gateway.session;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coarse timers of every connection on one event loop, checked by one periodic task: the
 * heartbeat, the token's expiry, re-auth requests and their deadline, the maximum age.
 *
 * <p>Why: an idle connection used to hold three or four scheduled tasks on its loop (a Netty
 * {@code ScheduledFutureTask}, its lambda and a slot in the loop's queue each, ~100 bytes per timer,
 * renewed on every heartbeat round). At tens of thousands of idle connections that was a tenth of the
 * heap they cost. Here a connection's timers are plain {@code long} deadlines in its own objects, and
 * the loop holds one array slot per {@link Member}: a few bytes. The price is precision: a deadline is
 * acted on at the first sweep at or after it, so up to one tick late, never early. The tick is the
 * finest any member asked for ({@link #join}): a tenth of its shortest configured duration, between
 * {@link #MIN_TICK} and {@link #MAX_TICK}. With the defaults (heartbeat 30 s / 10 s, re-auth 15 min /
 * 30 s) it is one second; a sweep costs one call and a few comparisons per member (two per connection).
 *
 * <p>Members leave by answering {@code false} from {@link Member#sweep()} (a closed connection does),
 * so they are dropped at the next tick, without a search; a closed connection is reachable from here for
 * at most one tick. A sweep with no members left stops its task; it stays its loop's (one small
 * object) until that loop is shut down, and is forgotten when another loop starts a sweep.
 *
 * <p>Threading: one sweep per loop, found through a concurrent map keyed by the loop; everything
 * else ({@link #join}, the members array, every {@link Member#sweep()} call) is confined to that
 * loop, so members read and write their deadlines without locks.
 */
public final class LoopSweep {
    /** The finest tick: a shorter one would cost more in wake-ups than any deadline is worth. */
    static final Duration MIN_TICK = Duration.ofMillis(10);
    /** The coarsest tick: deadlines not configured here (a token's {@code exp}) are late by at most this. */
    static final Duration MAX_TICK = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(LoopSweep.class);
    private static final ConcurrentMap<ScheduledExecutorService, LoopSweep> SWEEPS = new ConcurrentHashMap<>();

    /** Something with deadlines on one loop: a connection's heartbeat, a session's clocks. */
    public interface Member {
        /**
         * Acts on whatever deadline has passed; called on the loop once per tick. False once there
         * is nothing more to watch (the connection is closed): the member is then dropped.
         */
        boolean sweep();
    }

    private final ScheduledExecutorService loop;
    private Member[] members = new Member[64];
    private int size;
    private long tickNanos = Long.MAX_VALUE;
    private ScheduledFuture<?> task;

    private LoopSweep(ScheduledExecutorService loop) {
        this.loop = loop;
    }

    /**
     * Adds {@code member} to the sweep of {@code loop}; call on that loop. {@code shortest} is the
     * shortest duration the member measures (zero when it has none configured): the tick becomes a
     * tenth of it if that is finer than the current one.
     */
    public static void join(ScheduledExecutorService loop, Duration shortest, Member member) {
        LoopSweep sweep = SWEEPS.get(loop);
        if (sweep == null) {
            // A loop that was shut down with members left never ran the tick that would have emptied
            // its sweep (a gateway stopped, tests start many): forget those whenever a loop starts one.
            SWEEPS.keySet().removeIf(ScheduledExecutorService::isShutdown);
            sweep = SWEEPS.computeIfAbsent(loop, LoopSweep::new);
        }
        sweep.add(member, tick(shortest));
    }

    /** Whether {@code loop} has a sweep with its tick running (tests; call on that loop). */
    static boolean sweeping(ScheduledExecutorService loop) {
        LoopSweep sweep = SWEEPS.get(loop);
        return sweep != null && sweep.task != null;
    }

    /** Whether {@code loop} has a sweep at all, ticking or idle (tests). */
    static boolean registered(ScheduledExecutorService loop) {
        return SWEEPS.containsKey(loop);
    }

    /** The tick a member measuring {@code shortest} needs. */
    static long tick(Duration shortest) {
        long tenth = shortest.isZero() || shortest.isNegative() ? MAX_TICK.toNanos() : shortest.toNanos() / 10;
        return Math.clamp(tenth, MIN_TICK.toNanos(), MAX_TICK.toNanos());
    }

    /** The shorter of two durations, a zero one ("off") not counting. */
    static Duration shorter(Duration a, Duration b) {
        if (a.isZero()) {
            return b;
        }
        return b.isZero() || a.compareTo(b) <= 0 ? a : b;
    }

    private void add(Member member, long tick) {
        if (size == members.length) {
            members = Arrays.copyOf(members, size * 2);
        }
        members[size++] = member;
        if (tick < tickNanos || task == null || task.isDone()) {
            tickNanos = Math.min(tick, tickNanos);
            if (task != null) {
                task.cancel(false);
            }
            task = loop.scheduleAtFixedRate(this::sweep, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
        }
    }

    private void sweep() {
        int end = size;
        int kept = 0;
        for (int i = 0; i < end; i++) {
            Member member = members[i];
            members[i] = null;
            boolean keep;
            try {
                keep = member.sweep();
            } catch (RuntimeException e) {
                // A periodic task that throws is not run again: the other members' timers must not stop with it.
                log.warn("a timer failed; its connection is no longer watched", e);
                keep = false;
            }
            if (keep) {
                members[kept++] = member;
            }
        }
        moveJoinedDown(kept, end);
        if (size == 0) {
            // Idle: the tick stops, but the sweep stays this loop's. Dropping it made the next
            // join take its "first on this loop" branch again, which code compiled during the
            // warm-up (whose connections all leave) had never seen: a deoptimisation of the
            // whole inlined handshake path for the first real client (BENCHMARKS.md, "Cold start").
            task.cancel(false);
            task = null;
            tickNanos = Long.MAX_VALUE;
        } else if (members.length > 64 && size < members.length / 4) {
            members = Arrays.copyOf(members, Math.max(64, members.length / 2));
        }
    }

    /** Closes the gap between the members kept and those that joined during this sweep ({@code from}..{@code size}). */
    private void moveJoinedDown(int kept, int from) {
        int moved = size - from;
        System.arraycopy(members, from, members, kept, moved);
        Arrays.fill(members, kept + moved, size, null);
        size = kept + moved;
    }
}
