package dev.portcullis.gateway.auth;

import com.nimbusds.jose.JWSVerifier;
import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keys from a JWKS URL, cached and refreshed without ever blocking a verifier.
 *
 * <p>Lookups read an immutable snapshot. A fetch starts at construction, when the snapshot is older
 * than the cache TTL (tokens keep using the old keys meanwhile), and when a token names a key the
 * snapshot lacks (that token waits for the fetch). Fetches never overlap, and a new one starts at
 * most once per {@code refreshMinInterval}, however many unknown {@code kid}s arrive; waiters share
 * the fetch in flight. A failed fetch keeps the old snapshot.
 */
final class JwksKeySource implements KeySource {

    private static final Logger log = LoggerFactory.getLogger(JwksKeySource.class);

    private record Snapshot(KeySet keys, Instant fetchedAt) {}

    private final JwksFetcher fetcher;
    private final Clock clock;
    private final Duration cacheTtl;
    private final Duration refreshMinInterval;
    private volatile Snapshot snapshot;

    private final Object lock = new Object();
    private CompletableFuture<KeySet> inFlight; // guarded by lock
    private Instant lastFetchStart; // guarded by lock
    private boolean closed; // guarded by lock

    JwksKeySource(JwksFetcher fetcher, Clock clock, Duration cacheTtl, Duration refreshMinInterval) {
        this.fetcher = fetcher;
        this.clock = clock;
        this.cacheTtl = cacheTtl;
        this.refreshMinInterval = refreshMinInterval;
        refresh(clock.instant());
    }

    @Override
    public CompletableFuture<JWSVerifier> verifierFor(SigningAlgorithm alg, String kid) {
        Instant now = clock.instant();
        Snapshot seen = snapshot;
        CompletableFuture<KeySet> pending = null;
        if (seen != null) {
            if (!now.isBefore(seen.fetchedAt().plus(cacheTtl))) {
                pending = refresh(now);
            }
            KeyEntry key = seen.keys().find(alg, kid);
            if (key != null) {
                return key.ready();
            }
        }
        // Reuse the refresh started above: asking again could miss it if it has already ended.
        if (pending == null) {
            pending = refresh(now);
        }
        if (pending == null) {
            Snapshot latest = snapshot; // a fetch may have ended since `seen` was read
            if (latest != seen) {
                return lookup(latest.keys(), alg, kid);
            }
            return rejected(seen == null ? Reason.KEYS_UNAVAILABLE : Reason.UNKNOWN_KEY);
        }
        CompletableFuture<JWSVerifier> result = new CompletableFuture<>();
        pending.whenComplete((keys, failure) -> {
            if (failure != null) {
                result.completeExceptionally(new TokenRejectedException(Reason.KEYS_UNAVAILABLE));
            } else {
                KeyEntry key = keys.find(alg, kid);
                if (key == null) {
                    result.completeExceptionally(new TokenRejectedException(Reason.UNKNOWN_KEY));
                } else {
                    result.complete(key.verifier());
                }
            }
        });
        return result;
    }

    private static CompletableFuture<JWSVerifier> lookup(KeySet keys, SigningAlgorithm alg, String kid) {
        KeyEntry key = keys.find(alg, kid);
        return key != null ? key.ready() : rejected(Reason.UNKNOWN_KEY);
    }

    private static CompletableFuture<JWSVerifier> rejected(Reason reason) {
        return CompletableFuture.failedFuture(new TokenRejectedException(reason));
    }

    /** The fetch in flight, a new one if the rate limit allows, or null. */
    private CompletableFuture<KeySet> refresh(Instant now) {
        CompletableFuture<KeySet> started;
        synchronized (lock) {
            if (closed) {
                return null;
            }
            if (inFlight != null) {
                return inFlight;
            }
            // A clock set back (now before lastFetchStart) must not stall refreshes until it catches up.
            if (lastFetchStart != null && !now.isBefore(lastFetchStart)
                    && now.isBefore(lastFetchStart.plus(refreshMinInterval))) {
                return null;
            }
            lastFetchStart = now;
            started = new CompletableFuture<>();
            inFlight = started;
        }
        fetcher.fetch().whenComplete((keys, failure) -> finish(started, now, keys, failure));
        return started;
    }

    private void finish(CompletableFuture<KeySet> started, Instant startedAt, KeySet keys, Throwable failure) {
        if (keys != null) {
            snapshot = new Snapshot(keys, startedAt);
            log.debug("fetched JWKS from {}: {} usable keys", fetcher.where(), keys.keys().size());
        }
        boolean closing;
        synchronized (lock) {
            closing = closed;
            if (inFlight == started) {
                inFlight = null;
            }
        }
        if (keys == null && !closing) {
            log.warn("JWKS fetch from {} failed ({}); {}", fetcher.where(), describe(failure),
                    snapshot == null ? "no keys yet" : "keeping the cached keys");
        }
        if (keys != null) {
            started.complete(keys);
        } else {
            started.completeExceptionally(failure);
        }
    }

    private static String describe(Throwable failure) {
        Throwable cause = failure.getCause() != null ? failure.getCause() : failure;
        return cause.getClass().getSimpleName() + (cause.getMessage() == null ? "" : ": " + cause.getMessage());
    }

    /** Stops the fetch thread; verifications waiting for a fetch fail with {@code keys_unavailable}. */
    @Override
    public void close() {
        CompletableFuture<KeySet> pending;
        synchronized (lock) {
            closed = true;
            pending = inFlight;
            inFlight = null;
        }
        fetcher.close();
        if (pending != null) {
            pending.completeExceptionally(new IllegalStateException("closed"));
        }
    }
}
