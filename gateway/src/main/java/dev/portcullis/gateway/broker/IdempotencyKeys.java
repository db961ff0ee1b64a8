package dev.portcullis.gateway.broker;

import dev.portcullis.gateway.history.Position;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Idempotent publishing for one instance: the first publication with a key wins, a repeat within
 * the window gets the first one's position. Bounded: expired keys are swept, and past
 * {@code maxKeys} live keys a new key is simply not remembered (its publication still happens).
 */
final class IdempotencyKeys {
    private record Remembered(Position position, long expiresAtMillis) {}

    private final ConcurrentHashMap<String, Remembered> keys = new ConcurrentHashMap<>();
    private final long windowMillis;
    private final int maxKeys;
    private final LongSupplier clockMillis;

    IdempotencyKeys(long windowMillis, int maxKeys, LongSupplier clockMillis) {
        this.windowMillis = windowMillis;
        this.maxKeys = maxKeys;
        this.clockMillis = clockMillis;
    }

    /**
     * The remembered position for {@code channel}+{@code key}, or {@code publish.get()} remembered now.
     * Two racing calls with one key: {@code compute} runs one publish at a time per key.
     */
    Position publishOnce(String channel, String key, Supplier<Position> publish) {
        long now = clockMillis.getAsLong();
        String id = channel + '\n' + key;
        Remembered remembered = keys.get(id);
        if (remembered != null && remembered.expiresAtMillis() > now) {
            return remembered.position();
        }
        if (keys.size() >= maxKeys) {
            return publish.get();
        }
        return keys.compute(id, (k, old) -> old != null && old.expiresAtMillis() > now
                ? old : new Remembered(publish.get(), now + windowMillis)).position();
    }

    void sweep() {
        long now = clockMillis.getAsLong();
        keys.values().removeIf(r -> r.expiresAtMillis() <= now);
    }

    int size() {
        return keys.size();
    }
}
