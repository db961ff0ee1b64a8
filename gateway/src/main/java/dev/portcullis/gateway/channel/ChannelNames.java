package dev.portcullis.gateway.channel;

/**
 * Channel names: {@code [A-Za-z0-9_.:-]{1,128}}. The namespace is the part before the first
 * {@code :} ({@code ""} when there is none); every user has a personal channel {@code user:<sub>}.
 * The alphabet needs no escaping in JSON, which lets frames be assembled without an encoder.
 */
public final class ChannelNames {
    public static final int MAX_LENGTH = 128;
    public static final String PERSONAL_PREFIX = "user:";

    private ChannelNames() {}

    public static boolean valid(String channel) {
        if (channel == null || channel.isEmpty() || channel.length() > MAX_LENGTH) {
            return false;
        }
        for (int i = 0; i < channel.length(); i++) {
            char c = channel.charAt(i);
            boolean ok = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
                    || c == '_' || c == '.' || c == ':' || c == '-';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    public static String namespace(String channel) {
        int colon = channel.indexOf(':');
        return colon < 0 ? "" : channel.substring(0, colon);
    }

    /** The personal channel of {@code user}, or null when the user id does not fit a channel name. */
    public static String personal(String user) {
        String channel = PERSONAL_PREFIX + user;
        return valid(channel) ? channel : null;
    }
}
