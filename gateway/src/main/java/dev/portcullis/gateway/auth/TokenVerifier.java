package dev.portcullis.gateway.auth;

import java.util.concurrent.CompletableFuture;

/** Turns a bearer token into a {@link Principal}. Safe to call from any thread, concurrently. */
public interface TokenVerifier {

    /**
     * Verifies a compact JWS token (no {@code Bearer } prefix). Never blocks the calling thread for
     * I/O: the future is already complete when the keys are at hand, otherwise it completes later on
     * a key-fetch thread, so continuations must hand work back to their own thread. A rejection
     * fails the future with a {@link TokenRejectedException} itself, not wrapped.
     */
    CompletableFuture<Principal> verify(String token);
}
