package dev.portcullis.gateway.presence;

import java.time.Instant;

/**
 * One connection subscribed to a channel that keeps presence.
 *
 * @param user the token's subject
 * @param connection the connection id (the one {@code connected} told the client)
 * @param since when it joined the channel
 */
public record Member(String user, String connection, Instant since) {}
