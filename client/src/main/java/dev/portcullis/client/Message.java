package dev.portcullis.client;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One publication in a channel, as the server delivered it.
 *
 * @param channel the channel it was published to
 * @param offset  its offset in the channel (increases by one per publication)
 * @param epoch   the channel's history epoch; null when the server does not report one
 * @param data    the publication's data, as sanitised by the server (any JSON value)
 */
public record Message(String channel, long offset, String epoch, JsonNode data) {
    /** This message's place in its channel. */
    public Position position() {
        return new Position(offset, epoch);
    }
}
