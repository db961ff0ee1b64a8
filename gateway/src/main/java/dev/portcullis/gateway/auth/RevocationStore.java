package dev.portcullis.gateway.auth;

import java.util.concurrent.CompletableFuture;

/**
 * Where logouts are remembered: this process ({@link Revocations}) or the whole cluster. Never
 * blocks; futures complete on whatever thread answered.
 */
public interface RevocationStore {
    /** Refuses the user's tokens issued before now. Completes once stored (cluster-wide: in Redis). */
    CompletableFuture<Void> revoke(String user);

    /** Whether the principal's token was issued before its user's logout. */
    CompletableFuture<Boolean> revoked(Principal principal);
}
