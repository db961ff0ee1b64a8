package dev.portcullis.gateway.protocol;

import com.fasterxml.jackson.annotation.JsonValue;
import java.math.BigInteger;

/**
 * A client's correlation {@code id}, echoed with the JSON type it came with: {@code 3} comes back as
 * {@code 3} and {@code "3"} as {@code "3"}, so {@code reply.id === request.id} holds in JavaScript.
 *
 * @param text    the id as written (an integer's decimal digits, or the string's value)
 * @param integer whether the client sent a JSON integer
 */
public record RequestId(String text, boolean integer) {
    public RequestId {
        java.util.Objects.requireNonNull(text, "text");
    }

    /** A string id. */
    public static RequestId of(String text) {
        return text == null ? null : new RequestId(text, false);
    }

    /** An integer id. */
    public static RequestId of(long value) {
        return new RequestId(Long.toString(value), true);
    }

    /** What the encoder writes: a number for an integer id (any size, as sent), else a string. */
    @JsonValue
    public Object json() {
        return integer ? new BigInteger(text) : text;
    }

    @Override
    public String toString() {
        return text;
    }
}
