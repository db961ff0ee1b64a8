package dev.portcullis.gateway.config;

/** Logging: {@code format} is {@code text} or {@code json}; {@code level} a Logback level name. */
public record LogConfig(String format, String level) {
    public boolean json() {
        return "json".equals(format);
    }
}
