package dev.portcullis.gateway.channel;

import java.util.concurrent.Executor;

/**
 * A connection that receives publications. Every call happens on {@link #executor()}, which never
 * changes: the index keeps each subscriber's subscriptions in a shard owned by that executor.
 */
public interface Subscriber {
    Executor executor();

    /**
     * Writes {@code publication} to the connection (taking its own reference to the frame). Called in
     * offset order per channel. Must not block; a subscriber that cannot keep up disconnects itself.
     */
    void deliver(Publication publication);

    /** End of one fan-out batch on this executor: flush what {@link #deliver} wrote. */
    void flush();
}
