package dev.portcullis.gateway.protocol;

import com.networknt.schema.Error;
import com.networknt.schema.path.NodePath;
import java.util.List;
import java.util.regex.Pattern;
import tools.jackson.databind.JsonNode;

/**
 * Turns the validator's errors into the one line a client gets: {@code <JSON path>: <what is wrong>},
 * e.g. {@code $.data.content: must be at most 1000 characters}. The text is built from the keyword
 * and the schema only, never from the offending value, and property names in the path are cut
 * short and reduced to safe characters: a client cannot make the reply large or inject markup.
 */
final class SchemaErrors {
    private static final int MAX_NAME_CHARS = 32;
    private static final int MAX_SCHEMA_TEXT_CHARS = 100;
    private static final Pattern PLAIN_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private SchemaErrors() {}

    /**
     * The error to report: the first missing or unexpected field if any (the message has the wrong
     * shape, whatever its values), else the first error in schema order.
     */
    static Error mostRelevant(List<Error> errors) {
        for (Error error : errors) {
            String keyword = error.getKeyword();
            if ("required".equals(keyword) || "additionalProperties".equals(keyword)) {
                return error;
            }
        }
        return errors.getFirst();
    }

    /** {@code root} is the path of the validated value, {@code $} or {@code $.data}. */
    static String describe(Error error, String root) {
        return path(error, root) + ": " + problem(error);
    }

    /** The instance path; for {@code required} and property errors, the property's path. */
    private static String path(Error error, String root) {
        StringBuilder path = new StringBuilder(root);
        NodePath location = error.getInstanceLocation();
        for (int i = 0; i < location.getNameCount(); i++) {
            Object element = location.getElement(i);
            if (element instanceof Integer index) {
                path.append('[').append(index).append(']');
            } else {
                appendName(path, String.valueOf(element));
            }
        }
        if (error.getProperty() != null) {
            appendName(path, error.getProperty());
        }
        return path.toString();
    }

    private static String problem(Error error) {
        JsonNode schema = error.getSchemaNode();
        String keyword = error.getKeyword();
        if (keyword == null || schema == null) {
            return "does not satisfy the schema";
        }
        return switch (keyword) {
            case "required" -> "is required";
            case "additionalProperties", "unevaluatedProperties", "false" -> "is not allowed";
            case "type" -> "must be of type " + (schema.isArray() ? String.join(" or ", strings(schema)) : schema.asString());
            case "minLength" -> schema.asInt() == 1 ? "must not be empty" : "must be at least " + schema.asString() + " characters";
            case "maxLength" -> "must be at most " + schema.asString() + " characters";
            case "pattern" -> "does not match the pattern " + shorten(schema.asString());
            case "enum" -> "must be one of " + shorten(String.join(", ", strings(schema)));
            case "const" -> "must be " + shorten(schema.toString());
            case "format" -> "must be a valid " + shorten(schema.asString());
            case "minimum" -> "must be at least " + schema.asString();
            case "maximum" -> "must be at most " + schema.asString();
            case "exclusiveMinimum" -> "must be greater than " + schema.asString();
            case "exclusiveMaximum" -> "must be less than " + schema.asString();
            case "multipleOf" -> "must be a multiple of " + schema.asString();
            case "minItems" -> "must have at least " + schema.asString() + " items";
            case "maxItems" -> "must have at most " + schema.asString() + " items";
            case "uniqueItems" -> "must not contain duplicate items";
            case "minProperties" -> "must have at least " + schema.asString() + " properties";
            case "maxProperties" -> "must have at most " + schema.asString() + " properties";
            default -> "does not satisfy " + shorten(keyword);
        };
    }

    /** Appends {@code .name}, or {@code ['name']} shortened and reduced to safe characters. */
    static void appendName(StringBuilder path, String name) {
        if (PLAIN_NAME.matcher(name).matches() && name.length() <= MAX_NAME_CHARS) {
            path.append('.').append(name);
            return;
        }
        path.append("['");
        int end = Math.min(name.length(), MAX_NAME_CHARS);
        for (int i = 0; i < end; i++) {
            char c = name.charAt(i);
            boolean safe = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || " _-.:$@".indexOf(c) >= 0;
            path.append(safe ? c : '?');
        }
        path.append(name.length() > MAX_NAME_CHARS ? "...']" : "']");
    }

    private static List<String> strings(JsonNode array) {
        return array.valueStream().map(value -> value.isString() ? value.stringValue() : value.toString()).toList();
    }

    private static String shorten(String text) {
        return text.length() <= MAX_SCHEMA_TEXT_CHARS ? text : text.substring(0, MAX_SCHEMA_TEXT_CHARS) + "...";
    }
}
