package dev.portcullis.client;

/** Base of the exceptions the client completes futures with. Unchecked. */
public class PortcullisException extends RuntimeException {
    public PortcullisException(String message) {
        super(message);
    }

    public PortcullisException(String message, Throwable cause) {
        super(message, cause);
    }

    /** For exceptions that are expected in numbers and whose stack trace would say nothing. */
    protected PortcullisException(String message, Throwable cause, boolean writableStackTrace) {
        super(message, cause, true, writableStackTrace);
    }
}
