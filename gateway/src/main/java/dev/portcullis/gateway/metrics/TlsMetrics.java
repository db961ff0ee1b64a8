package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Certificate rotation: {@code portcullis_tls_reloads_total{listener, result}} counts certificate
 * files that changed on disk and were taken ({@code ok}) or refused and the old pair kept
 * ({@code failure}: unreadable, half-written, a key that does not match); and
 * {@code portcullis_tls_certificate_expiry_seconds{listener}} is the served certificate's
 * {@code notAfter} as a Unix time, so an alert can fire before a rotation that never happened
 * matters. Listeners are {@code server} (the public one) and {@code admin}; both are registered up
 * front. Created by {@link GatewayMetrics}; thread-safe.
 */
public final class TlsMetrics {
    static final String[] LISTENERS = {"server", "admin"};

    private final Map<String, Counter> ok;
    private final Map<String, Counter> failure;
    private final Map<String, AtomicLong> expiry;

    TlsMetrics(MeterRegistry registry) {
        ok = counters(registry, "ok");
        failure = counters(registry, "failure");
        expiry = Map.of(LISTENERS[0], new AtomicLong(), LISTENERS[1], new AtomicLong());
        expiry.forEach((listener, value) -> Gauge.builder("portcullis.tls.certificate.expiry", value, AtomicLong::get)
                .description("notAfter of the certificate a listener serves, as Unix time (0: no TLS)")
                .baseUnit("seconds")
                .tag("listener", listener)
                .register(registry));
    }

    /** A changed certificate pair of {@code listener} was loaded and is served to new connections. */
    public void reloaded(String listener, long notAfterEpochSeconds) {
        counter(ok, listener).increment();
        served(listener, notAfterEpochSeconds);
    }

    /** A changed pair of {@code listener} was refused; the previous one is still served. */
    public void reloadFailed(String listener) {
        counter(failure, listener).increment();
    }

    /** The certificate {@code listener} serves (at start and after every reload). */
    public void served(String listener, long notAfterEpochSeconds) {
        AtomicLong value = expiry.get(listener);
        if (value == null) {
            throw new IllegalArgumentException("unknown listener " + listener);
        }
        value.set(notAfterEpochSeconds);
    }

    private static Counter counter(Map<String, Counter> counters, String listener) {
        Counter counter = counters.get(listener);
        if (counter == null) {
            throw new IllegalArgumentException("unknown listener " + listener);
        }
        return counter;
    }

    private static Map<String, Counter> counters(MeterRegistry registry, String result) {
        return Map.of(LISTENERS[0], counter(registry, LISTENERS[0], result), LISTENERS[1], counter(registry, LISTENERS[1], result));
    }

    private static Counter counter(MeterRegistry registry, String listener, String result) {
        return Counter.builder("portcullis.tls.reloads")
                .description("Changed TLS certificate files taken (ok) or refused with the old pair kept (failure)")
                .tag("listener", listener)
                .tag("result", result)
                .register(registry);
    }
}
