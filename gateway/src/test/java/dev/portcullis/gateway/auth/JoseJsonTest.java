package dev.portcullis.gateway.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.text.ParseException;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * {@link JoseJson} reads what Nimbus's own reader (Gson, strict, longs or doubles) reads, to the same
 * values, and refuses what it refuses: compared text by text, then on random mutations of a token's
 * claims. Some refusals are its own, on purpose: a duplicate name inside a nested object, nesting
 * deeper than {@link JoseJson#MAX_DEPTH}, what is not a JSON object at all but Gson reads as a map
 * anyway ({@code null}, and arrays of name/value pairs): a JOSE header and a claims set are JSON
 * objects (RFC 7515, section 4; RFC 7519, section 7.2), and a lone surrogate escape in a name.
 */
class JoseJsonTest {

    @ParameterizedTest
    @ValueSource(strings = {
        "{}",
        " {\"sub\":\"u1\"} ",
        "{\"sub\":\"u1\",\"exp\":1700000000,\"iat\":1.7E9,\"nbf\":-0,\"n\":0.5,\"big\":123456789012345678901234567890}",
        "{\"max\":9223372036854775807,\"min\":-9223372036854775808,\"over\":9223372036854775808,\"e\":1e2,\"E\":2E-3}",
        "{\"s\":\"caf\\u00e9 \\ud83d\\ude00 \\\"q\\\" \\\\ \\/ \\b\\f\\n\\r\\t\",\"raw\":\"café 😀\"}",
        "{\"a\":[1,\"x\",true,false,null,{\"k\":[[]]}],\"o\":{\"p\":{\"q\":{}}},\"nil\":null}",
        "{\"channels\":{\"chat:*\":\"rw\",\"alerts\":\"r\"},\"aud\":[\"a\",\"b\"]}",
        "{\"\":\"empty name\"}",
        "\uFEFF{\"alg\":\"HS256\"}",
        "{\"s\":\"\\ud800 lone surrogate in a value\",\"t\":\"\\udc00\"}",
    })
    void readsWhatNimbusReadsToTheSameValues(String text) throws ParseException {
        Map<String, Object> nimbus = JSONObjectUtils.parse(text);

        assertThat(JoseJson.object(text)).isEqualTo(nimbus);
    }

    @Test
    void integersAreLongsAndOthersDoublesAsInNimbus() throws ParseException {
        Map<String, Object> read = JoseJson.object("{\"i\":1,\"l\":4102444800000,\"d\":1.0,\"x\":1e2,\"b\":99999999999999999999}");

        assertThat(read.get("i")).isEqualTo(1L);
        assertThat(read.get("l")).isEqualTo(4102444800000L);
        assertThat(read.get("d")).isEqualTo(1.0d);
        assertThat(read.get("x")).isEqualTo(100.0d);
        assertThat(read.get("b")).isEqualTo(1.0e20d);
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "", " ", "[{}]", "\"s\"", "1", "true",
        "{", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{'a':1}", "{\"a\":'x'}",
        "{\"a\":1}{}", "{\"a\":1} x", "{\"a\":1}]",
        "{\"a\":1,\"a\":2}", "{\"a\":NaN}", "{\"a\":Infinity}", "{\"a\":-Infinity}", "{\"a\":1e400}", "{\"a\":-1e400}",
        "{\"a\":01}", "{\"a\":+1}", "{\"a\":.5}", "{\"a\":1.}", "{\"a\":0x10}",
        "{\"a\":\"\u0001\"}", "{\"a\":\"\\x41\"}", "{\"a\":\"\\'\"}", "{\"a\":\"unterminated}",
        "{\"a\":[1,]}", "{\"a\":[1 2]}", "{\"a\":tru}", "{\"a\":nul}", "/*c*/{}", "{}//c",
    })
    void refusesWhatNimbusRefuses(String text) {
        assertThatThrownBy(() -> JSONObjectUtils.parse(text)).as("Nimbus refuses it").isInstanceOf(ParseException.class);

        assertThatThrownBy(() -> JoseJson.object(text)).isInstanceOf(ParseException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"null", "[]", "[[\"alg\",\"HS256\"]]", "[[\"sub\",\"u1\"],[\"exp\",4102444800]]"})
    void whatIsNotAJsonObjectIsRefusedThoughGsonReadsItAsAMap(String text) {
        assertThatThrownBy(() -> JoseJson.object(text)).isInstanceOf(ParseException.class);
    }

    @Test
    void aLoneSurrogateInANameIsRefused() {
        assertThatThrownBy(() -> JoseJson.object("{\"alg\":\"HS256\",\"\\ud800typ\":\"JWT\"}")).isInstanceOf(ParseException.class);
    }

    /**
     * Names are not kept in Jackson's JVM-wide name table: a header is read before its signature is
     * checked, so a client could otherwise fill it with names of its own. Reads 2,000 headers with
     * unique 2,000-character names; with the table on, they stay reachable (~8 MB), here they do not.
     */
    @Test
    void namesReadAreNotKeptAfterwards() throws ParseException {
        Runtime runtime = Runtime.getRuntime();
        long before = usedAfterGc(runtime);
        for (int i = 0; i < 2_000; i++) {
            JoseJson.object("{\"alg\":\"HS256\",\"" + String.format("%08d", i) + "x".repeat(2_000) + "\":1}");
        }
        assertThat(usedAfterGc(runtime) - before).as("bytes still reachable").isLessThan(2_000_000);
    }

    private static long usedAfterGc(Runtime runtime) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return runtime.totalMemory() - runtime.freeMemory();
    }

    @Test
    void aDuplicateNameInANestedObjectAndExcessiveNestingAreRefusedToo() {
        assertThatThrownBy(() -> JoseJson.object("{\"p\":{\"a\":1,\"a\":2}}")).isInstanceOf(ParseException.class);
        String deep = "{\"a\":" + "[".repeat(JoseJson.MAX_DEPTH) + "]".repeat(JoseJson.MAX_DEPTH) + "}";
        assertThatThrownBy(() -> JoseJson.object(deep)).isInstanceOf(ParseException.class);
        String deepest = "{\"a\":" + "[".repeat(JoseJson.MAX_DEPTH - 2) + "]".repeat(JoseJson.MAX_DEPTH - 2) + "}";
        assertThat(List.of(deepest)).allSatisfy(text -> assertThat(JoseJson.object(text)).containsKey("a"));
    }

    /**
     * Random one-character mutations (delete, duplicate, replace with a JSON-significant character)
     * of a realistic claims object, 20,000 of them: where Nimbus reads one, this reads the same map;
     * where Nimbus refuses one, this refuses it. Seeded, so a failure repeats.
     */
    @Test
    void agreesWithNimbusOnRandomMutationsOfAClaimsObject() throws ParseException {
        String claims = "{\"sub\":\"user-42\",\"iat\":1700000000,\"exp\":1700003600,\"nbf\":1.6999e9,"
                + "\"aud\":[\"chat\",\"alerts\"],\"channels\":{\"chat:*\":\"rw\",\"alerts\":\"r\"},"
                + "\"name\":\"Zo\\u00eb \\\"Z\\\"\",\"tenant\":{\"id\":42,\"plan\":null,\"beta\":true}}";
        String significant = "{}[]:,\"\\0123456789.eE+-tfnul x\u0000\u00e9";
        Random random = new Random(20261208);
        int agreedReads = 0;
        for (int i = 0; i < 20_000; i++) {
            StringBuilder text = new StringBuilder(claims);
            int at = random.nextInt(text.length());
            switch (random.nextInt(3)) {
                case 0 -> text.deleteCharAt(at);
                case 1 -> text.insert(at, text.charAt(at));
                default -> text.setCharAt(at, significant.charAt(random.nextInt(significant.length())));
            }
            String mutated = text.toString();
            Map<String, Object> expected;
            try {
                expected = JSONObjectUtils.parse(mutated);
            } catch (ParseException e) {
                assertThatThrownBy(() -> JoseJson.object(mutated)).as(mutated).isInstanceOf(ParseException.class);
                continue;
            }
            assertThat(JoseJson.object(mutated)).as(mutated).isEqualTo(expected);
            agreedReads++;
        }
        assertThat(agreedReads).as("mutations both read (the rest both refused)").isGreaterThan(1000);
    }
}
