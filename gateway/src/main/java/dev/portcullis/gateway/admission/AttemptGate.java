package dev.portcullis.gateway.admission;

import java.util.concurrent.CompletableFuture;

/**
 * Counts a user's connection attempts: in this process ({@link ConnectAttemptLimiter}) or across
 * the cluster. Never blocks.
 */
public interface AttemptGate {
    CompletableFuture<ConnectAttemptLimiter.Decision> attempt(String user);

    /**
     * What {@link #attempt} would decide now, without counting anything: the answer to "why was I
     * refused?", which must not itself use up the user's attempts.
     */
    CompletableFuture<ConnectAttemptLimiter.Decision> peek(String user);
}
