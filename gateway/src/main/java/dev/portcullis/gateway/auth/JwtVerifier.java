package dev.portcullis.gateway.auth;

import com.nimbusds.jose.Algorithm;
import com.nimbusds.jose.Header;
import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObject;
import com.nimbusds.jose.JWEHeader;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.JWSVerifier;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.SignedJWT;
import dev.portcullis.gateway.auth.TokenRejectedException.Reason;
import dev.portcullis.gateway.config.AuthConfig;
import java.nio.charset.StandardCharsets;
import java.text.ParseException;
import java.time.Clock;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Verifies JWS-signed JWTs: length cap, parse, algorithm from the configured allow-list (never
 * trusting the header), key, signature, then claims ({@link ClaimRules}). Keys named by the token
 * itself ({@code jku}, {@code jwk}, {@code x5u}, {@code x5c}) are ignored.
 *
 * <p>A signed token is taken apart as Nimbus's {@code SignedJWT} would, with the same checks and
 * refusals, but its header and claims are read once each by {@link JoseJson} rather than by Nimbus's
 * reader (which read the header twice): a handshake's verification allocates a fifth of what it did.
 * Unsigned and encrypted forms, refused anyway, still go through Nimbus's parser for their reasons.
 *
 * <p>With an HMAC secret or a PEM key the returned future is complete when {@code verify} returns.
 * With a JWKS URL it is too, unless the token names a key not yet fetched: then it completes on
 * the {@code portcullis-jwks} thread. Thread-safe.
 */
public final class JwtVerifier implements TokenVerifier, AutoCloseable {

    /** Longer tokens are refused before any parsing. */
    static final int MAX_TOKEN_CHARS = 8 * 1024;

    private static final Logger log = LoggerFactory.getLogger(JwtVerifier.class);

    private final Set<SigningAlgorithm> allowed;
    private final KeySource keys;
    private final ClaimRules rules;
    private final Clock clock;

    private JwtVerifier(Set<SigningAlgorithm> allowed, KeySource keys, ClaimRules rules, Clock clock) {
        this.allowed = allowed;
        this.keys = keys;
        this.rules = rules;
        this.clock = clock;
    }

    /**
     * Validates the config and, with a JWKS URL, starts the first fetch in the background.
     *
     * @throws IllegalArgumentException naming the offending config key, e.g.
     *     {@code auth.algorithms: HS256 needs auth.hmac-secret}
     */
    public static JwtVerifier create(AuthConfig config, Clock clock) {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(clock, "clock");
        Duration skew = config.clockSkew();
        if (skew == null || skew.isNegative()) {
            throw new IllegalArgumentException("auth.clock-skew: must be zero or a positive duration");
        }
        Set<SigningAlgorithm> allowed = SigningAlgorithm.parseAllowed(config.algorithms());
        ClaimRules rules = new ClaimRules(config.issuer(), config.audience(), skew, config.maxTokenLifetime());
        return new JwtVerifier(allowed, KeySources.create(config, allowed, clock), rules, clock);
    }

    /** A compact JWS taken apart: its header, read, and its three parts as they came. */
    private record Jws(JWSHeader header, Base64URL[] parts) {}

    @Override
    public CompletableFuture<Principal> verify(String token) {
        try {
            Jws jwt = parse(token);
            SigningAlgorithm alg = allowedAlgorithm(jwt.header());
            CompletableFuture<JWSVerifier> key = keys.verifierFor(alg, jwt.header().getKeyID());
            if (key.isDone() && !key.isCompletedExceptionally()) {
                return CompletableFuture.completedFuture(check(jwt, key.join()));
            }
            CompletableFuture<Principal> result = new CompletableFuture<>();
            key.whenComplete((verifier, failure) -> {
                try {
                    if (failure != null) {
                        throw failure instanceof TokenRejectedException rejection ? rejection : unexpected(failure);
                    }
                    result.complete(check(jwt, verifier));
                } catch (RuntimeException e) {
                    result.completeExceptionally(rejected(e));
                }
            });
            return result;
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(rejected(e));
        }
    }

    /**
     * A signed JWT; unsecured and encrypted ones are refused here. The steps and checks of Nimbus's
     * {@code JWTParser.parse} and {@code SignedJWT.parse}: the header's algorithm decides the form,
     * a JWS has exactly three parts and a signature, and its header must be a valid JWS header.
     */
    private Jws parse(String token) {
        if (token == null || token.isBlank()) {
            throw new TokenRejectedException(Reason.MISSING_TOKEN);
        }
        if (token.length() > MAX_TOKEN_CHARS) {
            throw new TokenRejectedException(Reason.MALFORMED,
                    "the token is longer than " + MAX_TOKEN_CHARS + " characters");
        }
        try {
            int dot = token.indexOf('.');
            if (dot < 0) {
                throw new ParseException("no part delimiters", 0);
            }
            Map<String, Object> headerJson = JoseJson.object(new Base64URL(token.substring(0, dot)).decodeToString());
            Algorithm alg = Header.parseAlgorithm(headerJson);
            if (!(alg instanceof JWSAlgorithm) || alg.equals(Algorithm.NONE)) {
                refuseOtherForms(token);
            }
            Base64URL[] parts = JOSEObject.split(token);
            if (parts.length != 3) {
                throw new ParseException("a signed token has three parts", 0);
            }
            if (parts[2].toString().trim().isEmpty()) {
                throw new ParseException("the signature must not be empty", 0);
            }
            return new Jws(JWSHeader.parse(headerJson, parts[0]), parts);
        } catch (ParseException e) {
            refuseForeignForms(token);
            throw new TokenRejectedException(Reason.MALFORMED);
        }
    }

