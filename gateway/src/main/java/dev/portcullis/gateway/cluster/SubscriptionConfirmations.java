package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.broker.BrokerUnavailableException;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Which channels' subscriptions Redis confirmed, and the subscribers waiting for it, for
 * {@link RedisSubscriptions}.
 *
 * <p>Why its own class: {@link RedisSubscriptions} decides what to ask Redis (subscribe, unsubscribe,
 * resubscribe after an interruption or a failover); this is the other side, what a subscriber is
 * told. A subscription counts as made only once Redis answered, and a waiter must neither hang nor
 * pile up while Redis fails: waiters of one channel share one entry, which goes on confirmation, when
 * the channel is no longer wanted ({@link #abandon}) and when a waiter times out on a channel nobody
 * wants any more. Its interface to the rest is the confirmation itself and the {@code wanted} check.
 *
 * <p>Threading: any thread. Confirmations follow Redis's answers on Lettuce's threads, the
 * subscription thread withdraws them, subscribers wait from their sessions' event loops; the set and
 * the map are concurrent and every change is one atomic operation on them (the rare race between a
 * check and a registration is closed by re-checking, see {@link #await}).
 */
final class SubscriptionConfirmations {
    /** Channels whose SSUBSCRIBE Redis confirmed (any thread reads; changes follow Redis's answers). */
    private final Set<String> confirmed = ConcurrentHashMap.newKeySet();
    /** Subscribers waiting for a channel's confirmation. */
    private final ConcurrentHashMap<String, CompletableFuture<Void>> waiting = new ConcurrentHashMap<>();
    private final Predicate<String> wanted;
    private final long timeoutMillis;

    /**
     * @param wanted whether a channel is still wanted here (a local subscriber, or pinned)
     * @param timeoutMillis how long a waiter waits for Redis's confirmation
     */
    SubscriptionConfirmations(Predicate<String> wanted, long timeoutMillis) {
        this.wanted = wanted;
        this.timeoutMillis = timeoutMillis;
    }

    /**
     * Completes once Redis confirmed the channel's subscription (or fails after the timeout: twice the
     * command timeout and a second, as {@link RedisBroker} sets it). Waiters
     * of one channel share an entry in {@code waiting}; it goes when Redis confirms, when the channel
     * is no longer wanted (the subscribers left while Redis was failing) and when a waiter times out on
     * a channel nobody wants any more, so an outage with subscriber churn cannot grow the map past the
     * channels that are wanted.
     */
    CompletableFuture<Void> await(String channel) {
        if (confirmed.contains(channel)) {
            return CompletableFuture.completedFuture(null);
        }
        CompletableFuture<Void> future = waiting.computeIfAbsent(channel, c -> new CompletableFuture<>());
        if (confirmed.contains(channel) && waiting.remove(channel, future)) {
            future.complete(null); // confirmed between the check and the registration
        }
        CompletableFuture<Void> mine = future.copy().orTimeout(timeoutMillis, TimeUnit.MILLISECONDS);
        mine.whenComplete((ok, failure) -> {
            if (failure != null && !wanted.test(channel)) {
                waiting.remove(channel, future);
            }
        });
        return mine;
    }

    /** Channels a subscriber is waiting on Redis to confirm (a gauge; bounded by the channels wanted). */
    int waitingCount() {
        return waiting.size();
    }

    /** Redis confirmed the channel's subscription: from now on nobody waits for it. */
    void confirmed(String channel) {
        confirmed.add(channel);
    }

    /** The waiters of a confirmed channel go on; after {@link #confirmed}, once the catch-up is under way. */
    void release(String channel) {
        CompletableFuture<Void> future = waiting.remove(channel);
        if (future != null) {
            future.complete(null);
        }
    }

    /** The channel's subscription is gone or being made again: new waiters wait for the next confirmation. */
    void withdraw(String channel) {
        confirmed.remove(channel);
    }

    /** A reconnect: Redis forgot every subscription of the connection. */
    void withdrawAll() {
        confirmed.clear();
    }

    /**
     * Nobody wants {@code channel} any more: whoever still waits for its confirmation learns it now.
     * A subscriber may join between the flush's look at the index and this removal and share the
     * entry: then the channel is wanted again, its next flush subscribes it, and the entry stays (or
     * follows the one a newer waiter made meanwhile) instead of failing a subscribe that will succeed.
     */
    void abandon(String channel) {
        CompletableFuture<Void> future = waiting.remove(channel);
        if (future == null) {
            return;
        }
        if (!wanted.test(channel)) {
            future.completeExceptionally(new BrokerUnavailableException("unsubscribed before Redis confirmed the subscription"));
            return;
        }
        CompletableFuture<Void> newer = waiting.putIfAbsent(channel, future);
        if (newer != null) {
            newer.whenComplete((ok, failure) -> {
                if (failure == null) {
                    future.complete(null);
                } else {
                    future.completeExceptionally(failure);
                }
            });
        }
    }
}
