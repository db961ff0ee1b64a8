package dev.portcullis.gateway.admission;

import java.util.concurrent.CompletableFuture;

/**
 * Counts a user's connection attempts: in this process ({@link ConnectAttemptLimiter}) or across
 * the cluster. Never blocks.
 */
public interface AttemptGate {
    CompletableFuture<ConnectAttemptLimiter.Decision> attempt(String user);
}
