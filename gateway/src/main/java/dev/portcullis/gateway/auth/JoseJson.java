package dev.portcullis.gateway.auth;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import java.io.IOException;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads a token's header and claims (JSON objects) into the maps Nimbus builds its {@code JWSHeader}
 * and {@code JWTClaimsSet} from, with the values Nimbus's own reader would give: objects as ordered
 * maps, arrays as lists, integers as {@code Long} (one that does not fit, as Nimbus, a
 * {@code Double}), other numbers as {@code Double}, and the same refusals: not an object, trailing
 * text, a duplicate name, NaN or an infinity, too deep a nesting. Stricter in three places, on
 * purpose: a duplicate name in a nested object, what is not a JSON object but Gson reads as a map
 * ({@code null}, an array of name/value pairs), and a lone surrogate escape in a name.
 *
 * <p>Why not Nimbus's reader: it is Gson, which allocates a fresh 2 KiB character buffer for every
 * document, and a handshake read three (the header twice, the claims once): two thirds of the
 * ~16 KB a verification allocated (TokenVerificationBenchmark with {@code -prof gc}). Jackson's
 * parser takes its buffers from a per-thread pool. Stateless and thread-safe.
 */
final class JoseJson {
    /** Deeper than any token needs; Nimbus refuses "excessive nesting" too (where Gson's stack ends). */
    static final int MAX_DEPTH = 64;

    /*
     * Names are neither canonicalised nor interned: Jackson's default keeps every field name it has
     * read in a table shared by the whole JVM, and a header is read before its signature is checked,
     * so a client could fill that table with names of its own (an independent review measured ~28 MB
     * held after 12,000 headers with unique long names).
     */
    private static final JsonFactory JSON = JsonFactory.builder()
            .disable(JsonFactory.Feature.CANONICALIZE_FIELD_NAMES)
            .disable(JsonFactory.Feature.INTERN_FIELD_NAMES)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_DEPTH).build())
            .build();

    private JoseJson() {}

    /**
     * The JSON object in {@code text}.
     *
     * @throws ParseException when {@code text} is not exactly one JSON object, or holds a value
     *     Nimbus would refuse
     */
    static Map<String, Object> object(String text) throws ParseException {
        // Nimbus's reader skips one byte order mark at the start; Jackson (given characters) does not.
        String json = text.startsWith("\uFEFF") ? text.substring(1) : text;
        try (JsonParser parser = JSON.createParser(json)) {
            if (parser.nextToken() != JsonToken.START_OBJECT) {
                throw new ParseException("not a JSON object", 0);
            }
            Map<String, Object> object = readObject(parser);
            if (parser.nextToken() != null) {
                throw new ParseException("text after the JSON object", 0);
            }
            return object;
        } catch (IOException | RuntimeException e) { // Jackson's JacksonException is an IOException
            throw new ParseException("invalid JSON: " + e.getClass().getSimpleName(), 0);
        }
    }

    private static Map<String, Object> readObject(JsonParser parser) throws IOException, ParseException {
        Map<String, Object> object = new LinkedHashMap<>();
        for (JsonToken token = parser.nextToken(); token != JsonToken.END_OBJECT; token = parser.nextToken()) {
            String name = parser.currentName(); // a FIELD_NAME: the parser allows nothing else here
            object.put(name, read(parser, parser.nextToken()));
        }
        return object;
    }

    private static Object read(JsonParser parser, JsonToken token) throws IOException, ParseException {
        return switch (token) {
            case START_OBJECT -> readObject(parser);
            case START_ARRAY -> {
                List<Object> array = new ArrayList<>();
                for (JsonToken item = parser.nextToken(); item != JsonToken.END_ARRAY; item = parser.nextToken()) {
                    array.add(read(parser, item));
                }
                yield array;
            }
            case VALUE_STRING -> parser.getText();
            case VALUE_NUMBER_INT -> switch (parser.getNumberType()) {
                case INT, LONG -> parser.getLongValue();
                default -> finite(Double.parseDouble(parser.getText())); // as Gson's LONG_OR_DOUBLE
            };
            case VALUE_NUMBER_FLOAT -> finite(Double.parseDouble(parser.getText()));
            case VALUE_TRUE -> Boolean.TRUE;
            case VALUE_FALSE -> Boolean.FALSE;
            case VALUE_NULL -> null;
            default -> throw new ParseException("unexpected " + token, 0);
        };
    }

    private static Double finite(double value) throws ParseException {
        if (Double.isInfinite(value) || Double.isNaN(value)) {
            throw new ParseException("a number beyond a double's range", 0);
        }
        return value;
    }
}
