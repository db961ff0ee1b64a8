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
    record Pong(String id) implements ServerMessage {
        @Override
        public String type() {
            return "pong";
        }
    }

    /**
     * Success of a request. {@code expiresAt} is set when it answers {@code auth}, {@code offset} when
     * it answers {@code publish} (the publication's offset in its channel).
     */
    @JsonPropertyOrder({"type", "id", "expiresAt", "offset"})
    record Ack(String id, Long expiresAt, Long offset) implements ServerMessage {
        public Ack(String id, Long expiresAt) {
            this(id, expiresAt, null);
        }

        @Override
        public String type() {
            return "ack";
        }
    }

    @JsonPropertyOrder({"type", "id", "code", "message", "retryAfterMs"})
    record Error(String id, String code, String message, Long retryAfterMs) implements ServerMessage {
        @Override
        public String type() {
            return "error";
        }
    }
}
