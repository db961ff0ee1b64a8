package dev.portcullis.client;

import java.time.Duration;

/** The server answered a request with an {@code error} (for example {@code forbidden}, {@code invalid_message}, {@code unavailable}). */
public final class ServerErrorException extends PortcullisException {
    private final String code;
    private final transient Duration retryAfter;

    public ServerErrorException(String code, String message, Duration retryAfter) {
        super(code + ": " + message);
        this.code = code;
        this.retryAfter = retryAfter;
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
