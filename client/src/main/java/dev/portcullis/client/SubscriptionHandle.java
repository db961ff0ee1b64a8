package dev.portcullis.client;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;

/** A {@link Subscription}: the listener, the cursor and its delivery (client thread only) and the flags other threads read. */
final class SubscriptionHandle implements Subscription {
    private final String channel;
    private final SubscriptionListener listener;
    private final ChannelCursor cursor;
    private final Delivery delivery;
    private final ClientEngine engine;
    private final CompletableFuture<Subscribed> subscribed = new CompletableFuture<>();
    private final AtomicBoolean active = new AtomicBoolean(true);
    private volatile Position position;

    SubscriptionHandle(String channel, Position since, SubscriptionListener listener, ClientEngine engine, EncryptedChannels encrypted) {
        this.channel = channel;
        this.listener = listener;
        this.cursor = new ChannelCursor(channel, since);
        this.delivery = new Delivery(this, encrypted.covers(channel) ? encrypted : null);
        this.engine = engine;
        this.position = since;
    }

    @Override
    public String channel() {
        return channel;
    }

    @Override
    public Position position() {
        return position;
    }

    @Override
    public CompletableFuture<Subscribed> subscribed() {
        return subscribed;
    }

    @Override
    public CompletableFuture<Void> unsubscribe() {
        return engine.unsubscribe(this);
    }

    SubscriptionListener listener() {
        return listener;
    }

    ChannelCursor cursor() {
        return cursor;
    }

    /** Where the cursor delivers (client thread only). */
    Delivery delivery() {
        return delivery;
    }

    boolean active() {
        return active.get();
    }

    /** Marks the subscription ended; true the first time. */
    boolean deactivate() {
        return active.getAndSet(false);
    }

    void positionChanged(Position position) {
        this.position = position;
    }

    CompletableFuture<Subscribed> subscribedFuture() {
        return subscribed;
    }

    @Override
    public String toString() {
        return "Subscription[" + channel + " at " + position + "]";
    }
}
