package dev.portcullis.gateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.crypto.ECDSAVerifier;
import com.nimbusds.jose.crypto.MACVerifier;
import com.nimbusds.jose.crypto.RSASSAVerifier;
import com.nimbusds.jose.jwk.Curve;
import dev.portcullis.gateway.auth.SigningAlgorithm.KeyKind;
import java.security.PublicKey;
import java.security.interfaces.ECPublicKey;
import java.security.interfaces.EdECPublicKey;
import java.security.interfaces.RSAPublicKey;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/** One verification key: which algorithms it fits, and a thread-safe Nimbus verifier for it. */
final class KeyEntry {

    static final int MIN_RSA_BITS = 2048;
    private static final List<Curve> SUPPORTED_CURVES = List.of(Curve.P_256, Curve.P_384, Curve.P_521);

    private final String kid;
    private final String jwkAlg;
    private final KeyKind kind;
    private final Curve curve;
    private final int hmacBytes;
    private final JWSVerifier verifier;
    private final CompletableFuture<JWSVerifier> ready;

    private KeyEntry(String kid, String jwkAlg, KeyKind kind, Curve curve, int hmacBytes, JWSVerifier verifier) {
        this.kid = kid;
        this.jwkAlg = jwkAlg;
        this.kind = kind;
        this.curve = curve;
        this.hmacBytes = hmacBytes;
        this.verifier = verifier;
        this.ready = CompletableFuture.completedFuture(verifier);
    }

    /** The secret must be at least 32 bytes. */
    static KeyEntry hmac(byte[] secret) {
        try {
            return new KeyEntry(null, null, KeyKind.HMAC, null, secret.length, new MACVerifier(secret));
        } catch (JOSEException e) {
            throw new IllegalArgumentException("HMAC secret is shorter than 32 bytes", e);
        }
    }

    /**
     * A public key, optionally with the {@code kid} and {@code alg} of its JWK.
     *
     * @throws IllegalArgumentException saying why the key is unusable (type, size, curve)
     */
    static KeyEntry publicKey(String kid, String jwkAlg, PublicKey key) {
        try {
            return switch (key) {
                case RSAPublicKey rsa when rsa.getModulus().bitLength() < MIN_RSA_BITS ->
                        throw new IllegalArgumentException("RSA key of " + rsa.getModulus().bitLength()
                                + " bits is too short, at least " + MIN_RSA_BITS + " are needed");
                case RSAPublicKey rsa -> new KeyEntry(kid, jwkAlg, KeyKind.RSA, null, 0, new RSASSAVerifier(rsa));
                case ECPublicKey ec -> ecKey(kid, jwkAlg, ec);
                case EdECPublicKey ed when "Ed25519".equals(ed.getParams().getName()) ->
                        new KeyEntry(kid, jwkAlg, KeyKind.ED25519, null, 0, new JdkEd25519Verifier(ed));
                default -> throw new IllegalArgumentException(
                        "not an RSA, EC (P-256, P-384, P-521) or Ed25519 key: " + key.getAlgorithm());
            };
        } catch (JOSEException e) {
            throw new IllegalArgumentException("unusable key: " + e.getMessage(), e);
        }
    }

    private static KeyEntry ecKey(String kid, String jwkAlg, ECPublicKey ec) throws JOSEException {
        Curve curve = Curve.forECParameterSpec(ec.getParams());
        if (curve == null || !SUPPORTED_CURVES.contains(curve)) {
            throw new IllegalArgumentException("EC key is not on P-256, P-384 or P-521");
        }
        return new KeyEntry(kid, jwkAlg, KeyKind.EC, curve, 0, new ECDSAVerifier(ec));
    }

    /** Whether a token signed with {@code alg} may be checked with this key. */
    boolean fits(SigningAlgorithm alg) {
        if (alg.keyKind() != kind) {
            return false;
        }
        if (kind == KeyKind.HMAC) {
            return hmacBytes >= alg.minHmacBytes();
        }
        if (kind == KeyKind.EC && !alg.curve().equals(curve)) {
            return false;
        }
        return jwkAlg == null || jwkAlg.equals(alg.jwsName())
                || kind == KeyKind.ED25519 && (jwkAlg.equals("EdDSA") || jwkAlg.equals("Ed25519"));
    }

    String kid() {
        return kid;
    }

    JWSVerifier verifier() {
        return verifier;
    }

    /** The verifier as an already completed future, shared by every caller. */
    CompletableFuture<JWSVerifier> ready() {
        return ready;
    }

    /** For configuration errors, e.g. "a P-256 EC key". */
    String describe() {
        return switch (kind) {
            case HMAC -> "a " + hmacBytes + "-byte HMAC secret";
            case RSA -> "an RSA key";
            case EC -> "a " + curve.getName() + " EC key";
            case ED25519 -> "an Ed25519 key";
        };
    }
}
