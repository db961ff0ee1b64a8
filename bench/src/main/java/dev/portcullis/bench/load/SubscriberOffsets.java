package dev.portcullis.bench.load;

/**
 * A subscriber's view of the channel's offsets (or node-ws's sequence numbers): the first and the
 * latest it received, the gaps between them, and deliveries that came twice or out of order. From
 * these the worker counts what a subscriber missed of the published range ({@code @loss}) and how
 * far the slowest one is ({@code @min}).
 *
 * <p>Its own class because loss accounting is a small piece of arithmetic with its own rules,
 * apart from how a {@link WsConnection} reads frames and keeps its protocol state.
 *
 * <p>Threads: {@link #accept} runs on the connection's event loop only. {@link #last} is volatile
 * because the worker's reporter thread reads it for {@code @min}; {@link #missing} and
 * {@link #duplicates} are read by the worker's command thread after a barrier on every loop.
 */
final class SubscriberOffsets {
    private volatile long last = -1;
    private long first = -1;
    private long gaps;
    private long duplicates;

    /** Takes the offset of a delivery; false when it came twice or out of order (it counts as a duplicate, not a delivery). */
    boolean accept(long offset) {
        long previous = last;
        if (previous < 0) {
            first = offset;
        } else if (offset > previous + 1) {
            gaps += offset - previous - 1;
        } else if (offset <= previous) {
            duplicates++;
            return false;
        }
        last = offset;
        return true;
    }

    /** The latest offset received, -1 before the first. */
    long last() {
        return last;
    }

    /** Publications of {@code [first, last]} this subscriber never received. */
    long missing(long first, long last) {
        long seen = this.last;
        if (seen < 0) {
            return last - first + 1;
        }
        return Math.max(0, this.first - first) + gaps + Math.max(0, last - seen);
    }

    long duplicates() {
        return duplicates;
    }
}
