package dev.portcullis.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.json.JsonWriteFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Objects;
import java.util.function.Consumer;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Seals publication data into the envelope of an encrypted channel and opens it again, exactly as
 * the client does on {@link PortcullisClient.Builder#encryption encrypted channels}: AES-256-GCM
 * ({@code AES/GCM/NoPadding}, 128-bit tag), a fresh random 96-bit IV from {@link SecureRandom} per
 * message, the UTF-8 bytes of the channel name as additional authenticated data (so a ciphertext
 * replayed into another channel fails to decrypt), and the UTF-8 JSON text of the data as
 * plaintext. Byte for byte the same as the JS client ({@code docs/encryption-vectors.json}).
 *
 * <p>A client makes its own; use this class directly where envelopes are made or read outside a
 * client, e.g. a backend publishing into an encrypted channel through the backend API.
 *
 * <p>Not thread-safe: it holds one {@link Cipher}, re-initialised per message (a {@code Cipher} is
 * costly to create and unsafe to share). Use one per thread; a client uses its own on its client
 * thread only.
 */
public final class EnvelopeCipher {
    private static final Logger log = LoggerFactory.getLogger(EnvelopeCipher.class);
    private static final int TAG_BITS = Envelope.TAG_BYTES * 8;
    private static final ObjectReader PLAINTEXT = Frames.JSON.reader().with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    /**
     * Characters outside the BMP (emoji) as their 4 UTF-8 bytes, as JSON.stringify + TextEncoder
     * write them: Jackson's UTF-8 output would otherwise escape them as two escaped UTF-16 surrogates,
     * and the same data would encrypt to other bytes than in the JS client (the shared vectors
     * check this).
     */
    private static final ObjectWriter PLAINTEXT_WRITER = Frames.JSON.writer().with(JsonWriteFeature.COMBINE_UNICODE_SURROGATES_IN_UTF8);

    private final ChannelKeys keys;
    private final Consumer<byte[]> ivSource;
    private final Cipher cipher;
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder();

    /** A cipher using {@code keys}, with IVs from a {@link SecureRandom} of its own. */
    public EnvelopeCipher(ChannelKeys keys) {
        this(keys, new SecureRandom()::nextBytes);
    }

    /** With IVs from {@code ivSource} (it fills the 12-byte array it is given): the test vectors' seam. */
    EnvelopeCipher(ChannelKeys keys, Consumer<byte[]> ivSource) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.ivSource = ivSource;
        try {
            this.cipher = Cipher.getInstance("AES/GCM/NoPadding");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JDK has no AES/GCM/NoPadding", e);
        }
    }

    /**
     * The envelope of {@code data} (any JSON value) for {@code channel}, under the channel's
     * {@link ChannelKeys#currentKid current kid}. Throws {@link PortcullisException} when the key
     * provider names no valid kid or has no AES-256 key for it.
     */
    public ObjectNode seal(String channel, JsonNode data) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(data, "data");
        String kid;
        try {
            kid = keys.currentKid(channel);
        } catch (RuntimeException e) {
            throw new PortcullisException("cannot encrypt for " + channel + ": currentKid failed", e);
        }
        if (!Envelope.validKid(kid)) {
            throw new PortcullisException("cannot encrypt for " + channel + ": currentKid must be 1 to "
                    + Envelope.MAX_KID_CHARS + " printable ASCII characters, got " + (kid == null ? "null" : "'" + kid + "'"));
        }
        SecretKey key = keyFor(channel, kid);
        if (key == null) {
            throw new PortcullisException("cannot encrypt for " + channel + ": no AES-256 key for kid " + kid);
        }
        byte[] iv = new byte[Envelope.IV_BYTES];
        ivSource.accept(iv);
        try {
            byte[] plaintext = PLAINTEXT_WRITER.writeValueAsBytes(data);
            cipher.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, iv));
            cipher.updateAAD(channel.getBytes(StandardCharsets.UTF_8));
            return new Envelope(kid, iv, cipher.doFinal(plaintext)).toJson();
        } catch (JsonProcessingException | GeneralSecurityException e) {
            throw new PortcullisException("cannot encrypt for " + channel + ": " + e.getMessage(), e);
        }
    }

    /**
     * The data sealed in {@code envelope} for {@code channel}. Throws {@link DecryptFailedException}
     * with the reason: {@code malformed}, {@code unknown_kid} or {@code authentication_failed}.
     */
    public JsonNode open(String channel, JsonNode envelope) {
        Envelope parsed = Envelope.parse(envelope);
        SecretKey key = keyFor(channel, parsed.kid());
        if (key == null) {
            throw new DecryptFailedException(DecryptFailure.UNKNOWN_KID, parsed.kid(), "no key for kid " + parsed.kid());
        }
        byte[] plaintext;
        try {
            cipher.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, parsed.iv()));
            cipher.updateAAD(channel.getBytes(StandardCharsets.UTF_8));
            plaintext = cipher.doFinal(parsed.ct());
        } catch (AEADBadTagException e) {
            throw new DecryptFailedException(DecryptFailure.AUTHENTICATION_FAILED, parsed.kid(),
                    "the GCM tag does not verify (altered, another key, or another channel's)");
        } catch (GeneralSecurityException e) {
            throw new DecryptFailedException(DecryptFailure.MALFORMED, parsed.kid(), "cannot decrypt: " + e.getMessage());
        }
        try {
            JsonNode data = PLAINTEXT.readTree(utf8.decode(ByteBuffer.wrap(plaintext)).toString());
            if (data == null || data.isMissingNode()) {
                throw new DecryptFailedException(DecryptFailure.MALFORMED, parsed.kid(), "the plaintext is empty");
            }
            return data;
        } catch (CharacterCodingException e) {
            throw new DecryptFailedException(DecryptFailure.MALFORMED, parsed.kid(), "the plaintext is not UTF-8");
        } catch (JsonProcessingException e) {
            throw new DecryptFailedException(DecryptFailure.MALFORMED, parsed.kid(), "the plaintext is not JSON");
        }
    }

    /**
     * The provider's key, or null when it has none, throws, or gives something other than a 32-byte
     * AES key: a 16-byte key would silently make AES-128, which the other clients would not read.
     */
    private SecretKey keyFor(String channel, String kid) {
        SecretKey key;
        try {
            key = keys.key(channel, kid);
        } catch (RuntimeException e) {
            log.warn("the key provider failed for {} kid {}; treated as no key", channel, kid, e);
            return null;
        }
        if (key == null) {
            return null;
        }
        byte[] encoded = key.getEncoded();
        if (!"AES".equalsIgnoreCase(key.getAlgorithm()) || encoded != null && encoded.length != 32) {
            log.warn("the key provider gave {} kid {} a {} key of {} bytes, not a 32-byte AES key; treated as no key",
                    channel, kid, key.getAlgorithm(), encoded == null ? "?" : encoded.length);
            return null;
        }
        return key;
    }
}
