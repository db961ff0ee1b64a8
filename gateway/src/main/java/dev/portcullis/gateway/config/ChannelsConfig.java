package dev.portcullis.gateway.config;

import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Channels: where permissions come from, what everyone may read, what every connection gets, and
 * per-namespace validation and sanitising of publication data.
 *
 * @param permissionsClaim the token claim with the permission map
 * @param publicChannels channels (or {@code prefix*} patterns) every authenticated user may read
 * @param autoSubscribe channels every connection is subscribed to at connect time
 * @param autoSubscribePersonal subscribe every connection to {@code user:<sub>} at connect time
 * @param schemas JSON Schema file for publication {@code data}, by namespace
 * @param sanitize {@code text} or {@code none}, by namespace
 * @param sanitizeDefault the mode for namespaces not in {@code sanitize}
 * @param sanitizeBackend sanitise the backend API's publication data like a client's
 * @param presence channels (or {@code prefix*} patterns) whose members a reader may list
 * @param joinLeave channels (or {@code prefix*} patterns) whose subscribers are told of joins and leaves
 * @param encrypted channels (or {@code prefix*} patterns) whose publication data must be the
 *     end-to-end encryption envelope; never sanitised, and no namespace with a schema may overlap them
 */
public record ChannelsConfig(
        String permissionsClaim,
        List<String> publicChannels,
        List<String> autoSubscribe,
        boolean autoSubscribePersonal,
        Map<String, Path> schemas,
        Map<String, String> sanitize,
        String sanitizeDefault,
        boolean sanitizeBackend,
        List<String> presence,
        List<String> joinLeave,
        List<String> encrypted) {

    public static final String SANITIZE_TEXT = "text";
    public static final String SANITIZE_NONE = "none";

    public ChannelsConfig {
        publicChannels = List.copyOf(publicChannels);
        autoSubscribe = List.copyOf(autoSubscribe);
        schemas = Map.copyOf(schemas);
        sanitize = Map.copyOf(sanitize);
        presence = List.copyOf(presence);
        joinLeave = List.copyOf(joinLeave);
        encrypted = List.copyOf(encrypted);
    }

    /** The sanitising mode of {@code namespace} ({@code ""} for channels without a namespace). */
    public String sanitizeMode(String namespace) {
        return sanitize.getOrDefault(namespace, sanitizeDefault);
    }

    /**
     * The namespaces of {@code schemaNamespaces} some {@code encrypted} pattern reaches: a schema
     * cannot hold for ciphertext, and skipping it silently would let subscribers rely on a check that
     * never ran, so such a config is refused.
     */
    public static List<String> encryptedWithSchema(List<String> encrypted, Collection<String> schemaNamespaces) {
        ChannelPatterns patterns = ChannelPatterns.of(encrypted);
        return schemaNamespaces.stream().filter(patterns::reachesNamespace).sorted().toList();
    }

    public static String encryptedSchemaOverlap(String namespace) {
        return "matches channels in namespace '" + namespace + "', which has a schema in channels.schemas: "
                + "the gateway cannot check encrypted data against a schema; narrow the pattern or remove the schema";
    }
}
