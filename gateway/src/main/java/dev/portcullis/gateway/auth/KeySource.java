package dev.portcullis.gateway.auth;

import com.nimbusds.jose.JWSVerifier;
import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.util.concurrent.CompletableFuture;

/** Where verification keys come from: one configured key, or a fetched key set. */
interface KeySource extends AutoCloseable {

    /**
     * The verifier for a token's algorithm and {@code kid} (null when the token names none).
     * Complete at once unless keys must be fetched; then it completes on the fetch thread. Fails with
     * a {@link TokenRejectedException}, not wrapped: {@code unknown_key}, {@code keys_unavailable},
     * or {@code algorithm_not_allowed} when a single configured key does not fit {@code alg}.
     */
    CompletableFuture<JWSVerifier> verifierFor(SigningAlgorithm alg, String kid);

    @Override
    default void close() {}

    /**
     * A single configured key; the token's {@code kid} is ignored. An algorithm that does not fit
     * the key counts as not allowed.
     */
    static KeySource of(KeyEntry key) {
        CompletableFuture<JWSVerifier> unfit =
                CompletableFuture.failedFuture(new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED));
        return (alg, kid) -> key.fits(alg) ? key.ready() : unfit;
    }
}
