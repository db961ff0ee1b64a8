package dev.portcullis.gateway.protocol;

/**
 * A message a client sends, decoded and validated by {@link MessageCodec}. {@code id} is the
 * client's optional correlation id, echoed in the {@code ack} or {@code error} it causes.
 */
public sealed interface ClientMessage {
    String id();

    /** The wire {@code type}, also the bounded tag of the received-messages metric. */
    String type();

    /** {@code {"type":"ping"}}: answered with {@code pong}. */
    record Ping(String id) implements ClientMessage {
        @Override
        public String type() {
            return "ping";
        }
    }

    /** {@code {"type":"auth","token":...}}: a fresh token, usually the answer to {@code reauth}. */
    record Auth(String id, String token) implements ClientMessage {
        @Override
        public String type() {
            return "auth";
        }

        @Override
        public String toString() {
            return "Auth[id=" + id + ", token=<redacted>]";
        }
    }
}
