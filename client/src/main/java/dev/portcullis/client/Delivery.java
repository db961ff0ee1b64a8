package dev.portcullis.client;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a subscription's {@link ChannelCursor} delivers, after ordering and de-duplication: the
 * subscription's position and future, then its listener. On an encrypted channel each publication
 * is decrypted here, so that only what is delivered is decrypted (never a replayed duplicate); one
 * that fails still moves the position (recovery does not ask for it again) and is reported with
 * {@link SubscriptionListener#onDecryptFailed} instead of {@link SubscriptionListener#onMessage}.
 * Client thread only.
 */
final class Delivery implements ChannelCursor.Sink {
    private static final Logger log = LoggerFactory.getLogger(PortcullisClient.class);

    private final SubscriptionHandle handle;
    private final EncryptedChannels encrypted;

    /** {@code encrypted}: the client's encrypted channels, or null when the handle's channel is not one of them. */
    Delivery(SubscriptionHandle handle, EncryptedChannels encrypted) {
        this.handle = handle;
        this.encrypted = encrypted;
    }

    @Override
    public void subscribed(Subscribed subscribed) {
        handle.positionChanged(subscribed.position());
        handle.subscribedFuture().complete(subscribed);
        if (handle.active()) {
            call(() -> handle.listener().onSubscribed(subscribed));
        }
    }

    @Override
    public void message(Message message) {
        handle.positionChanged(message.position());
        if (!handle.active()) {
            return;
        }
        if (encrypted == null) {
            call(() -> handle.listener().onMessage(message));
            return;
        }
        Message opened;
        try {
            opened = encrypted.open(message);
        } catch (DecryptFailedException e) {
            DecryptFailure failure = e.failure(message.channel(), message.offset());
            log.debug("{} at offset {} did not decrypt: {} ({})", failure.channel(), failure.offset(), failure.reason(), e.getMessage());
            call(() -> handle.listener().onDecryptFailed(failure));
            return;
        }
        call(() -> handle.listener().onMessage(opened));
    }

    /** Calls an application listener; what it throws is logged and otherwise ignored. */
    static void call(Runnable listenerCall) {
        try {
            listenerCall.run();
        } catch (RuntimeException e) {
            log.warn("a listener threw; ignored", e);
        }
    }
}
