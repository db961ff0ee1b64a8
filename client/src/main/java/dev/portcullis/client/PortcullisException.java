package dev.portcullis.client;

/** Base of the exceptions the client completes futures with. Unchecked. */
public class PortcullisException extends RuntimeException {
    public PortcullisException(String message) {
        super(message);
    }

    public PortcullisException(String message, Throwable cause) {
        super(message, cause);
    }
}
