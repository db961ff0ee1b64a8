package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * JSON text frames to {@link ClientMessage} and {@link ServerMessage} to JSON. Thread-safe and
 * stateless; one instance serves the whole gateway.
 *
 * <p>Decoding parses once (Jackson 3, the tree the schema validator reads), checks the message
 * against the JSON Schema of its {@code type} (resources {@code schemas/client/<type>.json}) and
 * builds the record; only a publication's {@code data} is copied into a Jackson 2 tree. Duplicate
 * keys are refused as {@code bad_json}: parsers disagree on which one wins.
 */
public final class MessageCodec {
    private static final int MAX_ID_CHARS = 64;

    /*
     * Shared by every codec of the JVM (Jackson's mappers are thread-safe once built): a mapper
     * caches the (de)serializers it built per class, and with one per gateway the real gateway's
     * caches were empty at ready, so its first messages took the building branches that compiled
     * code, warmed through the throwaway gateway's mapper, had never seen: the encoder was thrown
     * away and compiled again three times in the first seconds (BENCHMARKS.md, "Cold start, round 4").
     */
    private static final JsonMapper READER = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
    private static final ObjectMapper WRITER = new ObjectMapper();
    private final EnvelopeSchemas schemas = EnvelopeSchemas.instance();

    /**
     * @throws ProtocolException {@code bad_json} (not a JSON object), {@code unknown_type},
     *     {@code invalid_message} (the message names the JSON path, e.g. {@code $.token: is required})
     *     or {@code bad_channel}; its {@code id} is the message's id when that could be read
     */
    /** A validated {@code since} object, or null. */
    private static ClientMessage.Since since(JsonNode since) {
        return since == null ? null : new ClientMessage.Since(since.get("offset").longValue(), since.get("epoch").stringValue());
    }

    /**
     * The {@code recover} query parameter of the upgrade request: a JSON object from channel name to
     * {@code {"offset":N,"epoch":E}}, the positions a reconnecting client has in channels it is
     * subscribed to automatically. At most 64 entries.
     *
     * @throws ProtocolException {@code invalid_message} naming what is wrong
     */
    public java.util.Map<String, ClientMessage.Since> decodeRecover(String text) {
        JsonNode root;
        try {
            root = READER.readTree(text);
        } catch (JacksonException e) {
            throw new ProtocolException(ProtocolException.BAD_JSON, null, "recover: not valid JSON");
        }
        if (!(root instanceof ObjectNode object) || object.size() > 64) {
            throw new ProtocolException(ProtocolException.INVALID_MESSAGE, null, "recover: a JSON object of at most 64 channels");
        }
        java.util.Map<String, ClientMessage.Since> positions = new java.util.LinkedHashMap<>();
        for (var field : object.properties()) {
            JsonNode position = field.getValue();
            JsonNode offset = position.get("offset");
            JsonNode epoch = position.get("epoch");
            if (!field.getKey().matches("[A-Za-z0-9_.:-]{1,128}") || offset == null || !offset.canConvertToLong() || offset.longValue() < 0
                    || epoch == null || !epoch.isString() || epoch.stringValue().length() > 64) {
                throw new ProtocolException(ProtocolException.INVALID_MESSAGE, null,
                        "recover: each entry is \"channel\": {\"offset\": N, \"epoch\": \"...\"}");
            }
            positions.put(field.getKey(), new ClientMessage.Since(offset.longValue(), epoch.stringValue()));
        }
        return positions;
    }

    public ClientMessage decode(String text) {
        JsonNode root;
        try {
            root = READER.readTree(text);
        } catch (JacksonException e) {
            throw new ProtocolException(ProtocolException.BAD_JSON, null, "message is not valid JSON");
        }
        if (!(root instanceof ObjectNode message)) {
            throw new ProtocolException(ProtocolException.BAD_JSON, null, "message must be a JSON object");
        }
        RequestId id = id(message.get("id"));
        JsonNode type = message.get("type");
        if (type == null) {
            throw new ProtocolException(ProtocolException.INVALID_MESSAGE, id, "$.type: is required");
        }
        if (!type.isString()) {
            throw new ProtocolException(ProtocolException.INVALID_MESSAGE, id, "$.type: must be of type string");
        }
        if (!schemas.knows(type.stringValue())) {
            throw new ProtocolException(ProtocolException.UNKNOWN_TYPE, id, "unknown message type");
        }
        schemas.validate(type.stringValue(), message, id);
        return switch (type.stringValue()) {
            case "ping" -> new ClientMessage.Ping(id);
            case "auth" -> new ClientMessage.Auth(id, message.get("token").stringValue());
            case "subscribe" -> new ClientMessage.Subscribe(id, message.get("channel").stringValue(), since(message.get("since")));
            case "history" -> new ClientMessage.History(id, message.get("channel").stringValue(), since(message.get("since")),
                    message.has("limit") ? message.get("limit").intValue() : ClientMessage.History.DEFAULT_LIMIT);
            case "unsubscribe" -> new ClientMessage.Unsubscribe(id, message.get("channel").stringValue());
            case "presence" -> new ClientMessage.Presence(id, message.get("channel").stringValue());
            case "publish" -> new ClientMessage.Publish(id, message.get("channel").stringValue(), data(message.get("data"), id),
                    message.has("idempotencyKey") ? message.get("idempotencyKey").stringValue() : null);
            default -> throw new IllegalStateException("no record for schema type " + type.stringValue());
        };
    }

    /** The JSON text of {@code message}, {@code type} first, null fields left out. */
    public String encode(ServerMessage message) {
        try {
            return WRITER.writeValueAsString(message);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot encode " + message.type(), e);
        }
    }

    /**
     * The id to echo, or null when there is none or it is not one the schema accepts (the schema
     * then reports it, without an id).
     */
    private static RequestId id(JsonNode id) {
        if (id == null) {
            return null;
        }
        RequestId parsed = null;
        if (id.isString()) {
            parsed = RequestId.of(id.stringValue());
        } else if (id.isIntegralNumber()) {
            parsed = new RequestId(id.asString(), true);
        } else if (id.isNumber() && id.canConvertToExactIntegral()) {
            parsed = new RequestId(id.bigIntegerValue().toString(), true); // 3.0 is the integer 3
        }
        return parsed != null && parsed.text().length() <= MAX_ID_CHARS ? parsed : null;
    }

    private static com.fasterxml.jackson.databind.JsonNode data(JsonNode data, RequestId id) {
        try {
            return TreeBridge.toV2(data);
        } catch (TreeBridge.NonFiniteNumber e) {
            throw new ProtocolException(ProtocolException.INVALID_MESSAGE, id, "$.data: holds a number too large for a double");
        }
    }
}
