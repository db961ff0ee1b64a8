package dev.portcullis.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;

/** The wire format (docs/protocol.md): client messages out, server messages in. */
final class Frames {
    static final ObjectMapper JSON = new ObjectMapper();

    private Frames() {}

    static String subscribe(String id, String channel, Position since) {
        ObjectNode frame = frame("subscribe", id).put("channel", channel);
        if (since != null) {
            frame.putObject("since").put("offset", since.offset()).put("epoch", since.epoch());
        }
        return frame.toString();
    }

    static String unsubscribe(String id, String channel) {
        return frame("unsubscribe", id).put("channel", channel).toString();
    }

    static String publish(String id, String channel, JsonNode data, String idempotencyKey) {
        ObjectNode frame = frame("publish", id).put("channel", channel);
        frame.set("data", data);
        frame.put("idempotencyKey", idempotencyKey);
        return frame.toString();
    }

    static String history(String id, String channel, Position since, int limit) {
        ObjectNode frame = frame("history", id).put("channel", channel);
        if (since != null) {
            frame.putObject("since").put("offset", since.offset()).put("epoch", since.epoch());
        }
        if (limit > 0) {
            frame.put("limit", limit);
        }
        return frame.toString();
    }

    static String presence(String id, String channel) {
        return frame("presence", id).put("channel", channel).toString();
    }

    static String auth(String id, String token) {
        return frame("auth", id).put("token", token).toString();
    }

    private static ObjectNode frame(String type, String id) {
        return JSON.createObjectNode().put("type", type).put("id", id);
    }

    /** A server message as a tree; throws {@link IllegalArgumentException} if it is not a JSON object. */
    static JsonNode parse(String text) {
        try {
            JsonNode node = JSON.readTree(text);
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** JSON text given by the application as publication data. */
    static JsonNode data(String json) {
        try {
            JsonNode node = JSON.readTree(json);
            if (node == null || node.isMissingNode()) {
                throw new IllegalArgumentException("publication data is empty");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("publication data is not JSON: " + e.getOriginalMessage(), e);
        }
    }

    static Message message(JsonNode frame) {
        return new Message(frame.path("channel").asText(), frame.path("offset").asLong(), text(frame, "epoch"),
                frame.get("data"));
    }

    static HistoryPage historyPage(JsonNode frame) {
        String channel = frame.path("channel").asText();
        String epoch = text(frame, "epoch");
        List<Message> publications = new ArrayList<>();
        for (JsonNode publication : frame.path("publications")) {
            publications.add(new Message(channel, publication.path("offset").asLong(), epoch, publication.get("data")));
        }
        return new HistoryPage(channel, frame.path("offset").asLong(), epoch, frame.path("complete").asBoolean(false), publications);
    }

    static Presence presence(JsonNode frame) {
        List<Presence.Member> members = new ArrayList<>();
        for (JsonNode member : frame.path("members")) {
            members.add(new Presence.Member(member.path("user").asText(), member.path("connection").asText(),
                    java.time.Instant.ofEpochMilli(member.path("since").asLong())));
        }
        return new Presence(frame.path("channel").asText(), members, frame.path("complete").asBoolean(false));
    }

    static PresenceChange presenceChange(JsonNode frame) {
        return new PresenceChange(frame.path("channel").asText(), frame.path("user").asText(), frame.path("connection").asText());
    }

    /** A text field, or null when absent or null. */
    static String text(JsonNode frame, String field) {
        JsonNode value = frame.get(field);
        return value == null || value.isNull() ? null : value.asText();
    }

    /** A number field, or null when absent or not a number. */
    static Long number(JsonNode frame, String field) {
        JsonNode value = frame.get(field);
        return value == null || !value.isNumber() ? null : value.asLong();
    }

    static Boolean bool(JsonNode frame, String field) {
        JsonNode value = frame.get(field);
        return value == null || !value.isBoolean() ? null : value.asBoolean();
    }
}
