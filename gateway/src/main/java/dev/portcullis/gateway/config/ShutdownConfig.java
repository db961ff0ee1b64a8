package dev.portcullis.gateway.config;

import java.time.Duration;

/** Graceful shutdown: how long to wait for close handshakes after every connection got 1001. */
public record ShutdownConfig(Duration drainTimeout) {}
