package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.admission.AttemptGate;
import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.admission.SessionRegistry;
import dev.portcullis.gateway.admission.ConnectionSlots;
import dev.portcullis.gateway.api.BackendApi;
import dev.portcullis.gateway.auth.TokenVerifier;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.metrics.ConnectionSpikeDetector;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.session.Session;
import java.time.Clock;

/**
 * What the handlers of one gateway share, built once by the gateway's wiring. Every member is
 * thread-safe. {@code probes} limits "why was I refused?" requests per client address;
 * {@code devSite} is null but in {@code ./portcullis dev}.
 */
public record Services(
        GatewayConfig config,
        TokenVerifier verifier,
        ConnectionSlots slots,
        AttemptGate attempts,
        ConnectAttemptLimiter probes,
        SessionRegistry registry,
        Connections connections,
        GatewayMetrics metrics,
        ConnectionSpikeDetector spikes,
        Session.Context sessions,
        BackendApi api,
        Clock clock,
        DevSite devSite) {}
