package dev.portcullis.client;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * Requests waiting to be sent, and those sent and awaiting their answer. Queued requests go out in
 * priority order (subscriptions first), then in the order they were made; a request the server
 * refused with {@code rate_limited} (or a publish answered {@code outcome_unknown}) returns to its
 * place and sending pauses for the server's {@code retryAfterMs}. Client thread only.
 */
final class Outbox {
    private final PriorityQueue<Request> queued = new PriorityQueue<>(
            Comparator.<Request>comparingInt(r -> r.kind.priority).thenComparingLong(r -> r.seq));
    private final Map<String, Request> inflight = new LinkedHashMap<>();
    private long nextSeq;
    private long nextId;
    private long pausedUntilNanos;
    private boolean paused;

    void enqueue(Request request) {
        request.seq = nextSeq++;
        queued.add(request);
    }

    /** The next request to send, or null when none is queued or sending is paused at {@code nowNanos}. */
    Request poll(long nowNanos) {
        if (paused && nowNanos - pausedUntilNanos < 0) {
            return null;
        }
        paused = false;
        return queued.poll();
    }

    /** Registers a request as sent; returns its id. */
    String sent(Request request) {
        String id = Long.toString(++nextId);
        inflight.put(id, request);
        return id;
    }

    /** The request answered under {@code id}, no longer in flight; null if unknown. */
    Request answered(String id) {
        return id == null ? null : inflight.remove(id);
    }

    /**
     * The server asked for {@code request} again later (it refused it for its rate, or could not say
     * whether a publish was made): back to its place, and a pause. Returns the pause's end.
     */
    long retryLater(Request request, long retryAfterMillis, long nowNanos) {
        queued.add(request);
        long until = nowNanos + Math.max(1, retryAfterMillis) * 1_000_000L;
        if (!paused || until - pausedUntilNanos > 0) {
            pausedUntilNanos = until;
        }
        paused = true;
        return pausedUntilNanos;
    }

    /** How long sending stays paused after {@code nowNanos} (0 when it is not). */
    long pausedForNanos(long nowNanos) {
        return paused ? Math.max(0, pausedUntilNanos - nowNanos) : 0;
    }

    /** Removes queued requests matching the subscription (an unsubscribe overtook its subscribe). */
    void dropSubscribe(SubscriptionHandle subscription) {
        queued.removeIf(r -> r.kind == Request.Kind.SUBSCRIBE && r.subscription == subscription);
    }

    /**
     * The connection is gone: returns every request it made obsolete (everything in flight, and
     * queued requests other than publications, which wait for the next connection). Subscriptions
     * are restored from the subscription list on the next connection, not from here.
     */
    List<Request> connectionLost() {
        List<Request> lost = new ArrayList<>(inflight.values());
        inflight.clear();
        for (Iterator<Request> it = queued.iterator(); it.hasNext();) {
            Request request = it.next();
            if (request.kind != Request.Kind.PUBLISH) {
                lost.add(request);
                it.remove();
            }
        }
        paused = false;
        return lost;
    }

    /** Everything, queued and in flight: the client stops. */
    List<Request> drain() {
        List<Request> all = new ArrayList<>(inflight.values());
        inflight.clear();
        all.addAll(queued);
        queued.clear();
        return all;
    }

    int queuedCount() {
        return queued.size();
    }
}
