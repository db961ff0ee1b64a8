package dev.portcullis.client;

import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

/** Records every listener call of a client and its subscriptions, for assertions and Awaitility waits. */
final class Events implements ConnectionListener {
    final List<Connected> connected = new CopyOnWriteArrayList<>();
    final List<Disconnected> disconnected = new CopyOnWriteArrayList<>();
    final List<Instant> reauthenticated = new CopyOnWriteArrayList<>();
    final List<Subscribed> subscribed = new CopyOnWriteArrayList<>();
    final List<Message> messages = new CopyOnWriteArrayList<>();
    final List<ServerErrorException> errors = new CopyOnWriteArrayList<>();
    final List<DecryptFailure> decryptFailures = new CopyOnWriteArrayList<>();
    /** Offsets given to onMessage or onDecryptFailed, in the order of the calls. */
    final List<Long> delivered = new CopyOnWriteArrayList<>();
    final List<String> threads = new CopyOnWriteArrayList<>();

    @Override
    public void onConnected(Connected event) {
        threads.add(Thread.currentThread().getName());
        connected.add(event);
    }

    @Override
    public void onDisconnected(Disconnected event) {
        threads.add(Thread.currentThread().getName());
        disconnected.add(event);
    }

    @Override
    public void onReauthenticated(Instant expiresAt) {
        reauthenticated.add(expiresAt);
    }

    /** A subscription listener recording into these events. */
    SubscriptionListener channel() {
        return new SubscriptionListener() {
            @Override
            public void onSubscribed(Subscribed event) {
                threads.add(Thread.currentThread().getName());
                subscribed.add(event);
            }

            @Override
            public void onMessage(Message message) {
                threads.add(Thread.currentThread().getName());
                messages.add(message);
                delivered.add(message.offset());
            }

            @Override
            public void onDecryptFailed(DecryptFailure failure) {
                threads.add(Thread.currentThread().getName());
                decryptFailures.add(failure);
                delivered.add(failure.offset());
            }

            @Override
            public void onError(ServerErrorException error) {
                errors.add(error);
            }
        };
    }

    List<Long> offsets(String channel) {
        return messages.stream().filter(m -> m.channel().equals(channel)).map(Message::offset).collect(Collectors.toList());
    }
}
