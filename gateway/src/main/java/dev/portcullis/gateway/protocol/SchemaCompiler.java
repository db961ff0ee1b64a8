package dev.portcullis.gateway.protocol;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaException;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import java.util.List;
import tools.jackson.databind.JsonNode;

/**
 * Compiles JSON Schema documents (networknt json-schema-validator) for the envelope and the
 * per-namespace data schemas. Schemas without {@code $schema} are read as draft 2020-12.
 *
 * <p>Choices that differ from the library's defaults, and why:
 * <ul>
 *   <li>{@code format} is asserted, not just annotated: whoever writes {@code "format": "uuid"} in a
 *       data schema means it (unknown formats are still ignored).
 *   <li>A document must first validate against its dialect's meta-schema, so a typo such as
 *       {@code "minLength": "5"} stops start-up instead of being silently ignored.
 *   <li>All {@code $ref}s are resolved at compile time: nothing is loaded lazily on an event loop.
 *       Remote fetching is off (the library's default), so a schema may refer only to itself and to
 *       the bundled meta-schemas.
 * </ul>
 * Compiled {@link Schema}s are immutable and thread-safe.
 */
final class SchemaCompiler {
    private static final SchemaRegistry REGISTRY = SchemaRegistry.withDefaultDialect(
            SpecificationVersion.DRAFT_2020_12,
            builder -> builder.schemaRegistryConfig(
                    SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));

    private SchemaCompiler() {}

    /**
     * @param document the parsed schema document
     * @throws IllegalArgumentException with a one-line reason if the document is not a valid schema
     */
    static Schema compile(JsonNode document) {
        SpecificationVersion version =
                SpecificationVersion.fromSchemaNode(document).orElse(SpecificationVersion.DRAFT_2020_12);
        Schema meta = REGISTRY.getSchema(SchemaLocation.of(version.getDialectId()));
        List<Error> problems = meta.validate(document);
        if (!problems.isEmpty()) {
            Error first = SchemaErrors.mostRelevant(problems);
            throw new IllegalArgumentException(
                    "not a valid " + version.name() + " schema: " + SchemaErrors.describe(first, "$"));
        }
        try {
            Schema schema = REGISTRY.getSchema(document);
            schema.initializeValidators();
            return schema;
        } catch (SchemaException | IllegalArgumentException | IllegalStateException e) {
            throw new IllegalArgumentException("not a usable schema: " + e.getMessage(), e);
        }
    }
}
