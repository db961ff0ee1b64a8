package dev.portcullis.client;

import java.time.Duration;

/**
 * The server answered a request with an {@code error} (for example {@code forbidden},
 * {@code invalid_message}, {@code unavailable}: not published; {@code outcome_unknown}: maybe
 * published, see {@link #idempotencyKey()}).
 */
public final class ServerErrorException extends PortcullisException {
    private final String code;
    private final transient Duration retryAfter;
    private final String idempotencyKey;

    public ServerErrorException(String code, String message, Duration retryAfter) {
        this(code, message, retryAfter, null);
    }

    public ServerErrorException(String code, String message, Duration retryAfter, String idempotencyKey) {
        super(code + ": " + message);
        this.code = code;
        this.retryAfter = retryAfter;
        this.idempotencyKey = idempotencyKey;
    }

    /**
     * With {@code outcome_unknown} (a publish the server could not say was made, after the client's
     * own retries): the key it was sent with. A later retry with this key through the backend API
     * publishes it at most once. Null otherwise.
     */
    public String idempotencyKey() {
        return idempotencyKey;
    }

    /** The protocol's error code, e.g. {@code forbidden}. */
    public String code() {
        return code;
    }

    /** The server's {@code retryAfterMs}, or null. */
    public Duration retryAfter() {
        return retryAfter;
    }
}
