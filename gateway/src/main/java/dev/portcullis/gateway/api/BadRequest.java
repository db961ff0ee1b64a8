package dev.portcullis.gateway.api;

/** A request the API refuses, answered {@code {error, message}} with its status; unchecked so that validation reads top to bottom. */
final class BadRequest extends RuntimeException {
    final int status;
    final String code;

    BadRequest(int status, String code, String message) {
        super(message, null, false, false);
        this.status = status;
        this.code = code;
    }
}
