package dev.portcullis.gateway.testing;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSSigner;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.function.UnaryOperator;

/** Test tokens, minted with Nimbus directly so that tests can build broken ones too. */
public final class Tokens {
    public static final String SECRET = "portcullis-test-secret-0123456789-abcdefghij";

    private Tokens() {}

    public static String hs256(String subject) {
        return hs256(subject, Duration.ofHours(1));
    }

    public static String hs256(String subject, Duration ttl) {
        return hs256(b -> b.subject(subject).expirationTime(Date.from(Instant.now().plus(ttl))));
    }

    /** Starts from iat=now; {@code claims} sets the rest. */
    public static String hs256(UnaryOperator<JWTClaimsSet.Builder> claims) {
        return sign(new MACSignerOf(SECRET).signer, JWSAlgorithm.HS256, claims);
    }

    public static String sign(JWSSigner signer, JWSAlgorithm alg, UnaryOperator<JWTClaimsSet.Builder> claims) {
        JWTClaimsSet set = claims.apply(new JWTClaimsSet.Builder().issueTime(new Date())).build();
        SignedJWT jwt = new SignedJWT(new JWSHeader(alg), set);
        try {
            jwt.sign(signer);
        } catch (JOSEException e) {
            throw new IllegalStateException(e);
        }
        return jwt.serialize();
    }

    private record MACSignerOf(JWSSigner signer) {
        MACSignerOf(String secret) {
            this(mac(secret));
        }

        private static JWSSigner mac(String secret) {
            try {
                return new MACSigner(secret);
            } catch (JOSEException e) {
                throw new IllegalStateException(e);
            }
        }
    }
}
