package dev.portcullis.client;

/**
 * A publication on an encrypted channel that could not be decrypted, reported to
 * {@link SubscriptionListener#onDecryptFailed} (live and recovered publications) or listed in
 * {@link HistoryPage#failed()}. Its data is never delivered; its offset counts as delivered, so the
 * subscription goes on after it and recovery does not ask for it again.
 *
 * @param channel the channel it was published to
 * @param offset  its offset in the channel
 * @param kid     the envelope's key id when it could be read, else null
 * @param reason  {@link #MALFORMED}, {@link #UNKNOWN_KID} or {@link #AUTHENTICATION_FAILED}
 */
public record DecryptFailure(String channel, long offset, String kid, String reason) {
    /**
     * Not a valid envelope (other members, {@code v} not 1, bad base64url, an iv that is not 12
     * bytes, a ciphertext shorter than the tag), or a plaintext that is not UTF-8 JSON.
     */
    public static final String MALFORMED = "malformed";

    /** The {@link ChannelKeys} had no key for the envelope's kid. */
    public static final String UNKNOWN_KID = "unknown_kid";

    /**
     * The GCM tag did not verify: the ciphertext or iv was altered, the key is not the one it was
     * encrypted with, or the envelope was encrypted for another channel and replayed into this one.
     */
    public static final String AUTHENTICATION_FAILED = "authentication_failed";
}