    /** An unsecured or encrypted token, or one that does not parse as either: refused as Nimbus's parser sees it. */
    private void refuseOtherForms(String token) throws ParseException {
        JWT jwt = JWTParser.parse(token);
        throw switch (jwt) {
            case EncryptedJWT encrypted -> new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, ENCRYPTED);
            case SignedJWT signed -> new IllegalStateException("a signed token where its header says otherwise");
            default -> new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, UNSIGNED);
        };
    }

    private static final String ENCRYPTED = "encrypted tokens (JWE) are not accepted";
    private static final String UNSIGNED = "unsigned tokens (alg none) are never accepted";

    /**
     * For a token that did not parse: reads the header on its own, so that a token says
     * {@code algorithm_not_allowed} for what its header declares even when the rest does not parse:
     * {@code alg} "None" or "NONE" with an empty signature used to come out as {@code malformed}
     * (JwtAttackMatrixTest). A header that does not parse either is left {@code malformed}. Only
     * after a failed parse: a good token's header is parsed once, not twice (a handshake's cost).
     */
    private void refuseForeignForms(String token) {
        int dot = token.indexOf('.');
        if (dot <= 0) {
            return;
        }
        Header header;
        try {
            header = Header.parse(new Base64URL(token.substring(0, dot)));
        } catch (ParseException | RuntimeException e) {
            return;
        }
        if (header instanceof JWEHeader) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, ENCRYPTED);
        }
        String alg = header.getAlgorithm() == null ? "" : header.getAlgorithm().getName();
        if ("none".equalsIgnoreCase(alg)) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, UNSIGNED);
        }
        SigningAlgorithm signing = SigningAlgorithm.ofHeader(alg);
        if (signing == null || !allowed.contains(signing)) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED);
        }
    }

    /** The header's algorithm, if configured; the header may name it, never widen the set. */
    private SigningAlgorithm allowedAlgorithm(JWSHeader header) {
        SigningAlgorithm alg = SigningAlgorithm.ofHeader(header.getAlgorithm().getName());
        if (alg == null || !allowed.contains(alg)) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED);
        }
        if (header.getCriticalParams() != null && !header.getCriticalParams().isEmpty()) {
            throw new TokenRejectedException(Reason.MALFORMED,
                    "the token has critical header parameters this server does not understand");
        }
        if ("JWT".equalsIgnoreCase(header.getContentType())) {
            throw new TokenRejectedException(Reason.MALFORMED, "nested tokens (cty JWT) are not accepted");
        }
        if (!header.isBase64URLEncodePayload()) {
            // RFC 7797 wants b64 listed in crit (refused above); a JWT's claims are base64url-encoded anyway.
            throw new TokenRejectedException(Reason.MALFORMED, "unencoded payloads (b64 false) are not accepted");
        }
        return alg;
    }

    private Principal check(Jws jwt, JWSVerifier verifier) {
        Base64URL[] parts = jwt.parts();
        boolean valid;
        try {
            valid = verifier.verify(jwt.header(), signingInput(parts), parts[2]);
        } catch (JOSEException | RuntimeException e) { // JWSObject.verify also turned any exception into "not valid"
            valid = false;
        }
        if (!valid) {
            throw new TokenRejectedException(Reason.BAD_SIGNATURE);
        }
        Map<String, Object> payload;
        try {
            payload = JoseJson.object(parts[1].decodeToString());
        } catch (ParseException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "the token's claims are not a JSON object (with unique names)");
        }
        // Before Nimbus turns them into Dates: it multiplies by 1000 in a long, and 1e300 wraps around.
        rules.checkNumericDates(payload);
        JWTClaimsSet claims;
        try {
            claims = JWTClaimsSet.parse(payload);
        } catch (ParseException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "a registered claim of the token has the wrong type");
        }
        return rules.check(claims, clock.instant());
    }

    /** What the signature covers, as {@code JWSObject} composes it ({@code b64: false} is refused before). */
    private static byte[] signingInput(Base64URL[] parts) {
        return (parts[0] + "." + parts[1]).getBytes(StandardCharsets.UTF_8);
    }

    private static TokenRejectedException rejected(RuntimeException e) {
        TokenRejectedException rejection = e instanceof TokenRejectedException known ? known : unexpected(e);
        log.debug("token rejected: {}", rejection.reason().code());
        return rejection;
    }

    /** A bug or library surprise: refuse the token, log the type only (a message could quote the token). */
    private static TokenRejectedException unexpected(Throwable e) {
        log.warn("unexpected {} while verifying a token", e.getClass().getName());
        return new TokenRejectedException(Reason.MALFORMED);
    }

    /** Stops the JWKS fetch thread, if any; verifications still waiting fail with {@code keys_unavailable}. */
    @Override
    public void close() {
        keys.close();
    }
}
