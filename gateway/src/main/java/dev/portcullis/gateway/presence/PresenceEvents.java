package dev.portcullis.gateway.presence;

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
        quote(out, user);
        return out.append(",\"connection\":\"").append(connection).append("\"}").toString();
    }

    static void quote(StringBuilder out, String text) {
        out.append('"');
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
