package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.concurrent.CompletableFuture;

/**
 * A client message waiting to be sent or answered. {@code seq} is its place in the order the
 * application asked for it; a request refused with {@code rate_limited} goes back into the queue at
 * that place.
 */
final class Request {
    enum Kind {
        SUBSCRIBE(0), UNSUBSCRIBE(0), PUBLISH(1), HISTORY(1), PRESENCE(1), AUTH(0);

        /** Lower goes first: restoring subscriptions before the queued publications. */
        final int priority;

        Kind(int priority) {
            this.priority = priority;
        }
    }

    final Kind kind;
    final String channel;
    long seq;
    /** For a publish: the application's data; on an encrypted channel replaced by its envelope before it is queued. */
    JsonNode data;
    final Position since;
    final int limit;
    final SubscriptionHandle subscription;
    final CompletableFuture<?> result;
    /** For a subscribe: whether the frame sent carried {@code since}. */
    boolean sinceSent;
    /**
     * For a publish: sent with every attempt, so that the server publishes it at most once however
     * often it is sent again (after {@code outcome_unknown}); 128 random bits.
     */
    final String idempotencyKey;
    /** For a publish: how many times the server answered {@code outcome_unknown}. */
    int unknownOutcomes;

    private Request(Kind kind, String channel, JsonNode data, Position since, int limit, SubscriptionHandle subscription,
            CompletableFuture<?> result) {
        this.kind = kind;
        this.channel = channel;
        this.data = data;
        this.since = since;
        this.limit = limit;
        this.idempotencyKey = kind == Kind.PUBLISH ? newKey() : null;
        this.subscription = subscription;
        this.result = result;
    }

    private static String newKey() {
        java.util.concurrent.ThreadLocalRandom random = java.util.concurrent.ThreadLocalRandom.current();
        return "j" + Long.toHexString(random.nextLong() | Long.MIN_VALUE) + Long.toHexString(random.nextLong() | Long.MIN_VALUE);
    }

    static Request subscribe(SubscriptionHandle subscription) {
        return new Request(Kind.SUBSCRIBE, subscription.channel(), null, null, 0, subscription, null);
    }

    static Request unsubscribe(String channel, CompletableFuture<Void> result) {
        return new Request(Kind.UNSUBSCRIBE, channel, null, null, 0, null, result);
    }

    static Request publish(String channel, JsonNode data, CompletableFuture<Long> result) {
        return new Request(Kind.PUBLISH, channel, data, null, 0, null, result);
    }

    static Request history(String channel, Position since, int limit, CompletableFuture<HistoryPage> result) {
        return new Request(Kind.HISTORY, channel, null, since, limit, null, result);
    }

    static Request presence(String channel, CompletableFuture<Presence> result) {
        return new Request(Kind.PRESENCE, channel, null, null, 0, null, result);
    }

    static Request auth() {
        return new Request(Kind.AUTH, null, null, null, 0, null, null);
    }

    /** The frame for this request under {@code id}. */
    String frame(String id, String token) {
        return switch (kind) {
            case SUBSCRIBE -> {
                Position position = subscription.cursor().since();
                sinceSent = position != null;
                subscription.cursor().awaitAck();
                yield Frames.subscribe(id, channel, position);
            }
            case UNSUBSCRIBE -> Frames.unsubscribe(id, channel);
            case PUBLISH -> Frames.publish(id, channel, data, idempotencyKey);
            case HISTORY -> Frames.history(id, channel, since, limit);
            case PRESENCE -> Frames.presence(id, channel);
            case AUTH -> Frames.auth(id, token);
        };
    }

    @SuppressWarnings("unchecked")
    <T> void complete(T value) {
        if (result != null) {
            ((CompletableFuture<T>) result).complete(value);
        }
    }

    void fail(Throwable error) {
        if (result != null) {
            result.completeExceptionally(error);
        }
    }
}
