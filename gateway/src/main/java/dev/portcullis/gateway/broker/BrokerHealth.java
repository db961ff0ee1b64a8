package dev.portcullis.gateway.broker;

/**
 * What {@code /readyz} reports of the broker. {@code state} is {@code ok} or {@code degraded};
 * {@code reason} says why in a few words ({@code null} when ok).
 */
public record BrokerHealth(String type, String state, String reason) {
    public static BrokerHealth ok(String type) {
        return new BrokerHealth(type, "ok", null);
    }

    public static BrokerHealth degraded(String type, String reason) {
        return new BrokerHealth(type, "degraded", reason);
    }

    public boolean healthy() {
        return "ok".equals(state);
    }
}
