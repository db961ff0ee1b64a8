package dev.portcullis.gateway.auth;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Logout: per user, a cutoff before which issued tokens are refused. A token is revoked when its
 * user has a cutoff and its {@code iat} is before it (or it has no {@code iat}, so it cannot prove
 * it is newer). The cutoff is kept for the longest token lifetime, after which every token it
 * covers has expired anyway; {@link #sweep()} drops expired cutoffs, so memory follows the number
 * of logouts in that window.
 *
 * <p>{@code iat} has second precision: the cutoff is the start of the current second, so a token
 * issued in the same second as the logout but before it is still accepted (at most one second of
 * slack), while a fresh login right after the logout always works. Thread-safe.
 */
public final class Revocations implements RevocationStore {
    private record Cutoff(Instant notBefore, Instant forgetAt) {}

    private final ConcurrentHashMap<String, Cutoff> cutoffs = new ConcurrentHashMap<>();
    private final Clock clock;
    private final Duration maxTokenLifetime;

    public Revocations(Clock clock, Duration maxTokenLifetime) {
        this.clock = clock;
        this.maxTokenLifetime = maxTokenLifetime;
    }

    /** Refuses tokens of {@code user} issued before now. */
    @Override
    public CompletableFuture<Void> revoke(String user) {
        remember(user, clock.instant().getEpochSecond());
        return CompletableFuture.completedFuture(null);
    }

    /** Records a cutoff (epoch seconds) decided elsewhere, e.g. by another instance. A later cutoff wins. */
    public void remember(String user, long cutoffEpochSecond) {
        Instant cutoff = Instant.ofEpochSecond(cutoffEpochSecond);
        cutoffs.merge(user, new Cutoff(cutoff, cutoff.plus(maxTokenLifetime)),
                (old, fresh) -> old.notBefore().isAfter(fresh.notBefore()) ? old : fresh);
    }

    @Override
    public CompletableFuture<Boolean> revoked(Principal principal) {
        return CompletableFuture.completedFuture(revokedNow(principal));
    }

    /** The local answer, at once. */
    public boolean revokedNow(Principal principal) {
        Cutoff cutoff = cutoffs.get(principal.subject());
        if (cutoff == null) {
            return false;
        }
        if (clock.instant().isAfter(cutoff.forgetAt())) {
            cutoffs.remove(principal.subject(), cutoff);
            return false;
        }
        return principal.issuedAt() == null || principal.issuedAt().isBefore(cutoff.notBefore());
    }

    public void sweep() {
        Instant now = clock.instant();
        cutoffs.values().removeIf(c -> now.isAfter(c.forgetAt()));
    }

    public int size() {
        return cutoffs.size();
    }
}
