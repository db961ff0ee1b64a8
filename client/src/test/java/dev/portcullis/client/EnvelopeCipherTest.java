package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

/** The envelope format and AES-256-GCM of encrypted channels, against the shared vectors and every kind of bad envelope. */
class EnvelopeCipherTest {
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder UNB64 = Base64.getUrlDecoder();
    private static final MapKeys K1 = new MapKeys("k1", Map.of("k1", MapKeys.VECTOR_KEY));
    private static final String CHANNEL = "secret:room-1";
    private static final String BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    private static JsonNode vectors() throws Exception {
        return Frames.JSON.readTree(Files.readString(Path.of("..", "docs", "encryption-vectors.json")));
    }

    private static JsonNode json(String text) {
        return Frames.data(text);
    }

    private static DecryptFailedException failure(String channel, JsonNode envelope) {
        return catchThrowableOfType(DecryptFailedException.class, () -> new EnvelopeCipher(K1).open(channel, envelope));
    }

    private static ObjectNode sealed() {
        return new EnvelopeCipher(K1).seal(CHANNEL, json("{\"text\":\"hi\"}"));
    }

    /** An envelope of raw plaintext bytes, encrypted here with the JDK directly (not through the class under test). */
    private static ObjectNode rawEnvelope(String channel, byte[] plaintext) throws Exception {
        byte[] iv = new byte[12];
        iv[0] = 7;
        Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
        cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(MapKeys.VECTOR_KEY, "AES"), new GCMParameterSpec(128, iv));
        cipher.updateAAD(channel.getBytes(StandardCharsets.UTF_8));
        ObjectNode envelope = Frames.JSON.createObjectNode().put("v", 1).put("kid", "k1");
        return envelope.put("iv", B64.encodeToString(iv)).put("ct", B64.encodeToString(cipher.doFinal(plaintext)));
    }

    @Test
    void everySharedVectorDecryptsToItsPlaintextAndReEncryptsToItsExactCiphertext() throws Exception {
        JsonNode file = vectors();
        assertThat(UNB64.decode(file.path("key").asText())).isEqualTo(MapKeys.VECTOR_KEY);
        assertThat(file.path("vectors")).hasSize(3);
        for (JsonNode vector : file.path("vectors")) {
            String channel = vector.path("channel").asText();
            String plaintext = vector.path("plaintext").asText();
            JsonNode envelope = vector.path("envelope");

            JsonNode opened = new EnvelopeCipher(K1).open(channel, envelope);
            assertThat(Frames.JSON.writeValueAsString(opened)).as(channel).isEqualTo(plaintext);

            byte[] vectorIv = UNB64.decode(envelope.path("iv").asText());
            EnvelopeCipher injected = new EnvelopeCipher(K1, iv -> System.arraycopy(vectorIv, 0, iv, 0, iv.length));
            assertThat(injected.seal(channel, json(plaintext))).as(channel).isEqualTo(envelope);
        }
    }

    @Test
    void whatItSealsItOpensWithTheChannelsKey() {
        EnvelopeCipher cipher = new EnvelopeCipher(K1);
        JsonNode data = json("{\"text\":\"héllo\",\"n\":[1,2.5,null,true]}");
        ObjectNode envelope = cipher.seal(CHANNEL, data);
        assertThat(envelope.fieldNames()).toIterable().containsExactly("v", "kid", "iv", "ct");
        assertThat(envelope.toString()).doesNotContain("llo");
        assertThat(cipher.open(CHANNEL, envelope)).isEqualTo(data);
        assertThat(new EnvelopeCipher(K1).open(CHANNEL, Frames.data(envelope.toString()))).isEqualTo(data);
    }

    @Test
    void anAlteredCiphertextOrIvFailsAuthentication() {
        ObjectNode envelope = sealed();
        byte[] ct = UNB64.decode(envelope.path("ct").asText());
        ct[ct.length / 2] ^= 1;
        ObjectNode tamperedCt = envelope.deepCopy().put("ct", B64.encodeToString(ct));
        byte[] iv = UNB64.decode(envelope.path("iv").asText());
        iv[0] ^= 1;
        ObjectNode tamperedIv = envelope.deepCopy().put("iv", B64.encodeToString(iv));
        for (ObjectNode tampered : new ObjectNode[] {tamperedCt, tamperedIv}) {
            DecryptFailedException failed = failure(CHANNEL, tampered);
            assertThat(failed.reason()).isEqualTo(DecryptFailure.AUTHENTICATION_FAILED);
            assertThat(failed.kid()).isEqualTo("k1");
        }
    }

    @Test
    void anEnvelopeFromAnotherChannelFailsAuthentication() {
        DecryptFailedException failed = failure("secret:room-2", sealed());
        assertThat(failed.reason()).isEqualTo(DecryptFailure.AUTHENTICATION_FAILED);
        assertThat(failed.failure("secret:room-2", 41)).isEqualTo(new DecryptFailure("secret:room-2", 41, "k1", "authentication_failed"));
    }

    @Test
    void anotherKeyUnderTheSameKidFailsAuthentication() {
        ObjectNode envelope = new EnvelopeCipher(MapKeys.of("k1", 100)).seal(CHANNEL, json("1"));
        assertThat(failure(CHANNEL, envelope).reason()).isEqualTo(DecryptFailure.AUTHENTICATION_FAILED);
    }

    @Test
    void anUnknownKidIsReportedWithTheKid() {
        ObjectNode envelope = new EnvelopeCipher(MapKeys.of("k9", 100)).seal(CHANNEL, json("1"));
        DecryptFailedException failed = failure(CHANNEL, envelope);
        assertThat(failed.reason()).isEqualTo(DecryptFailure.UNKNOWN_KID);
        assertThat(failed.kid()).isEqualTo("k9");
    }

    @Test
    void malformedEnvelopesAreMalformedAndKeepTheKidWhenReadable() throws Exception {
        ObjectNode good = sealed();
        Map<String, JsonNode> cases = new java.util.LinkedHashMap<>();
        cases.put("plain data", json("{\"text\":\"hi\"}"));
        cases.put("a string", json("\"x\""));
        cases.put("null", json("null"));
        cases.put("extra member", good.deepCopy().put("x", 1));
        cases.put("missing ct", good.deepCopy().without("ct"));
        cases.put("v 2", good.deepCopy().put("v", 2));
        cases.put("v as text", good.deepCopy().put("v", "1"));
        cases.put("v 1.0", good.deepCopy().put("v", 1.0));
        cases.put("iv padded", good.deepCopy().put("iv", good.path("iv").asText() + "=="));
        cases.put("iv not base64url", good.deepCopy().put("iv", "AAAAAAAAAAAAAAA+"));
        cases.put("iv of 11 bytes", good.deepCopy().put("iv", B64.encodeToString(new byte[11])));
        cases.put("iv of 16 bytes", good.deepCopy().put("iv", B64.encodeToString(new byte[16])));
        cases.put("ct shorter than the tag", good.deepCopy().put("ct", B64.encodeToString(new byte[15])));
        cases.put("ct a number", good.deepCopy().put("ct", 5));
        String ct = good.path("ct").asText();
        assertThat(ct.length() % 4).isEqualTo(3); // 29 bytes: the last character has 2 spare bits
        char last = ct.charAt(ct.length() - 1);
        String respelled = String.valueOf(BASE64URL.charAt(BASE64URL.indexOf(last) | 1));
        assertThat(UNB64.decode(ct.substring(0, ct.length() - 1) + respelled)).isEqualTo(UNB64.decode(ct)); // same bytes
        cases.put("ct not canonical", good.deepCopy().put("ct", ct.substring(0, ct.length() - 1) + respelled));
        cases.put("plaintext not UTF-8", rawEnvelope(CHANNEL, new byte[] {'"', (byte) 0xff, '"'}));
        cases.put("plaintext not JSON", rawEnvelope(CHANNEL, "{oops".getBytes(StandardCharsets.UTF_8)));
        cases.put("plaintext with trailing content", rawEnvelope(CHANNEL, "1 2".getBytes(StandardCharsets.UTF_8)));
        cases.put("plaintext empty", rawEnvelope(CHANNEL, new byte[0]));
        for (Map.Entry<String, JsonNode> c : cases.entrySet()) {
            DecryptFailedException failed = failure(CHANNEL, c.getValue());
            assertThat(failed).as(c.getKey()).isNotNull();
            assertThat(failed.reason()).as(c.getKey()).isEqualTo(DecryptFailure.MALFORMED);
            assertThat(failed.kid()).as(c.getKey()).isEqualTo(c.getValue().has("kid") ? "k1" : null);
        }
        assertThat(new EnvelopeCipher(K1).open(CHANNEL, rawEnvelope(CHANNEL, "{\"ok\":1}".getBytes(StandardCharsets.UTF_8))))
                .isEqualTo(json("{\"ok\":1}")); // the raw helper itself makes envelopes that open
    }

    @Test
    void aKidThatIsEmptyTooLongOrNotPrintableAsciiIsMalformedAndNotReported() {
        for (String kid : new String[] {"", "k".repeat(65), "k 1", "kü"}) {
            DecryptFailedException failed = failure(CHANNEL, sealed().put("kid", kid));
            assertThat(failed.reason()).as(kid).isEqualTo(DecryptFailure.MALFORMED);
            assertThat(failed.kid()).as(kid).isNull();
        }
        assertThat(failure(CHANNEL, sealed().put("kid", "k".repeat(64))).reason()).isEqualTo(DecryptFailure.UNKNOWN_KID);
    }

    @Test
    void sealingWithoutAUsableKidOrKeyFailsClearly() {
        assertThatThrownBy(() -> new EnvelopeCipher(new MapKeys(null, Map.of())).seal(CHANNEL, json("1")))
                .isInstanceOf(PortcullisException.class).hasMessageContaining("currentKid");
        assertThatThrownBy(() -> new EnvelopeCipher(new MapKeys("k2", Map.of())).seal(CHANNEL, json("1")))
                .isInstanceOf(PortcullisException.class).hasMessageContaining("no AES-256 key for kid k2");
        assertThatThrownBy(() -> new EnvelopeCipher(new MapKeys("k1", Map.of("k1", new byte[16]))).seal(CHANNEL, json("1")))
                .isInstanceOf(PortcullisException.class).hasMessageContaining("no AES-256 key for kid k1");
    }

    /** Acceptance test 5: a fresh random 96-bit IV per message. */
    @Test
    void oneHundredThousandEncryptionsWithOneKeyRepeatNoIv() {
        EnvelopeCipher cipher = new EnvelopeCipher(K1);
        JsonNode data = json("{\"text\":\"same plaintext every time\"}");
        Set<String> ivs = new HashSet<>();
        Set<String> ciphertexts = new HashSet<>();
        for (int i = 0; i < 100_000; i++) {
            ObjectNode envelope = cipher.seal(CHANNEL, data);
            ivs.add(envelope.path("iv").asText());
            ciphertexts.add(envelope.path("ct").asText());
        }
        assertThat(ivs).hasSize(100_000);
        assertThat(ciphertexts).hasSize(100_000);
    }
}
