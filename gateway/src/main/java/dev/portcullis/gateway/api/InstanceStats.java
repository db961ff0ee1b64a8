package dev.portcullis.gateway.api;

/**
 * One instance's figures for {@code /api/stats}; in a cluster each instance publishes its own with
 * its liveness heartbeat, and any instance answers with the sum.
 */
public record InstanceStats(
        String instance, int connections, int subscriptions, int channels, double messagesInPerSecond,
        double messagesOutPerSecond) {

    /** A compact, space-separated form for the heartbeat. */
    public String encode() {
        return connections + " " + subscriptions + " " + channels + " " + messagesInPerSecond + " " + messagesOutPerSecond;
    }

    /** @return null when {@code text} is not an {@link #encode() encoded} form */
    public static InstanceStats decode(String instance, String text) {
        String[] parts = text.split(" ");
        if (parts.length != 5) {
            return null;
        }
        try {
            return new InstanceStats(instance, Integer.parseInt(parts[0]), Integer.parseInt(parts[1]), Integer.parseInt(parts[2]),
                    Double.parseDouble(parts[3]), Double.parseDouble(parts[4]));
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
