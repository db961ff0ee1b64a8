package dev.portcullis.gateway.broker;

/**
 * The publication was handed to the broker's backend, but no answer came in time: it may or may
 * not have been published (Redis may run it later: a stall, a failover replaying the command). The
 * caller must not say "not published"; it answers {@code outcome_unknown} with this idempotency key,
 * and a retry with the key publishes at most once, whichever happened.
 */
public final class PublishOutcomeUnknownException extends RuntimeException {
    private final String idempotencyKey;

    public PublishOutcomeUnknownException(String idempotencyKey, String message) {
        super(message, null, false, false);
        this.idempotencyKey = idempotencyKey;
    }

    /** The key the publication was sent with (the caller's, or one the broker generated). */
    public String idempotencyKey() {
        return idempotencyKey;
    }
}
