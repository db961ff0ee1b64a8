package dev.portcullis.gateway.broker;

/** The broker cannot accept publications now (e.g. Redis is down, or the gateway is closing). */
public final class BrokerUnavailableException extends RuntimeException {
    public BrokerUnavailableException(String message) {
        super(message, null, false, false);
    }
}
