package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A message a client sends, decoded and validated by {@link MessageCodec}. {@code id} is the
 * client's optional correlation id, echoed in the {@code ack} or {@code error} it causes.
 */
public sealed interface ClientMessage {
    RequestId id();

    /** The wire {@code type}, also the bounded tag of the received-messages metric. */
    String type();

    /** {@code {"type":"ping"}}: answered with {@code pong}. */
    record Ping(RequestId id) implements ClientMessage {
        @Override
        public String type() {
            return "ping";
        }
    }

    /** A position a client has reached in a channel: its last offset and the epoch it belongs to. */
    record Since(long offset, String epoch) {}

    /**
     * {@code {"type":"subscribe","channel":...,"since":{"offset":N,"epoch":E}?}}: answered with
     * {@code ack} or {@code error}; with {@code since}, the missed publications follow the ack.
     */
    record Subscribe(RequestId id, String channel, Since since) implements ClientMessage {
        public Subscribe(RequestId id, String channel) {
            this(id, channel, null);
        }

        @Override
        public String type() {
            return "subscribe";
        }
    }

    /** {@code {"type":"unsubscribe","channel":...}}: answered with {@code ack} (also when not subscribed). */
    record Unsubscribe(RequestId id, String channel) implements ClientMessage {
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
    record Publish(RequestId id, String channel, JsonNode data, String idempotencyKey) implements ClientMessage {
        public Publish(RequestId id, String channel, JsonNode data) {
            this(id, channel, data, null);
        }

        @Override
        public String type() {
            return "publish";
        }
    }

    /** {@code {"type":"history","channel":...,"since"?:...,"limit"?:N}}: answered with {@code history} or {@code error}. */
    record History(RequestId id, String channel, Since since, int limit) implements ClientMessage {
        public static final int DEFAULT_LIMIT = 100;

        @Override
        public String type() {
            return "history";
        }
    }

    /** {@code {"type":"presence","channel":...}}: answered with {@code presence} or {@code error}. */
    record Presence(RequestId id, String channel) implements ClientMessage {
        @Override
        public String type() {
            return "presence";
        }
    }

    /** {@code {"type":"auth","token":...}}: a fresh token, usually the answer to {@code reauth}. */
    record Auth(RequestId id, String token) implements ClientMessage {
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
