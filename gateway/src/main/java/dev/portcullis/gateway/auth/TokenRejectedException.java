package dev.portcullis.gateway.auth;

import java.util.Locale;
import java.util.Objects;

/**
 * Why a token was refused. The message is a sentence safe to show the client: it never holds token
 * content. No stack trace is captured, since rejections are frequent under attack.
 */
public final class TokenRejectedException extends RuntimeException {

    /** Reasons with a stable {@link #code()} for metrics tags and the wire. */
    public enum Reason {
        MISSING_TOKEN("no token was given"),
        MALFORMED("the token is not a well-formed signed JWT"),
        ALGORITHM_NOT_ALLOWED("the token's signing algorithm is not accepted"),
        BAD_SIGNATURE("the token's signature does not verify"),
        UNKNOWN_KEY("the token was signed with an unknown key"),
        EXPIRED("the token has expired"),
        NOT_YET_VALID("the token is not valid yet"),
        /** {@code exp} further ahead than {@code auth.max-token-lifetime}: it would outlive the record of a logout. */
        LIFETIME_TOO_LONG("the token lives longer than the gateway accepts"),
        /** {@code iat} ahead of the clock beyond the skew: it would survive a logout made before that time. */
        ISSUED_IN_FUTURE("the token's issue time is in the future"),
        WRONG_ISSUER("the token's issuer is not accepted"),
        WRONG_AUDIENCE("the token's audience is not accepted"),
        MISSING_CLAIM("the token lacks a required claim"),
        /** The key set could not be fetched: a server-side fault, worth a retry later. */
        KEYS_UNAVAILABLE("signing keys are unavailable, try again later"),
        REVOKED("the token has been revoked");

        private final String code = name().toLowerCase(Locale.ROOT);
        private final String defaultMessage;

        Reason(String defaultMessage) {
            this.defaultMessage = defaultMessage;
        }

        /** Lower snake case, e.g. {@code bad_signature}; stable across releases. */
        public String code() {
            return code;
        }

        public String defaultMessage() {
            return defaultMessage;
        }
    }

    private final Reason reason;

    public TokenRejectedException(Reason reason) {
        this(reason, reason.defaultMessage());
    }

    /** The message must be safe to send to a client. */
    public TokenRejectedException(Reason reason, String message) {
        super(message, null, false, false);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }

    static TokenRejectedException missingClaim(String claim) {
        return new TokenRejectedException(Reason.MISSING_CLAIM, "the token has no " + claim + " claim");
    }
}
