package dev.portcullis.gateway.testing;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * Real end-to-end encryption envelopes for gateway tests, made the way the clients make them
 * (docs/encryption-vectors.json): AES-256-GCM, a fresh 12-byte IV, the channel name as additional
 * authenticated data, {@code ct} = ciphertext and tag, base64url without padding. The gateway cannot
 * tell these from random bytes; making them real keeps the tests honest about what travels.
 */
public final class Envelopes {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Base64.Encoder B64URL = Base64.getUrlEncoder().withoutPadding();

    private Envelopes() {}

    /** A 32-byte key. */
    public static byte[] key() {
        byte[] key = new byte[32];
        RANDOM.nextBytes(key);
        return key;
    }

    /** The envelope's JSON text (members in the order v, kid, iv, ct, no spaces) for {@code plaintextJson} on {@code channel}. */
    public static String encrypt(byte[] key, String kid, String channel, String plaintextJson) {
        byte[] iv = new byte[12];
        RANDOM.nextBytes(iv);
        try {
            Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding");
            cipher.init(Cipher.ENCRYPT_MODE, new SecretKeySpec(key, "AES"), new GCMParameterSpec(128, iv));
            cipher.updateAAD(channel.getBytes(StandardCharsets.UTF_8));
            byte[] ct = cipher.doFinal(plaintextJson.getBytes(StandardCharsets.UTF_8));
            return "{\"v\":1,\"kid\":\"" + kid + "\",\"iv\":\"" + B64URL.encodeToString(iv) + "\",\"ct\":\"" + B64URL.encodeToString(ct) + "\"}";
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The envelope's {@code ct} text: what must never be found next to its plaintext, and is found in Redis. */
    public static String ct(String envelope) {
        return WsClient.json(envelope).path("ct").asText();
    }

    /** The frame the gateway sends for a publication, {@code dataJson} being the published text itself. */
    public static String messageFrame(String channel, long offset, String epoch, String dataJson) {
        return "{\"type\":\"message\",\"channel\":\"" + channel + "\",\"offset\":" + offset + ",\"epoch\":\"" + epoch
                + "\",\"data\":" + dataJson + "}";
    }
}
