package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Applies {@link TextSanitizer} to every string of a JSON tree: values at any depth, in arrays too,
 * and object keys. Numbers, booleans and null are untouched. Copy on write: a tree with nothing to
 * change is returned as the same instance, and the input is never modified. Thread-safe.
 *
 * <p>Keys are sanitised rather than refused, so that, e.g., a key written in NFD still arrives. Two
 * keys of one object that become equal are refused: keeping either would silently drop data.
 */
final class DataSanitizer {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private DataSanitizer() {}

    /**
     * @throws ProtocolException {@code invalid_message} naming the object ({@code $.data...}) when two
     *     of its keys become equal
     */
    static JsonNode sanitize(JsonNode data) {
        try {
            return clean(data);
        } catch (KeyCollision collision) {
            StringBuilder path = new StringBuilder("$.data");
            for (int i = collision.reversedPath.size() - 1; i >= 0; i--) {
                Object step = collision.reversedPath.get(i);
                if (step instanceof Integer index) {
                    path.append('[').append(index).append(']');
                } else {
                    SchemaErrors.appendName(path, (String) step);
                }
            }
            throw new ProtocolException(
                    ProtocolException.INVALID_MESSAGE, null, path + ": has keys that are equal once sanitised");
        }
    }

    private static JsonNode clean(JsonNode node) {
        if (node.isTextual()) {
            String text = node.textValue();
            String clean = TextSanitizer.sanitize(text);
            return clean == text ? node : TextNode.valueOf(clean);
        }
        if (node.isArray()) {
            return cleanArray(node);
        }
        if (node.isObject()) {
            return cleanObject(node);
        }
        return node;
    }

    private static JsonNode cleanArray(JsonNode array) {
        ArrayNode copy = null;
        for (int i = 0; i < array.size(); i++) {
            JsonNode element = array.get(i);
            JsonNode clean;
            try {
                clean = clean(element);
            } catch (KeyCollision collision) {
                throw collision.at(i);
            }
            if (copy == null && clean != element) {
                copy = NODES.arrayNode(array.size());
                for (int j = 0; j < i; j++) {
                    copy.add(array.get(j));
                }
            }
            if (copy != null) {
                copy.add(clean);
            }
        }
        return copy == null ? array : copy;
    }

    private static JsonNode cleanObject(JsonNode object) {
        ObjectNode copy = null;
        int done = 0;
        for (Map.Entry<String, JsonNode> field : object.properties()) {
            String key = TextSanitizer.sanitize(field.getKey());
            JsonNode value = field.getValue();
            JsonNode clean;
            try {
                clean = clean(value);
            } catch (KeyCollision collision) {
                throw collision.at(field.getKey());
            }
            if (copy == null && (clean != value || !key.equals(field.getKey()))) {
                copy = NODES.objectNode();
                int kept = 0;
                for (Map.Entry<String, JsonNode> earlier : object.properties()) {
                    if (kept++ == done) {
                        break;
                    }
                    copy.set(earlier.getKey(), earlier.getValue());
                }
            }
            if (copy != null && copy.replace(key, clean) != null) {
                throw new KeyCollision();
            }
            done++;
        }
        return copy == null ? object : copy;
    }

    /** Unwinds from the colliding object to the root, collecting the path on the way. */
    private static final class KeyCollision extends RuntimeException {
        final List<Object> reversedPath = new ArrayList<>();

        KeyCollision() {
            super(null, null, false, false);
        }

        KeyCollision at(Object step) {
            reversedPath.add(step);
            return this;
        }
    }
}
