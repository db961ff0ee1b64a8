package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import dev.portcullis.gateway.config.ChannelPatterns;
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
 *
 * <p>On an encrypted channel ({@code channels.encrypted}) neither applies: the data must be the
 * {@link EncryptedEnvelope} and is passed through as sent (sanitising would corrupt ciphertext, a
 * schema cannot hold for it). No namespace with a schema may overlap an encrypted pattern.
 */
public final class NamespacePolicies implements PublicationData {
    private final Map<String, Schema> schemas;
    private final ChannelsConfig config;
    private final ChannelPatterns encrypted;
    /** False for the backend's data ({@link #unsanitised()}). */
    private final boolean sanitising;
    /** One for the JVM, so that its per-class caches are warm for every gateway (see {@link MessageCodec}). */
    private static final ObjectMapper WRITER = new ObjectMapper();

    private NamespacePolicies(Map<String, Schema> schemas, ChannelsConfig config, boolean sanitising) {
        this.schemas = Map.copyOf(schemas);
        this.config = config;
        this.encrypted = ChannelPatterns.of(config.encrypted());
        this.sanitising = sanitising;
    }

    /**
     * Reads and compiles every schema file of {@code config.schemas()}. A schema may refer only to
     * itself ({@code #/$defs/...}) and the standard meta-schemas: nothing is fetched.
     *
     * @throws IllegalArgumentException naming {@code channels.schemas} (and the namespace and file)
     *     when a file cannot be read, is not JSON or is not a valid JSON Schema; naming
     *     {@code channels.sanitize} or {@code channels.sanitize-default} for a mode other than
     *     {@code text} or {@code none}; naming {@code channels.encrypted} when an encrypted pattern
     *     reaches a namespace with a schema
     */
    public static NamespacePolicies create(ChannelsConfig config) {
        checkMode("channels.sanitize-default", config.sanitizeDefault());
        config.sanitize().forEach((namespace, mode) -> checkMode("channels.sanitize (" + namespace + ")", mode));
        for (String namespace : ChannelsConfig.encryptedWithSchema(config.encrypted(), config.schemas().keySet())) {
            throw new IllegalArgumentException("channels.encrypted: " + ChannelsConfig.encryptedSchemaOverlap(namespace));
        }
        JsonMapper json = JsonMapper.builder().build();
        Map<String, Schema> schemas = new HashMap<>();
        config.schemas().forEach((namespace, file) -> schemas.put(namespace, compile(json, namespace, file)));
        return new NamespacePolicies(schemas, config, true);
    }

    @Override
    public String prepare(String channel, String namespace, JsonNode data) {
        Objects.requireNonNull(data, "data (JSON null is a NullNode)");
        if (encrypted.matches(channel)) {
            return envelope(data);
        }
        boolean sanitise = sanitising && ChannelsConfig.SANITIZE_TEXT.equals(config.sanitizeMode(namespace));
        return validated(namespace, sanitise ? DataSanitizer.sanitize(data) : data);
    }

    @Override
    public boolean encrypted(String channel) {
        return encrypted.matches(channel);
    }

    /**
     * What the backend API publishes with: the namespace's schema still holds (subscribers may rely
     * on it), but nothing is sanitised, so {@code "x<y && y>z"} arrives as sent. Used unless
     * {@code channels.sanitize-backend} is true: the backend is the application's own voice,
     * authenticated by API key, and escaping its data on display is the application's job anyway.
     */
    public PublicationData unsanitised() {
        return new NamespacePolicies(schemas, config, false);
    }

    private String envelope(JsonNode data) {
        EncryptedEnvelope.check(data);
        return written(data);
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
        return written(result);
    }

    private String written(JsonNode data) {
        try {
            return WRITER.writeValueAsString(data);
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
