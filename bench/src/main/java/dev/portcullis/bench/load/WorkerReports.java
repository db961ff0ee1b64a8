package dev.portcullis.bench.load;

import java.io.PrintStream;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * What a worker measures and how it tells the coordinator: the counters, the latency recorders,
 * the set of open connections, and the protocol lines that carry them ({@code @stats},
 * {@code @hist}, {@code @min}, {@code @loss}).
 *
 * <p>Its own class because the measurements are written by every connection and read by the
 * reports, while the worker itself only opens and closes connections: this is the one place that
 * knows the report format.
 *
 * <p>Threads: connections write the counters, recorders and the open set from their event loops
 * (LongAdders, {@link Recorder}s and a concurrent set: safe from any thread). {@link #report} and
 * {@link #reportMin} run on the worker's reporter thread ({@link #report} once more at the end,
 * after that thread stopped), {@link #stats} and {@link #loss} on its command thread; {@code lastMin}
 * is the reporter thread's alone. {@code out} is a PrintStream, whose lines do not interleave.
 */
final class WorkerReports {
    private final PrintStream out;
    private final Counters counters = new Counters();
    private final Recorder handshake = new Recorder(3);
    private final Recorder delivery = new Recorder(3);
    private final Recorder ack = new Recorder(3);
    private final Recorder churnHandshake = new Recorder(3);
    private final Set<WsConnection> live = ConcurrentHashMap.newKeySet();
    private long lastMin = Long.MIN_VALUE;

    WorkerReports(PrintStream out) {
        this.out = out;
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

    /** The connections open right now (their TCP connection is up). */
    Set<WsConnection> live() {
        return live;
    }

    void live(WsConnection c, boolean open) {
        if (open) {
            live.add(c);
        } else {
            live.remove(c);
        }
    }

    /** The answer to {@code report <seq>}: the counters as of now, tagged so the coordinator knows which request it answers. */
    void stats(long seq) {
        out.println("@stats seq=" + seq + " live=" + live.size() + counters.line());
    }

    /** The once-a-second report: the counters, and the latencies recorded since the previous one. */
    void report() {
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
            out.println("@error report failed: " + Worker.oneLine(e));
        }
    }

    private void hist(String name, Recorder recorder) {
        Histogram interval = recorder.getIntervalHistogram();
        if (interval.getTotalCount() > 0) {
            out.println("@hist " + name + " " + Histograms.encode(interval));
        }
    }

    /** The lowest offset any open subscriber has reached: the coordinator's flow control when saturating. */
    void reportMin(WsConnection[] connections) {
        long min = Long.MAX_VALUE;
        for (WsConnection c : connections) {
            if (c != null && c.subscribedAndOpen()) {
                min = Math.min(min, c.lastOffset());
            }
        }
        if (min != Long.MAX_VALUE && min != lastMin) {
            lastMin = min;
            out.println("@min " + min);
        }
    }

    /** What the subscribers missed of {@code [first, last]}; call after a barrier on every event loop. */
    void loss(WsConnection[] connections, long first, long last) {
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
}
