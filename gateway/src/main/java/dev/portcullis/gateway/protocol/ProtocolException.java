package dev.portcullis.gateway.protocol;

/**
 * An inbound message the protocol refuses. {@code code} is the stable wire error code; the message
 * is safe to send back to the client (it never echoes the client's input). Cheap to throw (no stack
 * trace): a client controls how often.
 */
public final class ProtocolException extends RuntimeException {
    public static final String BAD_JSON = "bad_json";
    public static final String UNKNOWN_TYPE = "unknown_type";
    public static final String INVALID_MESSAGE = "invalid_message";
    /** A {@code channel} that is a string but not a valid channel name. */
    public static final String BAD_CHANNEL = "bad_channel";

    private final String code;
    private final RequestId id;

    public ProtocolException(String code, RequestId id, String message) {
        super(message, null, false, false);
        this.code = code;
        this.id = id;
    }

    public String code() {
        return code;
    }

    /** The message's {@code id} when it could be read, else null. */
    public RequestId id() {
        return id;
    }

    /**
     * The same refusal carrying {@code id}: {@link PublicationData#prepare} does not know the
     * message's id, its caller does.
     */
    public ProtocolException withId(RequestId id) {
        return new ProtocolException(code, id, getMessage());
    }
}
