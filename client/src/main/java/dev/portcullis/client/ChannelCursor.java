package dev.portcullis.client;

import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Where one subscription stands in its channel, and the filter that makes delivery exactly-once and
 * in order on top of a server that may replay (after a resubscription with {@code since}).
 *
 * <p>Rules, per channel:
 * <ul>
 * <li>A message whose offset is not above the last delivered one, in the same epoch, is a duplicate
 *     and dropped.</li>
 * <li>Messages that arrive while a (re)subscription awaits its ack are held back; the ack first fixes
 *     the position (kept when the server {@code recovered}, replaced by the ack's position when not),
 *     then the held messages go through the same filter. This covers channels the server pushes
 *     without a subscribe (auto-subscribed channels such as {@code user:<sub>}), whose live messages
 *     can overtake the ack.</li>
 * <li>After a recovered ack, a held message that does not continue the offsets (the replay that
 *     fills the gap before it follows the ack) waits until the replay reaches it, so the application
 *     sees offsets in order. Offsets increase by exactly one per publication, which is how the
 *     cursor knows a message continues the sequence. Should the replay never come, the next message
 *     with a larger offset releases the waiting ones first: they are late, never lost.</li>
 * <li>A message in another epoch than the cursor's means the server lost the channel's history: the
 *     cursor reports a non-recovered {@link Subscribed} at that message and continues from it.</li>
 * <li>A message that skips offsets within the epoch (publications lost on the way) is reported the
 *     same way before it is delivered: the application is told to reload, never left with a silent
 *     gap.</li>
 * <li>The server's {@code gap} notice (a hole it could not fill) is reported the same way, and the
 *     cursor continues from the notice's position.</li>
 * </ul>
 * Client thread only.
 */
final class ChannelCursor {
    /** Messages held while a subscription awaits its ack; past this, the oldest are dropped (then reported as a gap by the server's ack anyway). */
    static final int MAX_HELD = 10_000;

    /** Where the cursor's decisions go, in delivery order. */
    interface Sink {
        void subscribed(Subscribed subscribed);

        void message(Message message);
    }

    private final String channel;
    private long offset;
    private String epoch;
    private boolean resumeNext;
    private boolean awaitingAck = true;
    private final ArrayDeque<Message> early = new ArrayDeque<>();
    private final TreeMap<Long, Message> waiting = new TreeMap<>();

    /** A cursor at {@code since} (null: from now on). */
    ChannelCursor(String channel, Position since) {
        this.channel = channel;
        this.offset = since == null ? -1 : since.offset();
        this.epoch = since == null ? null : since.epoch();
        this.resumeNext = since != null;
    }

    /** The last delivered position, or null before any. */
    Position position() {
        return offset < 0 ? null : new Position(offset, epoch);
    }

    /** What to send as {@code since}: only a position with an epoch can be recovered from. */
    Position since() {
        return offset >= 0 && epoch != null ? new Position(offset, epoch) : null;
    }

    /** A (re)subscribe is about to be sent: hold messages until its ack. */
    void awaitAck() {
        awaitingAck = true;
    }

    /** The connection was lost: the next ack answers a resubscription. */
    void connectionLost() {
        awaitingAck = true;
        if (offset >= 0) {
            resumeNext = true;
        }
        waiting.clear();
        early.clear(); // not delivered, so after the position: the resubscription replays them or reports the gap
    }

    /**
     * The server acknowledged the subscription.
     *
     * @param ackOffset the channel's latest offset, or null if the server did not say
     * @param ackEpoch  the channel's epoch, or null if the server did not say
     * @param recovered the server's {@code recovered}, or null if absent
     * @param sinceSent whether the subscribe carried {@code since}
     */
    void onAck(Long ackOffset, String ackEpoch, Boolean recovered, boolean sinceSent, Sink sink) {
        awaitingAck = false;
        boolean resumed = resumeNext;
        resumeNext = false;
        boolean wasRecovered = sinceSent && Boolean.TRUE.equals(recovered)
                && (ackEpoch == null || epoch == null || ackEpoch.equals(epoch));
        if (wasRecovered) {
            if (ackEpoch != null) {
                epoch = ackEpoch;
            }
        } else {
            offset = ackOffset == null ? -1 : ackOffset;
            epoch = ackEpoch;
            waiting.clear();
        }
        sink.subscribed(new Subscribed(channel, offset, epoch, resumed, wasRecovered));
        List<Message> held = List.copyOf(early);
        early.clear();
        for (Message message : held) {
            if (wasRecovered && jumpsAhead(message)) {
                waiting.put(message.offset(), message); // the replay of what comes before it follows the ack
            } else {
                accept(message, sink);
            }
        }
    }

    /** A message from the server for this channel. */
    void onMessage(Message message, Sink sink) {
        if (awaitingAck) {
            if (early.size() >= MAX_HELD) {
                early.pollFirst();
            }
            early.add(message);
            return;
        }
        accept(message, sink);
    }

    /**
     * The server's {@code gap} notice: publications up to (offset, epoch) may have been lost and
     * cannot be recovered (a Redis failover lost them, or the server's history did not cover a hole
     * in its own subscription). Reported as a non-recovered {@link Subscribed}; messages continue
     * after that position. While a (re)subscription awaits its ack the notice is ignored: the ack
     * decides.
     */
    void onGap(long gapOffset, String gapEpoch, Sink sink) {
        if (awaitingAck) {
            return;
        }
        waiting.clear();
        offset = gapOffset;
        epoch = gapEpoch;
        sink.subscribed(new Subscribed(channel, offset, epoch, true, false));
    }

    private void accept(Message message, Sink sink) {
        if (message.epoch() != null && epoch != null && !message.epoch().equals(epoch)) {
            waiting.clear();
            epoch = message.epoch();
            offset = message.offset() - 1;
            sink.subscribed(new Subscribed(channel, offset, epoch, true, false));
        } else if (epoch == null && message.epoch() != null) {
            epoch = message.epoch();
        }
        if (offset >= 0 && message.offset() <= offset) {
            return; // already delivered
        }
        // older messages that waited for the replay to reach them go first
        for (Map.Entry<Long, Message> first = waiting.firstEntry(); first != null && first.getKey() < message.offset();
                first = waiting.firstEntry()) {
            waiting.pollFirstEntry();
            deliver(first.getValue(), sink);
        }
        waiting.remove(message.offset());
        deliver(message, sink);
        drainContiguous(sink);
    }

    private void deliver(Message message, Sink sink) {
        if (offset >= 0 && epoch != null && epoch.equals(message.epoch()) && message.offset() > offset + 1) {
            // Offsets skipped within one epoch: publications were lost on the way (e.g. a server
            // without the subscribe/history ordering guarantee). Say so, as for a lost history.
            sink.subscribed(new Subscribed(channel, message.offset() - 1, epoch, true, false));
        }
        offset = message.offset();
        if (epoch == null) {
            epoch = message.epoch();
        }
        sink.message(message);
    }

    private void drainContiguous(Sink sink) {
        for (Map.Entry<Long, Message> first = waiting.firstEntry(); first != null; first = waiting.firstEntry()) {
            if (first.getKey() <= offset) {
                waiting.pollFirstEntry();
            } else if (first.getKey() == offset + 1) {
                waiting.pollFirstEntry();
                deliver(first.getValue(), sink);
            } else {
                return;
            }
        }
    }

    private boolean jumpsAhead(Message message) {
        return offset >= 0 && message.offset() > offset + 1 && Objects.equals(message.epoch(), epoch);
    }
}
