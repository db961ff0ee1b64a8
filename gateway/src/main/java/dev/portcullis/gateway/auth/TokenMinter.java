package dev.portcullis.gateway.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeyLengthException;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.Objects;

/** Signs HS256 tokens for the CLI {@code token} command, dev mode and tests. */
public final class TokenMinter {

    private TokenMinter() {}

    /**
     * A compact HS256 JWT with {@code sub}, {@code iat} and {@code exp = iat + ttl} (times in whole
     * seconds), plus {@code extraClaims} such as {@code iss}, {@code aud} or channel permissions;
     * extra claims cannot replace {@code sub}, {@code iat} or {@code exp}.
     *
     * @param secret the {@code auth.hmac-secret}, UTF-8, at least 32 bytes
     * @throws IllegalArgumentException if the secret is too short
     */
    public static String hs256(String secret, String subject, Instant issuedAt, Duration ttl,
            Map<String, Object> extraClaims) {
        Objects.requireNonNull(secret, "secret");
        Objects.requireNonNull(subject, "subject");
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder();
        if (extraClaims != null) {
            extraClaims.forEach(claims::claim);
        }
        claims.subject(subject)
                .issueTime(Date.from(issuedAt))
                .expirationTime(Date.from(issuedAt.plus(ttl)));
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.HS256).type(JOSEObjectType.JWT).build(), claims.build());
        try {
            jwt.sign(new MACSigner(secret.getBytes(StandardCharsets.UTF_8)));
        } catch (KeyLengthException e) {
            throw new IllegalArgumentException("HMAC secret must be at least 32 bytes");
        } catch (JOSEException e) {
            throw new IllegalStateException("HS256 signing failed", e);
        }
        return jwt.serialize();
    }
}
