package dev.portcullis.gateway.config;

/**
 * The whole configuration of one gateway: an immutable tree of records, built and validated once by
 * {@link ConfigLoader} and never changed while the gateway runs. Every key, its default and its
 * meaning is listed in {@link ConfigKeys}.
 */
public record GatewayConfig(
        ServerConfig server,
        AdminConfig admin,
        AuthConfig auth,
        ChannelsConfig channels,
        BrokerConfig broker,
        HistoryConfig history,
        LimitsConfig limits,
        HeartbeatConfig heartbeat,
        ShutdownConfig shutdown,
        AlertsConfig alerts,
        HooksConfig hooks,
        LogConfig log) {}
