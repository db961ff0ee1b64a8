package dev.portcullis.client;

/**
 * What happens in one subscribed channel. Called on the client's own thread, one call at a time.
 *
 * <p>Ordering and delivery: messages arrive in offset order and never twice (a message whose offset
 * is not above the last one delivered in the same epoch is dropped). {@link #onSubscribed} comes
 * before the messages it announces: after every (re)subscription and when a message reveals a new
 * epoch. Between two {@code onSubscribed} calls no message was lost; across one, check
 * {@link Subscribed#gap()}.
 *
 * <p>A listener must not block for long: the client reads nothing from the server meanwhile (and a
 * server that cannot write to a connection for long enough closes it as a slow consumer; the client
 * then reconnects and recovers). Exceptions it throws are logged and otherwise ignored.
 */
@FunctionalInterface
public interface SubscriptionListener {
    /** The server confirmed the subscription, or the channel's history position changed. */
    default void onSubscribed(Subscribed subscribed) {}

    /** A publication in the channel. */
    void onMessage(Message message);

    /** Another connection subscribed to the channel (only channels in the gateway's {@code channels.join-leave}). */
    default void onJoin(PresenceChange join) {}

    /** Another connection left the channel (only channels in the gateway's {@code channels.join-leave}). */
    default void onLeave(PresenceChange leave) {}

    /**
     * The server refused the subscription ({@code forbidden}, {@code bad_channel},
     * {@code too_many_subscriptions}), at first or when it was restored after a reconnect. The
     * subscription has ended; no other call follows.
     */
    default void onError(ServerErrorException error) {}

    /**
     * A publication on an encrypted channel (see {@link PortcullisClient.Builder#encryption}) did not
     * decrypt: altered, under an unknown kid or another key, replayed from another channel, or not an
     * envelope. Its data is never delivered; it comes in offset order among the messages, its offset
     * counts as delivered ({@link Subscription#position()} moves past it) and the subscription goes
     * on. The default ignores it (the client logs it at debug level).
     */
    default void onDecryptFailed(DecryptFailure failure) {}
}
