package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * JSON text frames to {@link ClientMessage} and {@link ServerMessage} to JSON. Thread-safe and
 * stateless; one instance serves the whole gateway.
 */
public final class MessageCodec {
    private static final int MAX_ID_LENGTH = 64;

    private final ObjectMapper json = new ObjectMapper();

    /** @throws ProtocolException with {@code bad_json}, {@code unknown_type} or {@code invalid_message} */
    public ClientMessage decode(String text) {
        JsonNode root;
        try {
            root = json.readTree(text);
        } catch (JsonProcessingException e) {
            throw new ProtocolException(ProtocolException.BAD_JSON, null, "message is not valid JSON");
        }
        if (!(root instanceof ObjectNode object)) {
            throw new ProtocolException(ProtocolException.BAD_JSON, null, "message must be a JSON object");
        }
        String id = id(object);
        JsonNode type = object.get("type");
        if (type == null || !type.isTextual()) {
            throw new ProtocolException(ProtocolException.INVALID_MESSAGE, id, "$.type: a string is required");
        }
        return switch (type.textValue()) {
            case "ping" -> new ClientMessage.Ping(id);
            case "auth" -> new ClientMessage.Auth(id, requiredString(object, "token", id));
            default -> throw new ProtocolException(ProtocolException.UNKNOWN_TYPE, id, "unknown message type");
        };
    }

    public String encode(ServerMessage message) {
        try {
            ObjectNode node = json.valueToTree(message);
            ObjectNode ordered = json.createObjectNode().put("type", message.type());
            ordered.setAll(node);
            return json.writeValueAsString(ordered);
        } catch (JsonProcessingException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot encode " + message.type(), e);
        }
    }

    private static String id(ObjectNode object) {
        JsonNode id = object.get("id");
        if (id == null || id.isNull()) {
            return null;
        }
        if (!id.isTextual() && !id.isIntegralNumber() || id.asText().length() > MAX_ID_LENGTH) {
            throw new ProtocolException(ProtocolException.INVALID_MESSAGE, null, "$.id: a string or integer of at most 64 characters");
        }
        return id.asText();
    }

    private static String requiredString(ObjectNode object, String field, String id) {
        JsonNode value = object.get(field);
        if (value == null || !value.isTextual() || value.textValue().isEmpty()) {
            throw new ProtocolException(ProtocolException.INVALID_MESSAGE, id, "$." + field + ": a non-empty string is required");
        }
        return value.textValue();
    }
}
