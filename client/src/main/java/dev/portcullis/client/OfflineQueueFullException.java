package dev.portcullis.client;

/**
 * A publication was refused at once because the client already holds as many pending publications
 * as its {@code offlineQueue} capacity allows. Nothing was sent; retry later or drop it.
 */
public final class OfflineQueueFullException extends PortcullisException {
    public OfflineQueueFullException(int capacity) {
        super("offline queue full: " + capacity + " publications are already pending");
    }
}
