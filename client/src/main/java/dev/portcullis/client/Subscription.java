package dev.portcullis.client;

import java.util.concurrent.CompletableFuture;

/**
 * One channel subscription of a {@link PortcullisClient}. It lives until {@link #unsubscribe()},
 * until the server refuses it, or until the client stops; across reconnects the client restores it
 * from the last position it delivered.
 */
public interface Subscription {
    String channel();

    /**
     * The position of the last message delivered (or announced by {@link SubscriptionListener#onSubscribed}),
     * or null before the first. Save it to resume in a later client with
     * {@link PortcullisClient#subscribe(String, Position, SubscriptionListener)}. Readable from any
     * thread.
     */
    Position position();

    /** Completes with the first {@link Subscribed}, or fails if the server refuses the subscription or the client stops first. */
    CompletableFuture<Subscribed> subscribed();

    /**
     * Ends the subscription. Once it returns, the listener gets no further call that has not already
     * started. The future completes when the server confirmed (at once while disconnected).
     */
    CompletableFuture<Void> unsubscribe();
}
