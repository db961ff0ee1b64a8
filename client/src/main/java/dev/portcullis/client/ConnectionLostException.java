package dev.portcullis.client;

/**
 * The connection ended after a request was sent but before the server answered it. For a
 * publication the outcome is unknown: it may or may not have been published. The client does not
 * resend it (that could publish it twice).
 */
public final class ConnectionLostException extends PortcullisException {
    public ConnectionLostException(String message) {
        super(message);
    }
}
