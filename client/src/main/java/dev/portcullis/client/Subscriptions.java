package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client's subscriptions, one per channel, and what the server says about them: their
 * publications and gaps (to the channel's {@link ChannelCursor}), joins and leaves, the answer to a
 * subscribe, the end of a connection and of the client. It exists apart from {@link ClientEngine}
 * because this state (the channel's handle, the claim on the channel) and the routing of a
 * channel's server messages to its handle stand alone: the engine and {@link Requests} only look a
 * handle up, add and remove one.
 *
 * <p>Threading: the channel claims are a concurrent set, taken and released on the application's
 * threads (a second subscription to a channel must fail at once, in the caller) and cleared on the
 * client thread. Everything else is client thread only, so the map needs no lock.
 */
final class Subscriptions {
    private static final Logger log = LoggerFactory.getLogger(PortcullisClient.class);

    /** Channels with a subscription that has not ended; any thread. */
    private final Set<String> claimed = ConcurrentHashMap.newKeySet();
    /** The registered subscriptions, in the order they were made (resubscribed in it); client thread only. */
    private final Map<String, SubscriptionHandle> byChannel = new LinkedHashMap<>();

    /** Claims {@code channel} for a new subscription; false if this client already has one. Any thread. */
    boolean claim(String channel) {
        return claimed.add(channel);
    }

    /** Releases the claim on {@code channel}: a new subscription to it may be made. Any thread. */
    void release(String channel) {
        claimed.remove(channel);
    }

    SubscriptionHandle get(String channel) {
        return byChannel.get(channel);
    }

    void put(SubscriptionHandle handle) {
        byChannel.put(handle.channel(), handle);
    }

    /** Removes {@code handle} if it is still its channel's subscription; true if it was. */
    boolean remove(SubscriptionHandle handle) {
        return byChannel.remove(handle.channel(), handle);
    }

    Collection<SubscriptionHandle> all() {
        return byChannel.values();
    }

    /** A publication, to its channel's cursor; in other channels (automatic ones) ignored. */
    void onMessage(JsonNode frame) {
        Message message = Frames.message(frame);
        SubscriptionHandle handle = byChannel.get(message.channel());
        if (handle == null) {
            log.trace("message for {} without a subscription (auto-subscribed channel)", message.channel());
            return;
        }
        handle.cursor().onMessage(message, handle.delivery());
    }

    void onGap(JsonNode frame) {
        SubscriptionHandle handle = byChannel.get(Frames.text(frame, "channel"));
        Long offset = Frames.number(frame, "offset");
        if (handle != null && offset != null) {
            handle.cursor().onGap(offset, Frames.text(frame, "epoch"), handle.delivery());
        }
    }

    /** A join or leave in a subscribed channel, to its listener; in other channels (automatic ones) ignored. */
    void onPresenceChange(JsonNode frame) {
        SubscriptionHandle handle = byChannel.get(Frames.text(frame, "channel"));
        if (handle != null) {
            PresenceChange change = Frames.presenceChange(frame);
            boolean join = "join".equals(frame.path("type").asText());
            Delivery.call(() -> {
                if (join) {
                    handle.listener().onJoin(change);
                } else {
                    handle.listener().onLeave(change);
                }
            });
        }
    }

    /** The server's ack of {@code subscribe}: its position, to the cursor, unless the subscription ended meanwhile. */
    void acked(Request subscribe, JsonNode frame) {
        SubscriptionHandle handle = subscribe.subscription;
        if (byChannel.get(handle.channel()) == handle) {
            handle.cursor().onAck(Frames.number(frame, "offset"), Frames.text(frame, "epoch"),
                    Frames.bool(frame, "recovered"), subscribe.sinceSent, handle.delivery());
        }
    }

    /** The server refused {@code subscribe}: the subscription ends with {@code error}, its channel is free again. */
    void refused(Request subscribe, ServerErrorException error) {
        SubscriptionHandle handle = subscribe.subscription;
        if (byChannel.remove(handle.channel(), handle)) {
            claimed.remove(handle.channel());
            handle.subscribedFuture().completeExceptionally(error);
            if (handle.deactivate()) {
                Delivery.call(() -> handle.listener().onError(error));
            }
        }
    }

    /** The connection ended: each cursor waits for its resubscription's answer. */
    void connectionLost() {
        for (SubscriptionHandle handle : byChannel.values()) {
            handle.cursor().connectionLost();
        }
    }

    /** The client stopped: every subscription ends with {@code closed}, every claim is released. */
    void endAll(ClientClosedException closed) {
        List<SubscriptionHandle> ended = List.copyOf(byChannel.values());
        byChannel.clear();
        claimed.clear();
        for (SubscriptionHandle handle : ended) {
            handle.deactivate();
            handle.subscribedFuture().completeExceptionally(closed);
        }
    }
}
