package dev.portcullis.gateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.jwk.Curve;
import com.nimbusds.jose.jwk.ECKey;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyOperation;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.OctetKeyPair;
import com.nimbusds.jose.jwk.RSAKey;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.text.ParseException;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The usable signature keys of one fetched JSON Web Key Set. Immutable. */
record KeySet(List<KeyEntry> keys) {

    private static final Logger log = LoggerFactory.getLogger(KeySet.class);
    /** SubjectPublicKeyInfo prefix of an Ed25519 key; the 32 raw key bytes follow. */
    private static final byte[] ED25519_SPKI_PREFIX = {
        0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00
    };

    KeySet {
        keys = List.copyOf(keys);
    }

    /** Parses a JWKS document, skipping (with a DEBUG line) keys not meant for, or unfit for, signatures. */
    static KeySet parse(String json) throws ParseException {
        List<KeyEntry> usable = new ArrayList<>();
        for (JWK jwk : JWKSet.parse(json).getKeys()) {
            try {
                KeyEntry entry = toEntry(jwk);
                if (entry != null) {
                    usable.add(entry);
                }
            } catch (JOSEException | GeneralSecurityException | IllegalArgumentException e) {
                log.debug("skipping JWK kid={}: {}", jwk.getKeyID(), e.getMessage());
            }
        }
        return new KeySet(usable);
    }

    private static KeyEntry toEntry(JWK jwk) throws JOSEException, GeneralSecurityException {
        if (jwk.getKeyUse() != null && !KeyUse.SIGNATURE.equals(jwk.getKeyUse())
                || jwk.getKeyOperations() != null && !jwk.getKeyOperations().contains(KeyOperation.VERIFY)) {
            return null;
        }
        PublicKey key = switch (jwk) {
            case RSAKey rsa -> rsa.toRSAPublicKey();
            case ECKey ec -> ec.toECPublicKey();
            case OctetKeyPair okp when Curve.Ed25519.equals(okp.getCurve()) -> ed25519(okp.getDecodedX());
            default -> null;
        };
        if (key == null) {
            log.debug("skipping JWK kid={}: key type {} is not for signatures", jwk.getKeyID(), jwk.getKeyType());
            return null;
        }
        String alg = jwk.getAlgorithm() == null ? null : jwk.getAlgorithm().getName();
        return KeyEntry.publicKey(jwk.getKeyID(), alg, key);
    }

    private static PublicKey ed25519(byte[] raw) throws GeneralSecurityException {
        if (raw.length != 32) {
            throw new IllegalArgumentException("Ed25519 key is not 32 bytes");
        }
        byte[] spki = new byte[ED25519_SPKI_PREFIX.length + raw.length];
        System.arraycopy(ED25519_SPKI_PREFIX, 0, spki, 0, ED25519_SPKI_PREFIX.length);
        System.arraycopy(raw, 0, spki, ED25519_SPKI_PREFIX.length, raw.length);
        return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    }

    /**
     * The key for a token: the first with its {@code kid} that fits {@code alg}. A token without a
     * {@code kid} gets the only key fitting {@code alg}, or none when several fit. Null when none.
     */
    KeyEntry find(SigningAlgorithm alg, String kid) {
        KeyEntry only = null;
        for (KeyEntry key : keys) {
            if (!key.fits(alg)) {
                continue;
            }
            if (kid != null && kid.equals(key.kid())) {
                return key;
            }
            if (kid == null) {
                if (only != null) {
                    return null;
                }
                only = key;
            }
        }
        return only;
    }
}
