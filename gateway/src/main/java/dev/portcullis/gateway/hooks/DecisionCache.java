package dev.portcullis.gateway.hooks;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Subscribe answers the backend allowed to be reused ({@code cacheSeconds}), by user and channel,
 * until they expire. Bounded: past {@code maxEntries} the least recently used entry goes. Only
 * definite answers (accept, reject) are kept; a failure is never cached. Thread-safe (one lock; every
 * operation is a map lookup).
 */
final class DecisionCache {
    private record Cached(HookResult result, long expiresAtMillis) {}

    private final Map<String, Cached> entries;

    DecisionCache(int maxEntries) {
        this.entries = new LinkedHashMap<>(64, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Cached> eldest) {
                return size() > maxEntries;
            }
        };
    }

    static String key(String user, String channel) {
        return user + '\u0000' + channel; // channel names cannot hold a NUL
    }

    /** The cached answer, or null when none is fresh at {@code nowMillis}. */
    synchronized HookResult get(String key, long nowMillis) {
        Cached entry = entries.get(key);
        if (entry == null) {
            return null;
        }
        if (nowMillis >= entry.expiresAtMillis()) {
            entries.remove(key);
            return null;
        }
        return entry.result();
    }

    synchronized void put(String key, HookResult result, long expiresAtMillis) {
        entries.put(key, new Cached(result, expiresAtMillis));
    }

    synchronized int size() {
        return entries.size();
    }
}
