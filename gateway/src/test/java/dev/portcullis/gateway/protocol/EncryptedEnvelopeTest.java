package dev.portcullis.gateway.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class EncryptedEnvelopeTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** The envelopes both clients are tested against: what the gateway accepts must include them. */
    static final Path VECTORS = Path.of("..", "docs", "encryption-vectors.json");
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();
    static final String VALID = "{\"v\":1,\"kid\":\"k1\",\"iv\":\"" + b64(12) + "\",\"ct\":\"" + b64(16) + "\"}";

    @Test
    void theSharedVectorsAndTheSmallestEnvelopeAreAccepted() throws IOException {
        JsonNode vectors = JSON.readTree(Files.readString(VECTORS)).get("vectors");
        assertThat(vectors).isNotEmpty();
        for (JsonNode vector : vectors) {
            assertThatCode(() -> EncryptedEnvelope.check(vector.get("envelope"))).doesNotThrowAnyException();
        }
        assertThatCode(() -> EncryptedEnvelope.check(json(VALID))).doesNotThrowAnyException();
        // members in any order, the longest kid, every printable ASCII character in it, a long ct of any length mod 4 but 1
        for (int bytes : new int[] {17, 18, 19, 1000}) {
            assertThatCode(() -> EncryptedEnvelope.check(json("{\"ct\":\"" + b64(bytes) + "\",\"iv\":\"" + b64(12)
                    + "\",\"kid\":\"" + "K".repeat(64) + "\",\"v\":1}"))).doesNotThrowAnyException();
        }
        StringBuilder printable = new StringBuilder();
        for (char c = 0x21; c <= 0x7E && printable.length() < 64; c++) {
            printable.append(c);
        }
        assertThatCode(() -> EncryptedEnvelope.check(with(e -> e.put("kid", printable.toString())))).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @ValueSource(strings = {"\"text\"", "42", "null", "true", "[1,2]", "[{\"v\":1}]"})
    void dataThatIsNotAnObjectIsRefused(String data) {
        assertThat(refusal(json(data))).startsWith("$.data: this channel is end-to-end encrypted");
    }

    @Test
    void aMissingOrExtraMemberIsRefusedByName() {
        assertThat(refusal(with(e -> e.remove("v")))).isEqualTo("$.data.v: v is required");
        assertThat(refusal(with(e -> e.remove("kid")))).isEqualTo("$.data.kid: kid is required");
        assertThat(refusal(with(e -> e.remove("iv")))).isEqualTo("$.data.iv: iv is required");
        assertThat(refusal(with(e -> e.remove("ct")))).isEqualTo("$.data.ct: ct is required");
        assertThat(refusal(json("{}"))).isEqualTo("$.data.v: v is required");
        // the extra member's name is the client's input: not echoed
        assertThat(refusal(with(e -> e.put("text", "plain words"))))
                .isEqualTo("$.data: the envelope has exactly the members v, kid, iv and ct")
                .doesNotContain("plain words").doesNotContain("text");
    }

    @Test
    void versionMustBeTheInteger1() {
        for (String v : new String[] {"2", "0", "-1", "\"1\"", "1.0", "1e0", "null", "true", "[1]", "{}", "18446744073709551617"}) {
            assertThat(refusal(json(VALID.replace("\"v\":1", "\"v\":" + v)))).as(v).isEqualTo("$.data.v: v must be the integer 1");
        }
    }

    @Test
    void kidMustBe1To64PrintableAsciiCharacters() {
        String expected = "$.data.kid: kid must be 1 to 64 printable ASCII characters";
        for (String kid : new String[] {"", "k".repeat(65), "k 1", "k\u00001", "k\t", "k\u007f", "kid\u00e9", "\u4e2d"}) {
            assertThat(refusal(with(e -> e.put("kid", kid)))).as(kid).isEqualTo(expected);
        }
        assertThat(refusal(with(e -> e.put("kid", 1)))).isEqualTo("$.data.kid: kid must be a string");
        assertThat(refusal(with(e -> e.putNull("kid")))).isEqualTo("$.data.kid: kid must be a string");
    }

    @Test
    void ivMustBeUnpaddedBase64UrlOf12Bytes() {
        String expected = "$.data.iv: iv must be base64url (no padding) of 12 bytes";
        String twelve = b64(12);
        String standardAlphabet = Base64.getEncoder().encodeToString(new byte[] {(byte) 0xfb, (byte) 0xff, (byte) 0xbf, 1, 2, 3, 4, 5, 6, 7, 8, 9});
        assertThat(standardAlphabet).contains("+").contains("/").hasSize(16);
        for (String iv : new String[] {b64(11), b64(13), b64(0), b64(11) + "=", twelve.substring(0, 15) + "=",
                Base64.getUrlEncoder().encodeToString(new byte[13]), standardAlphabet, "+" + twelve.substring(1),
                twelve.substring(0, 15) + "/", twelve.substring(0, 15) + ".", " " + twelve.substring(1), twelve + "A"}) {
            assertThat(refusal(with(e -> e.put("iv", iv)))).as(iv).isEqualTo(expected);
        }
        assertThat(refusal(with(e -> e.put("iv", 12)))).isEqualTo("$.data.iv: iv must be a string");
    }

    @Test
    void ctMustBeUnpaddedBase64UrlOfAtLeast16Bytes() {
        String expected = "$.data.ct: ct must be base64url (no padding) of at least 16 bytes (ciphertext and GCM tag)";
        String long20 = b64(20);
        for (String ct : new String[] {"", b64(15), b64(1), b64(16) + "==", Base64.getUrlEncoder().encodeToString(new byte[17]),
                long20.substring(0, 10) + "+" + long20.substring(11), long20.substring(0, 10) + "/" + long20.substring(11),
                b64(18) + "A" /* a length no byte count has */, "AAAAAAAAAAAAAAAAAAAAAB" /* 16 bytes, spare bits set */}) {
            assertThat(refusal(with(e -> e.put("ct", ct)))).as(ct).isEqualTo(expected);
        }
        assertThat(refusal(with(e -> e.putArray("ct")))).isEqualTo("$.data.ct: ct must be a string");
    }

    @Test
    void refusalsAreInvalidMessageWithoutAnId() {
        ProtocolException e = catchThrowableOfType(ProtocolException.class, () -> EncryptedEnvelope.check(json("\"hello\"")));
        assertThat(e.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        assertThat(e.id()).isNull();
        assertThat(e.getMessage()).doesNotContain("hello");
    }

    private static String refusal(JsonNode data) {
        ProtocolException e = catchThrowableOfType(ProtocolException.class, () -> EncryptedEnvelope.check(data));
        assertThat(e).as("refused: %s", data).isNotNull();
        assertThat(e.code()).isEqualTo(ProtocolException.INVALID_MESSAGE);
        return e.getMessage();
    }

    private static JsonNode with(Consumer<ObjectNode> change) {
        ObjectNode envelope = (ObjectNode) json(VALID);
        change.accept(envelope);
        return envelope;
    }

    /** base64url without padding of {@code bytes} bytes (not all zero, so every sextet value shows up somewhere). */
    static String b64(int bytes) {
        byte[] data = new byte[bytes];
        for (int i = 0; i < bytes; i++) {
            data[i] = (byte) (i * 37 + 11);
        }
        return B64URL.encodeToString(data);
    }

    private static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
