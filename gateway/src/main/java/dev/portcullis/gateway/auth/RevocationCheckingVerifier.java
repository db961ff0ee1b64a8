package dev.portcullis.gateway.auth;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A verifier that also refuses tokens revoked by a logout (reason {@code revoked}) once the
 * signature and claims pass. Keeps the {@link TokenVerifier} contract: already complete when the
 * delegate is, rejections not wrapped.
 */
public final class RevocationCheckingVerifier implements TokenVerifier {
    private final TokenVerifier delegate;
    private final RevocationStore revocations;

    public RevocationCheckingVerifier(TokenVerifier delegate, RevocationStore revocations) {
        this.delegate = delegate;
        this.revocations = revocations;
    }

    @Override
    public CompletableFuture<Principal> verify(String token) {
        CompletableFuture<Principal> result = new CompletableFuture<>();
        delegate.verify(token).whenComplete((principal, failure) -> {
            if (failure != null) {
                result.completeExceptionally(failure instanceof CompletionException wrapped && wrapped.getCause() != null
                        ? wrapped.getCause() : failure);
            } else {
                revocations.revoked(principal).whenComplete((revoked, error) -> {
                    if (error != null) {
                        result.completeExceptionally(new TokenRejectedException(TokenRejectedException.Reason.KEYS_UNAVAILABLE,
                                "cannot check whether the token was revoked; retry later"));
                    } else if (revoked) {
                        result.completeExceptionally(new TokenRejectedException(TokenRejectedException.Reason.REVOKED));
                    } else {
                        result.complete(principal);
                    }
                });
            }
        });
        return result;
    }
}
