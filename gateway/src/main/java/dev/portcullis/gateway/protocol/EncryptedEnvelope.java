package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.databind.JsonNode;
import java.math.BigInteger;

/**
 * The one check of an end-to-end encrypted channel's publication data ({@code channels.encrypted}):
 * exactly {@code {"v":1,"kid":"...","iv":"...","ct":"..."}}, made by the clients with AES-256-GCM.
 * Client publications, the backend API and publish hooks' replacement data all come through here
 * (by way of {@link NamespacePolicies}), so the three can never disagree.
 *
 * <ul>
 *   <li>{@code v}: the JSON integer 1 (not {@code "1"}, not {@code 1.0}): a later format gets a new
 *       number, and a client that does not know it must see it refused, not guessed at.
 *   <li>{@code kid}: 1 to 64 printable ASCII characters (0x21-0x7E), the application's key id.
 *   <li>{@code iv}: base64url (RFC 4648 section 5, no {@code =} padding) of exactly 12 bytes.
 *   <li>{@code ct}: base64url without padding of the ciphertext and its 16-byte GCM tag, so at least
 *       16 bytes. Its size is bounded only by the message and API body limits.
 * </ul>
 *
 * <p>Why the gateway checks a format it cannot read: a plaintext publication into an encrypted
 * channel is the one mistake that would put the secret where the gateway, Redis and the history
 * store keep it; refusing it at the door keeps that mistake from ever being stored. The check is
 * syntactic only (the gateway holds no keys). The base64url texts are checked character by
 * character, never decoded, and the canonical form is required (the unused low bits of the last
 * character are zero), so one ciphertext has one spelling.
 *
 * <p>Refusals are {@code invalid_message} naming the field, never echoing what was sent. Stateless
 * and thread-safe.
 */
public final class EncryptedEnvelope {
    public static final int MAX_KID_LENGTH = 64;
    public static final int IV_BYTES = 12;
    public static final int TAG_BYTES = 16;
    private static final int MEMBERS = 4;

    private EncryptedEnvelope() {}

    /**
     * @throws ProtocolException {@code invalid_message} naming the field (its {@code id()} is null)
     */
    public static void check(JsonNode data) {
        if (data == null || !data.isObject()) {
            throw refused("$.data: this channel is end-to-end encrypted; data must be the envelope {\"v\":1,\"kid\",\"iv\",\"ct\"}");
        }
        JsonNode v = data.get("v");
        if (v == null) {
            throw refused("$.data.v: v is required");
        }
        if (!v.isIntegralNumber() || !BigInteger.ONE.equals(v.bigIntegerValue())) {
            throw refused("$.data.v: v must be the integer 1");
        }
        String kid = text(data, "kid");
        if (kid.isEmpty() || kid.length() > MAX_KID_LENGTH || !printableAscii(kid)) {
            throw refused("$.data.kid: kid must be 1 to " + MAX_KID_LENGTH + " printable ASCII characters");
        }
        String iv = text(data, "iv");
        if (!base64Url(iv) || base64UrlBytes(iv) != IV_BYTES) {
            throw refused("$.data.iv: iv must be base64url (no padding) of " + IV_BYTES + " bytes");
        }
        String ct = text(data, "ct");
        if (!base64Url(ct) || base64UrlBytes(ct) < TAG_BYTES) {
            throw refused("$.data.ct: ct must be base64url (no padding) of at least " + TAG_BYTES + " bytes (ciphertext and GCM tag)");
        }
        if (data.size() != MEMBERS) {
            throw refused("$.data: the envelope has exactly the members v, kid, iv and ct");
        }
    }

    private static String text(JsonNode data, String field) {
        JsonNode node = data.get(field);
        if (node == null) {
            throw refused("$.data." + field + ": " + field + " is required");
        }
        if (!node.isTextual()) {
            throw refused("$.data." + field + ": " + field + " must be a string");
        }
        return node.textValue();
    }

    private static boolean printableAscii(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                return false;
            }
        }
        return true;
    }

    /** Alphabet {@code A-Z a-z 0-9 - _}, no padding, a length a whole number of bytes can have, canonical last character. */
    private static boolean base64Url(String s) {
        int tail = s.length() % 4;
        if (tail == 1) {
            return false;
        }
        for (int i = 0; i < s.length(); i++) {
            if (sextet(s.charAt(i)) < 0) {
                return false;
            }
        }
        // 2 trailing characters carry 1 byte (4 spare bits), 3 carry 2 bytes (2 spare bits): spare bits are zero
        int spareMask = tail == 2 ? 0x0F : tail == 3 ? 0x03 : 0;
        return s.isEmpty() || (sextet(s.charAt(s.length() - 1)) & spareMask) == 0;
    }

    private static int base64UrlBytes(String s) {
        return s.length() / 4 * 3 + Math.max(0, s.length() % 4 - 1);
    }

    private static int sextet(char c) {
        if (c >= 'A' && c <= 'Z') {
            return c - 'A';
        }
        if (c >= 'a' && c <= 'z') {
            return c - 'a' + 26;
        }
        if (c >= '0' && c <= '9') {
            return c - '0' + 52;
        }
        return c == '-' ? 62 : c == '_' ? 63 : -1;
    }

    private static ProtocolException refused(String message) {
        return new ProtocolException(ProtocolException.INVALID_MESSAGE, null, message);
    }
}
