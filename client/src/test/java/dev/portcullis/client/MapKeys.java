package dev.portcullis.client;

import java.util.Map;
import javax.crypto.SecretKey;
import javax.crypto.spec.SecretKeySpec;

/**
 * Keys for encrypted-channel tests: the same keys (kid to 32 bytes) for every channel, new
 * publications under {@code currentKid}. Immutable, so one instance may serve several clients.
 */
record MapKeys(String currentKid, Map<String, byte[]> keys) implements ChannelKeys {
    /** Key bytes 0x00..0x1f, the key of docs/encryption-vectors.json. */
    static final byte[] VECTOR_KEY = sequence(0);

    /** One key, {@code kid}, with bytes {@code first, first+1, ...}. */
    static MapKeys of(String kid, int first) {
        return new MapKeys(kid, Map.of(kid, sequence(first)));
    }

    /** The same keys, new publications under {@code kid}. */
    MapKeys withCurrent(String kid) {
        return new MapKeys(kid, keys);
    }

    static byte[] sequence(int first) {
        byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++) {
            key[i] = (byte) (first + i);
        }
        return key;
    }

    @Override
    public String currentKid(String channel) {
        return currentKid;
    }

    @Override
    public SecretKey key(String channel, String kid) {
        byte[] key = keys.get(kid);
        return key == null ? null : new SecretKeySpec(key, "AES");
    }
}
