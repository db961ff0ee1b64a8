package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Base64;

/**
 * The data of a publication on an encrypted channel, exactly
 * {@code {"v":1,"kid":"<1..64 printable ASCII>","iv":"<base64url, 12 bytes>","ct":"<base64url, ciphertext + 16-byte tag>"}}
 * (base64url of RFC 4648 section 5, without padding, canonical: one spelling per byte string). The
 * format is shared with the JS client and checked the same way by the gateway
 * ({@code channels.encrypted}); it is validated completely before any key is looked up, so
 * that a malformed envelope is reported as such and never reaches the cipher.
 *
 * @param kid the key id
 * @param iv  the 12-byte GCM nonce
 * @param ct  the ciphertext followed by the 16-byte GCM tag
 */
record Envelope(String kid, byte[] iv, byte[] ct) {
    static final int IV_BYTES = 12;
    static final int TAG_BYTES = 16;
    static final int MAX_KID_CHARS = 64;
    private static final Base64.Encoder ENCODER = Base64.getUrlEncoder().withoutPadding();
    private static final Base64.Decoder DECODER = Base64.getUrlDecoder();
    private static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /** The envelope in {@code data}; throws {@link DecryptFailedException} ({@code malformed}) naming what is wrong. */
    static Envelope parse(JsonNode data) {
        if (data == null || !data.isObject()) {
            throw malformed(null, "not a JSON object");
        }
        JsonNode kidNode = data.get("kid");
        String kid = kidNode != null && kidNode.isTextual() && validKid(kidNode.textValue()) ? kidNode.textValue() : null;
        if (data.size() != 4 || !data.has("v") || !data.has("kid") || !data.has("iv") || !data.has("ct")) {
            throw malformed(kid, "an envelope has exactly the members v, kid, iv and ct");
        }
        JsonNode v = data.get("v");
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.intValue() != 1) {
            throw malformed(kid, "unsupported v " + v);
        }
        if (kid == null) {
            throw malformed(null, "kid must be 1 to " + MAX_KID_CHARS + " printable ASCII characters");
        }
        byte[] iv = decode(data.get("iv"), "iv", kid);
        if (iv.length != IV_BYTES) {
            throw malformed(kid, "iv must be " + IV_BYTES + " bytes, not " + iv.length);
        }
        byte[] ct = decode(data.get("ct"), "ct", kid);
        if (ct.length < TAG_BYTES) {
            throw malformed(kid, "ct is shorter than the " + TAG_BYTES + "-byte tag");
        }
        return new Envelope(kid, iv, ct);
    }

    /** The envelope as publication data. */
    ObjectNode toJson() {
        ObjectNode node = Frames.JSON.createObjectNode();
        node.put("v", 1);
        node.put("kid", kid);
        node.put("iv", ENCODER.encodeToString(iv));
        node.put("ct", ENCODER.encodeToString(ct));
        return node;
    }

    /** 1 to 64 characters, each printable ASCII without space (0x21-0x7E). */
    static boolean validKid(String kid) {
        if (kid == null || kid.isEmpty() || kid.length() > MAX_KID_CHARS) {
            return false;
        }
        for (int i = 0; i < kid.length(); i++) {
            char c = kid.charAt(i);
            if (c < 0x21 || c > 0x7E) {
                return false;
            }
        }
        return true;
    }

    private static byte[] decode(JsonNode node, String field, String kid) {
        if (!node.isTextual()) {
            throw malformed(kid, field + " is not a string");
        }
        String text = node.textValue();
        if (text.indexOf('=') >= 0) {
            throw malformed(kid, field + " is padded; base64url without padding expected");
        }
        byte[] bytes;
        try {
            bytes = DECODER.decode(text);
        } catch (IllegalArgumentException e) {
            throw malformed(kid, field + " is not base64url");
        }
        // canonical form only, as the gateway requires: the spare low bits of the last character are zero
        int tail = text.length() % 4;
        if (tail > 1 && (ALPHABET.indexOf(text.charAt(text.length() - 1)) & (tail == 2 ? 0x0F : 0x03)) != 0) {
            throw malformed(kid, field + " is not canonical base64url");
        }
        return bytes;
    }

    private static DecryptFailedException malformed(String kid, String why) {
        return new DecryptFailedException(DecryptFailure.MALFORMED, kid, "malformed envelope: " + why);
    }
}
