package dev.portcullis.gateway.hooks;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The signature on every hook request, so the backend can tell the gateway's requests from anyone
 * else's: {@code X-Portcullis-Signature: sha256=<hex>} where hex is the lower-case HMAC-SHA256, keyed
 * with {@code hooks.secret}, of {@code <X-Portcullis-Timestamp> "." <body bytes>}. The timestamp
 * (Unix seconds) is inside the signed text, so a backend that refuses stale timestamps also refuses
 * replays of an old request. Thread-safe (one {@link Mac} per thread).
 */
final class HookSigner {
    static final String TIMESTAMP_HEADER = "X-Portcullis-Timestamp";
    static final String SIGNATURE_HEADER = "X-Portcullis-Signature";
    static final String PREFIX = "sha256=";
    private static final String ALGORITHM = "HmacSHA256";

    private final ThreadLocal<Mac> macs;

    HookSigner(String secret) {
        SecretKeySpec key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), ALGORITHM);
        macs = ThreadLocal.withInitial(() -> {
            try {
                Mac mac = Mac.getInstance(ALGORITHM);
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("HmacSHA256 is not available", e);
            }
        });
        macs.get(); // fail at start, not on the first request
    }

    String sign(long timestampSeconds, byte[] body) {
        Mac mac = macs.get();
        mac.update(Long.toString(timestampSeconds).getBytes(StandardCharsets.US_ASCII));
        mac.update((byte) '.');
        mac.update(body);
        return PREFIX + HexFormat.of().formatHex(mac.doFinal());
    }
}
