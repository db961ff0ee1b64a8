package dev.portcullis.gateway.history;

import java.util.concurrent.CompletableFuture;

/**
 * Reads a channel's recent publications, for recovery after a reconnect and for the {@code history}
 * request. Publications are appended by the broker in the same atomic step that gives them their
 * offset, so a reader never sees an offset without its publication or the other way round.
 * Never blocks; thread-safe.
 */
public interface History {
    /**
     * @param since the last offset the caller has (0 for "from the start")
     * @param limit the most publications to return
     */
    CompletableFuture<HistoryPage> read(String channel, long since, int limit);
}
