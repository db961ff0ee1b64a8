package dev.portcullis.gateway.api;

import java.time.Instant;
import java.util.List;

/** One connection in {@code GET /api/connections}. {@code remote} is {@code ip:port}. */
public record ConnectionInfo(String id, String user, String remote, Instant since, List<String> channels) {
    public ConnectionInfo {
        channels = List.copyOf(channels);
    }
}
