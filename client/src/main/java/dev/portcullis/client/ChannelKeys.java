package dev.portcullis.client;

import javax.crypto.SecretKey;

/**
 * The application's keys for encrypted channels (see {@link PortcullisClient.Builder#encryption}).
 * Keys are per channel and identified by a key id ({@code kid}), so that a channel's key can be
 * rotated: new publications are encrypted with {@link #currentKid}, and older ones still decrypt as
 * long as {@link #key} knows their kid.
 *
 * <p>Threading: the client calls both methods on its own thread, once per publication it encrypts
 * and once per publication it decrypts, and reads nothing from the server meanwhile. Answer from
 * memory: fetch keys ahead (e.g. from the application's backend over HTTPS when joining a room) and
 * never block here. An implementation shared by several clients must be thread-safe. Exceptions
 * thrown here count as "no key".
 */
public interface ChannelKeys {
    /**
     * The key id to encrypt new publications to {@code channel} with: 1 to 64 printable ASCII
     * characters (0x21-0x7E), travelling in clear in every envelope. Null or invalid: publishing to
     * the channel fails.
     */
    String currentKid(String channel);

    /**
     * The AES-256 key (32 bytes, e.g. {@code new SecretKeySpec(bytes, "AES")}) known as {@code kid}
     * for {@code channel}, or null when it is unknown (a publication under it is reported as a
     * {@link DecryptFailure} with reason {@link DecryptFailure#UNKNOWN_KID}).
     */
    SecretKey key(String channel, String kid);
}
