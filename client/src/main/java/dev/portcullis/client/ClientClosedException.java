package dev.portcullis.client;

/** The client stopped for good (closed by the application, or a terminal close code) before the request completed. */
public final class ClientClosedException extends PortcullisException {
    private final transient Disconnected disconnected;

    public ClientClosedException(Disconnected disconnected) {
        super("client stopped: " + disconnected.code() + " " + disconnected.reason());
        this.disconnected = disconnected;
    }

    /** Why the client stopped. */
    public Disconnected disconnected() {
        return disconnected;
    }
}
