package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import dev.portcullis.gateway.config.ChannelsConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@link PublicationData} by namespace, from {@code channels.schemas}, {@code channels.sanitize} and
 * {@code channels.sanitize-default}. Schemas are read and compiled once, at creation. Immutable and
 * thread-safe.
 *
 * <p>{@code text} mode sanitises every string of the data, object keys included: HTML markup is
 * removed (tags, comments, script and style content), control characters are removed, the result is
 * NFC. {@code &} stays literal (references are not decoded). The result is plain text for
 * {@code textContent}; it holds no tag, but it is not escaped for attributes, URLs or scripts. The
 * full contract is on {@code TextSanitizer}. {@code none} passes the data through.
 *
 * <p>Order: the data is sanitised first, then validated, so the schema holds for exactly what
 * subscribers receive (sanitising can shorten or empty a string a schema constrains).
 */
public final class NamespacePolicies implements PublicationData {
    private final Map<String, Schema> schemas;
    private final ChannelsConfig config;
    private final ObjectMapper writer = new ObjectMapper();

    private NamespacePolicies(Map<String, Schema> schemas, ChannelsConfig config) {
        this.schemas = Map.copyOf(schemas);
        this.config = config;
    }

    /**
     * Reads and compiles every schema file of {@code config.schemas()}. A schema may refer only to
     * itself ({@code #/$defs/...}) and the standard meta-schemas: nothing is fetched.
     *
     * @throws IllegalArgumentException naming {@code channels.schemas} (and the namespace and file)
     *     when a file cannot be read, is not JSON or is not a valid JSON Schema; naming
     *     {@code channels.sanitize} or {@code channels.sanitize-default} for a mode other than
     *     {@code text} or {@code none}
     */
    public static NamespacePolicies create(ChannelsConfig config) {
        checkMode("channels.sanitize-default", config.sanitizeDefault());
        config.sanitize().forEach((namespace, mode) -> checkMode("channels.sanitize (" + namespace + ")", mode));
        JsonMapper json = JsonMapper.builder().build();
        Map<String, Schema> schemas = new HashMap<>();
        config.schemas().forEach((namespace, file) -> schemas.put(namespace, compile(json, namespace, file)));
        return new NamespacePolicies(schemas, config);
    }

    @Override
    public String prepare(String namespace, JsonNode data) {
        Objects.requireNonNull(data, "data (JSON null is a NullNode)");
        return validated(namespace, ChannelsConfig.SANITIZE_TEXT.equals(config.sanitizeMode(namespace)) ? DataSanitizer.sanitize(data) : data);
    }

    /**
     * What the backend API publishes with: the namespace's schema still holds (subscribers may rely
     * on it), but nothing is sanitised, so {@code "x<y && y>z"} arrives as sent. Used unless
     * {@code channels.sanitize-backend} is true: the backend is the application's own voice,
     * authenticated by API key, and escaping its data on display is the application's job anyway.
     */
    public PublicationData unsanitised() {
        return (namespace, data) -> validated(namespace, Objects.requireNonNull(data, "data (JSON null is a NullNode)"));
    }

    private String validated(String namespace, JsonNode result) {
        Schema schema = schemas.get(namespace);
        if (schema != null) {
            List<Error> errors = schema.validate(TreeBridge.toV3(result));
            if (!errors.isEmpty()) {
                throw new ProtocolException(
                        ProtocolException.INVALID_MESSAGE, null, SchemaErrors.describe(SchemaErrors.mostRelevant(errors), "$.data"));
            }
        }
        try {
            return writer.writeValueAsString(result);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot write publication data", e);
        }
    }

    private static Schema compile(JsonMapper json, String namespace, Path file) {
        String where = "channels.schemas: " + namespace + "=" + file + ": ";
        try {
            return SchemaCompiler.compile(json.readTree(Files.readString(file)));
        } catch (IOException e) {
            throw new IllegalArgumentException(where + "cannot read the file (" + e.getMessage() + ")", e);
        } catch (JacksonException e) {
            throw new IllegalArgumentException(where + "not JSON (" + e.getOriginalMessage() + ")", e);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(where + e.getMessage(), e);
        }
    }

    private static void checkMode(String key, String mode) {
        if (!ChannelsConfig.SANITIZE_TEXT.equals(mode) && !ChannelsConfig.SANITIZE_NONE.equals(mode)) {
            throw new IllegalArgumentException(key + ": must be text or none, not " + mode);
        }
    }
}
