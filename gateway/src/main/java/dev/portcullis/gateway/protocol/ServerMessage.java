package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * A message the server sends. Encoded by {@link MessageCodec#encode(ServerMessage)}; null fields are
 * omitted. Each record lists {@code type} first in its {@code @JsonPropertyOrder}.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public sealed interface ServerMessage {
    @JsonProperty("type")
    String type();

    /** First message after the upgrade. {@code expiresAt} is the token's {@code exp} in epoch milliseconds. */
    @JsonPropertyOrder({"type", "connection", "user", "expiresAt"})
    record Connected(String connection, String user, long expiresAt) implements ServerMessage {
        @Override
        public String type() {
            return "connected";
        }
    }

    /** Asks for a fresh token; the connection closes with 4001 unless one arrives before {@code deadlineMs} (epoch ms). */
    @JsonPropertyOrder({"type", "deadlineMs"})
    record Reauth(long deadlineMs) implements ServerMessage {
        @Override
        public String type() {
            return "reauth";
        }
    }

    @JsonPropertyOrder({"type", "id"})
    record Pong(RequestId id) implements ServerMessage {
        @Override
        public String type() {
            return "pong";
        }
    }

    /**
     * Success of a request. After {@code auth}: {@code expiresAt}. After {@code publish}: the
     * publication's {@code offset} and {@code epoch}. After {@code subscribe}: the {@code channel},
     * its latest {@code offset} and {@code epoch}, and, when the subscribe asked to recover from a
     * position, whether it did ({@code recovered}; the missed publications follow the ack).
     */
    @JsonPropertyOrder({"type", "id", "channel", "expiresAt", "offset", "epoch", "recovered"})
    record Ack(RequestId id, String channel, Long expiresAt, Long offset, String epoch, Boolean recovered) implements ServerMessage {
        public Ack(RequestId id, Long expiresAt) {
            this(id, null, expiresAt, null, null, null);
        }

        public static Ack published(RequestId id, long offset, String epoch) {
            return new Ack(id, null, null, offset, epoch, null);
        }

        public static Ack subscribed(RequestId id, String channel, long offset, String epoch, Boolean recovered) {
            return new Ack(id, channel, null, offset, epoch, recovered);
        }

        @Override
        public String type() {
            return "ack";
        }
    }

    /** A page of a channel's history, oldest first; {@code offset} and {@code epoch} are the channel's latest. */
    @JsonPropertyOrder({"type", "id", "channel", "offset", "epoch", "complete", "publications"})
    record History(RequestId id, String channel, long offset, String epoch, boolean complete, java.util.List<Stored> publications)
            implements ServerMessage {
        /** One publication; {@code data} is already JSON text. */
        @JsonPropertyOrder({"offset", "data"})
        public record Stored(long offset, @com.fasterxml.jackson.annotation.JsonRawValue String data) {}

        @Override
        public String type() {
            return "history";
        }
    }

    /**
     * The members of a channel that keeps presence, longest present first: at most
     * {@code Presence.MAX_MEMBERS}; {@code complete} is false when there were more or when some
     * instances could not be asked. {@code since} is when the member joined, in epoch milliseconds.
     */
    @JsonPropertyOrder({"type", "id", "channel", "members", "complete"})
    record Presence(RequestId id, String channel, java.util.List<Member> members, boolean complete) implements ServerMessage {
        @JsonPropertyOrder({"user", "connection", "since"})
        public record Member(String user, String connection, long since) {}

        @Override
        public String type() {
            return "presence";
        }
    }

    /** Sent right before the server closes: why, and how long to wait before reconnecting. */
    @JsonPropertyOrder({"type", "code", "reason", "retryAfterMs"})
    record Disconnect(int code, String reason, Long retryAfterMs) implements ServerMessage {
        @Override
        public String type() {
            return "disconnect";
        }
    }

    /**
     * {@code idempotencyKey}: only with {@code outcome_unknown}, the key that makes a retry of the
     * publish safe. {@code channel}: only with an unrequested {@code forbidden} (a re-auth withdrew
     * the read permission and the channel was left), the channel it is about.
     */
    @JsonPropertyOrder({"type", "id", "code", "message", "retryAfterMs", "idempotencyKey", "channel"})
    record Error(RequestId id, String code, String message, Long retryAfterMs, String idempotencyKey, String channel)
            implements ServerMessage {
        public Error(RequestId id, String code, String message, Long retryAfterMs) {
            this(id, code, message, retryAfterMs, null, null);
        }

        public Error(RequestId id, String code, String message, Long retryAfterMs, String idempotencyKey) {
            this(id, code, message, retryAfterMs, idempotencyKey, null);
        }

        /** The read permission for {@code channel} was withdrawn by a re-auth; the channel was left. */
        public static Error withdrawn(String channel) {
            return new Error(null, "forbidden", "read permission for " + channel + " was withdrawn; unsubscribed", null, null, channel);
        }

        @Override
        public String type() {
            return "error";
        }
    }
}
