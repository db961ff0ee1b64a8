package dev.portcullis.gateway.hooks;

/**
 * What a hook decided about one client request. Anything but {@link Accepted} leaves the request
 * undone: nothing is published, no subscription is made.
 */
public sealed interface HookResult {
    /**
     * Go ahead.
     *
     * @param dataJson for a publication, the data to publish: the client's (already sanitised), or
     *     the backend's replacement (schema-checked, not sanitised); null for a subscription
     */
    record Accepted(String dataJson) implements HookResult {}

    /**
     * The backend said no; the client gets an {@code error} with this code and message.
     *
     * @param code the backend's code when it is snake_case of at most 64 characters, else {@code rejected}
     * @param message the backend's message, at most {@value Hooks#MAX_MESSAGE_CHARS} characters
     */
    record Rejected(String code, String message) implements HookResult {}

    /**
     * No decision (timeout, a failed or malformed answer, breaker open, too many requests in flight):
     * fail closed. The client gets {@code unavailable} with this message.
     */
    record Unavailable(String message) implements HookResult {}
}
