package dev.portcullis.client;

import java.time.Instant;

/**
 * The server accepted a connection (its {@code connected} message).
 *
 * @param connectionId the server's id of this connection (changes on every reconnect)
 * @param user         the authenticated user (the token's {@code sub})
 * @param expiresAt    when the token used for this connection expires
 */
public record Connected(String connectionId, String user, Instant expiresAt) {}
