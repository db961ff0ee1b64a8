package dev.portcullis.client;

/**
 * {@link EnvelopeCipher#open} could not decrypt an envelope. Carries the {@link DecryptFailure}
 * reason and the kid when readable. Built without a stack trace: a peer that publishes garbage into
 * an encrypted channel makes these as often as it publishes, and the trace would say nothing.
 */
public final class DecryptFailedException extends PortcullisException {
    private final String reason;
    private final String kid;

    DecryptFailedException(String reason, String kid, String message) {
        super(message, null, false);
        this.reason = reason;
        this.kid = kid;
    }

    /** {@link DecryptFailure#MALFORMED}, {@link DecryptFailure#UNKNOWN_KID} or {@link DecryptFailure#AUTHENTICATION_FAILED}. */
    public String reason() {
        return reason;
    }

    /** The envelope's key id when it could be read, else null. */
    public String kid() {
        return kid;
    }

    /** This failure as reported for the publication at {@code offset} in {@code channel}. */
    public DecryptFailure failure(String channel, long offset) {
        return new DecryptFailure(channel, offset, kid, reason);
    }
}
