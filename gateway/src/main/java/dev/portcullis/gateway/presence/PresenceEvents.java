package dev.portcullis.gateway.presence;

import dev.portcullis.gateway.protocol.JsonStrings;

/**
 * The text of the {@code join} and {@code leave} events:
 * {@code {"type":"join","channel":...,"user":...,"connection":...}}. Channel names and connection
 * ids are plain ASCII without quotes; the user id is any string and is escaped. Written here rather
 * than through the codec because one text is fanned out to every subscriber (and the Redis store
 * builds the same text inside a script for the members of a dead instance).
 */
public final class PresenceEvents {
    public static final String JOIN = "join";
    public static final String LEAVE = "leave";

    private PresenceEvents() {}

    public static String json(String type, String channel, String user, String connection) {
        StringBuilder out = new StringBuilder(64 + user.length());
        out.append("{\"type\":\"").append(type).append("\",\"channel\":\"").append(channel).append("\",\"user\":");
        JsonStrings.quote(out, user);
        return out.append(",\"connection\":\"").append(connection).append("\"}").toString();
    }
}
