package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.databind.JsonNode;

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

    /** {@code {"type":"subscribe","channel":...}}: answered with {@code ack} or {@code error}. */
    record Subscribe(String id, String channel) implements ClientMessage {
        @Override
        public String type() {
            return "subscribe";
        }
    }

    /** {@code {"type":"unsubscribe","channel":...}}: answered with {@code ack} (also when not subscribed). */
    record Unsubscribe(String id, String channel) implements ClientMessage {
        @Override
        public String type() {
            return "unsubscribe";
        }
    }

    /**
     * {@code {"type":"publish","channel":...,"data":...}}. {@code data} is any JSON value, checked
     * against the envelope schema only; its namespace schema and sanitising are applied later by
     * {@link PublicationData#prepare} once the publication is allowed.
     */
    record Publish(String id, String channel, JsonNode data) implements ClientMessage {
        @Override
        public String type() {
            return "publish";
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
