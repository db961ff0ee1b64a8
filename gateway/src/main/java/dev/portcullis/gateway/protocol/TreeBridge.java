package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Map;

/**
 * Copies JSON trees between Jackson 3 ({@code tools.jackson}, what the schema validator reads) and
 * Jackson 2 ({@code com.fasterxml.jackson}, what the rest of the gateway and {@link ClientMessage}
 * use). A tree walk, no re-parsing. Recursion depth is the document's depth, which the parser caps.
 */
final class TreeBridge {
    private static final JsonNodeFactory V2 = JsonNodeFactory.instance;
    private static final tools.jackson.databind.node.JsonNodeFactory V3 =
            tools.jackson.databind.node.JsonNodeFactory.instance;

    /** Thrown by {@link #toV2} for a number JSON cannot carry (a float that overflowed to infinity). */
    static final class NonFiniteNumber extends RuntimeException {
        NonFiniteNumber() {
            super(null, null, false, false);
        }
    }

    private TreeBridge() {}

    /** @throws NonFiniteNumber if the tree holds a number that does not fit a double */
    static com.fasterxml.jackson.databind.JsonNode toV2(tools.jackson.databind.JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT -> {
                ObjectNode copy = V2.objectNode();
                for (Map.Entry<String, tools.jackson.databind.JsonNode> field : node.properties()) {
                    copy.set(field.getKey(), toV2(field.getValue()));
                }
                yield copy;
            }
            case ARRAY -> {
                ArrayNode copy = V2.arrayNode(node.size());
                for (tools.jackson.databind.JsonNode element : node) {
                    copy.add(toV2(element));
                }
                yield copy;
            }
            case STRING -> V2.textNode(node.stringValue());
            case BOOLEAN -> V2.booleanNode(node.booleanValue());
            case NUMBER -> numberV2(node);
            case NULL -> V2.nullNode();
            default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
        };
    }

    static tools.jackson.databind.JsonNode toV3(com.fasterxml.jackson.databind.JsonNode node) {
        return switch (node.getNodeType()) {
            case OBJECT -> {
                tools.jackson.databind.node.ObjectNode copy = V3.objectNode();
                for (Map.Entry<String, com.fasterxml.jackson.databind.JsonNode> field : node.properties()) {
                    copy.set(field.getKey(), toV3(field.getValue()));
                }
                yield copy;
            }
            case ARRAY -> {
                tools.jackson.databind.node.ArrayNode copy = V3.arrayNode(node.size());
                for (com.fasterxml.jackson.databind.JsonNode element : node) {
                    copy.add(toV3(element));
                }
                yield copy;
            }
            case STRING -> V3.stringNode(node.textValue());
            case BOOLEAN -> V3.booleanNode(node.booleanValue());
            case NUMBER -> numberV3(node);
            case NULL -> V3.nullNode();
            default -> throw new IllegalArgumentException("not a JSON value: " + node.getNodeType());
        };
    }

    private static com.fasterxml.jackson.databind.JsonNode numberV2(tools.jackson.databind.JsonNode number) {
        if (number.isInt() || number.isShort()) {
            return V2.numberNode(number.intValue());
        }
        if (number.isLong()) {
            return V2.numberNode(number.longValue());
        }
        if (number.isBigInteger()) {
            return V2.numberNode(number.bigIntegerValue());
        }
        if (number.isBigDecimal()) {
            return V2.numberNode(number.decimalValue());
        }
        double value = number.doubleValue();
        if (!Double.isFinite(value)) {
            throw new NonFiniteNumber();
        }
        return V2.numberNode(value);
    }

    private static tools.jackson.databind.JsonNode numberV3(com.fasterxml.jackson.databind.JsonNode number) {
        if (number.isInt() || number.isShort()) {
            return V3.numberNode(number.intValue());
        }
        if (number.isLong()) {
            return V3.numberNode(number.longValue());
        }
        if (number.isBigInteger()) {
            return V3.numberNode(number.bigIntegerValue());
        }
        if (number.isBigDecimal()) {
            return V3.numberNode(number.decimalValue());
        }
        return V3.numberNode(number.doubleValue());
    }
}
