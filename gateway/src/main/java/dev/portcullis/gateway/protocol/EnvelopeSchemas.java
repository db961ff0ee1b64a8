package dev.portcullis.gateway.protocol;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON Schemas of the client messages, one per {@code type}, from the classpath resources
 * {@code schemas/client/<type>.json}. Loaded once per JVM; immutable and thread-safe.
 */
final class EnvelopeSchemas {
    static final List<String> TYPES = List.of("ping", "auth", "subscribe", "unsubscribe", "publish", "history", "presence");

    private static final EnvelopeSchemas INSTANCE = load();

    private final Map<String, Schema> byType;

    private EnvelopeSchemas(Map<String, Schema> byType) {
        this.byType = Map.copyOf(byType);
    }

    static EnvelopeSchemas instance() {
        return INSTANCE;
    }

    /** True when {@code type} is a client message type. */
    boolean knows(String type) {
        return byType.containsKey(type);
    }

    /**
     * @param type a type {@link #knows known}
     * @throws ProtocolException {@code bad_channel} when the only thing wrong is reported on a
     *     channel name that is a string, else {@code invalid_message}; the message names the path
     */
    void validate(String type, JsonNode message, RequestId id) {
        List<Error> errors = byType.get(type).validate(message);
        if (errors.isEmpty()) {
            return;
        }
        Error error = SchemaErrors.mostRelevant(errors);
        if (isChannelName(error)) {
            throw new ProtocolException(ProtocolException.BAD_CHANNEL, id, "$.channel: does not match the channel pattern");
        }
        throw new ProtocolException(ProtocolException.INVALID_MESSAGE, id, SchemaErrors.describe(error, "$"));
    }

    private static boolean isChannelName(Error error) {
        return "pattern".equals(error.getKeyword())
                && error.getInstanceLocation().getNameCount() == 1
                && "channel".equals(error.getInstanceLocation().getName(0));
    }

    private static EnvelopeSchemas load() {
        JsonMapper json = JsonMapper.builder().build();
        Map<String, Schema> byType = new LinkedHashMap<>();
        for (String type : TYPES) {
            String resource = "schemas/client/" + type + ".json";
            try (InputStream in = EnvelopeSchemas.class.getClassLoader().getResourceAsStream(resource)) {
                if (in == null) {
                    throw new IllegalStateException("missing resource " + resource);
                }
                byType.put(type, SchemaCompiler.compile(json.readTree(in)));
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read resource " + resource, e);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(resource + ": " + e.getMessage(), e);
            }
        }
        return new EnvelopeSchemas(byType);
    }
}
