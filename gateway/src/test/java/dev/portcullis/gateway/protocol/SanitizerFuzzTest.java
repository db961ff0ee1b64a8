package dev.portcullis.gateway.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.text.Normalizer;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The {@code text} sanitising contract ({@link TextSanitizer}'s class comment, docs/protocol.md) on
 * any input: no markup, no control, bidi-override or isolate characters, no unpaired surrogates,
 * NFC, idempotent; {@link DataSanitizer} applies it to every string and key of any JSON value.
 */
class SanitizerFuzzTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** What starts markup in HTML: {@code <} then a letter, {@code !}, {@code ?} or {@code /} and a letter. */
    private static final Pattern MARKUP = Pattern.compile("<[A-Za-z!?]|</[A-Za-z]");

    /**
     * The input is read as UTF-16 code units (big-endian byte pairs), so the fuzzer reaches every
     * char, unpaired surrogates included; seeds are written in UTF-16BE.
     */
    @FuzzTest(maxDuration = "10m")
    void text(byte[] utf16) {
        String text = utf16be(utf16);
        String clean = TextSanitizer.sanitize(text);
        assertClean(clean);
        assertThat(TextSanitizer.sanitize(clean)).as("idempotent").isEqualTo(clean);
        if (TextSanitizer.isClean(text)) {
            assertThat(clean).as("clean text is returned as is").isSameAs(text);
        }
    }

    /** The input is JSON text (UTF-8); what does not parse is not a publication and is skipped. */
    @FuzzTest(maxDuration = "10m")
    void data(byte[] json) {
        JsonNode data;
        try {
            data = JSON.readTree(new String(json, StandardCharsets.UTF_8));
        } catch (JsonProcessingException e) {
            return;
        }
        if (data == null || data.isMissingNode()) {
            return;
        }
        String before = data.toString();
        JsonNode clean;
        try {
            clean = DataSanitizer.sanitize(data);
        } catch (ProtocolException e) {
            assertThat(e.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
            assertThat(e.getMessage()).startsWith("$.data").endsWith(": has keys that are equal once sanitised");
            return;
        }
        assertThat(data.toString()).as("the input is not modified").isEqualTo(before);
        assertAllClean(clean);
        // Equal, not the same instance: a string with a '<' is always looked at again.
        assertThat(DataSanitizer.sanitize(clean)).as("idempotent").isEqualTo(clean);
        if (clean != data) {
            assertThat(sameShape(clean, data)).as("only strings change: same shape").isTrue();
        }
    }

    private static void assertAllClean(JsonNode node) {
        if (node.isTextual()) {
            assertClean(node.textValue());
        }
        if (node.isObject()) {
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                assertClean(field.getKey());
                assertAllClean(field.getValue());
            }
        }
        if (node.isArray()) {
            node.forEach(SanitizerFuzzTest::assertAllClean);
        }
    }

    private static boolean sameShape(JsonNode a, JsonNode b) {
        if (a.getNodeType() != b.getNodeType() || a.size() != b.size()) {
            return false;
        }
        if (a.isArray()) {
            for (int i = 0; i < a.size(); i++) {
                if (!sameShape(a.get(i), b.get(i))) {
                    return false;
                }
            }
            return true;
        }
        return !a.isValueNode() || a.isTextual() || a.equals(b);
    }

    static void assertClean(String clean) {
        assertThat(MARKUP.matcher(clean).find()).as("no markup in %s", escaped(clean)).isFalse();
        for (int i = 0; i < clean.length(); i++) {
            char c = clean.charAt(i);
            boolean control = c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c >= 0x7F && c <= 0x9F;
            boolean bidi = c >= '\u202A' && c <= '\u202E' || c >= '\u2066' && c <= '\u2069';
            assertThat(control || bidi || c == '\u2028' || c == '\u2029')
                    .as("U+%04X at %d of %s", (int) c, i, escaped(clean)).isFalse();
            if (Character.isHighSurrogate(c)) {
                assertThat(i + 1 < clean.length() && Character.isLowSurrogate(clean.charAt(i + 1)))
                        .as("paired surrogate at %d", i).isTrue();
                i++;
            } else {
                assertThat(Character.isLowSurrogate(c)).as("unpaired low surrogate at %d", i).isFalse();
            }
        }
        assertThat(Normalizer.isNormalized(clean, Normalizer.Form.NFC)).as("NFC: %s", escaped(clean)).isTrue();
    }

    static String utf16be(byte[] bytes) {
        char[] chars = new char[bytes.length / 2];
        for (int i = 0; i < chars.length; i++) {
            chars[i] = (char) ((bytes[2 * i] & 0xFF) << 8 | bytes[2 * i + 1] & 0xFF);
        }
        return new String(chars);
    }

    private static String escaped(String text) {
        StringBuilder out = new StringBuilder();
        text.chars().forEach(c -> out.append(c < 0x20 || c > 0x7E ? String.format("\\u%04X", c) : String.valueOf((char) c)));
        return out.toString();
    }
}
