package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.IntSupplier;

/**
 * The meters of the hooks to the application's backend: {@code portcullis_hook_duration_seconds{hook}}
 * (request to answer, for requests that were sent), {@code portcullis_hook_results_total{hook,outcome}}
 * and {@code portcullis_hook_breaker_state{target}} (0 closed, 1 open, 2 half-open: probing).
 * Every hook kind and outcome is registered up front, so a dashboard shows zeros rather than gaps
 * and an alert's {@code rate()} sees the first failure. Created by {@link GatewayMetrics}; thread-safe.
 */
public final class HookMetrics {
    public static final List<String> HOOKS = List.of("publish", "subscribe");
    /**
     * What became of a hook call: the backend accepted or rejected; it did not answer in time; it
     * failed otherwise (refused connection, non-2xx, an answer that is not one); the breaker was open;
     * this instance already had {@code hooks.max-in-flight} requests open.
     */
    public static final List<String> OUTCOMES = List.of("accept", "reject", "timeout", "error", "breaker_open", "overloaded");
    /** Breaker targets are the configured backends (scheme, host and port); a bound keeps a typo'd config from growing series. */
    static final int MAX_TARGETS = 64;

    private final MeterRegistry registry;
    private final Map<String, Timer> latency = new HashMap<>();
    private final Map<String, Counter> results = new HashMap<>();
    private int targets;

    HookMetrics(MeterRegistry registry) {
        this.registry = registry;
        for (String hook : HOOKS) {
            latency.put(hook, Timer.builder("portcullis.hook.duration")
                    .description("Time from sending a hook request to its complete answer (or its failure), by hook")
                    .tag("hook", hook)
                    .serviceLevelObjectives(
                            Duration.ofMillis(1), Duration.ofMillis(2), Duration.ofMillis(5), Duration.ofMillis(10),
                            Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100), Duration.ofMillis(250),
                            Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(5))
                    .register(registry));
            for (String outcome : OUTCOMES) {
                results.put(hook + "/" + outcome, Counter.builder("portcullis.hook.results")
                        .description("Hook calls by hook and outcome (anything but accept leaves the client's request undone)")
                        .tag("hook", hook)
                        .tag("outcome", outcome)
                        .register(registry));
            }
        }
    }

    /** @param hook {@code publish} or {@code subscribe} */
    public void latency(String hook, Duration value) {
        timer(hook).record(value);
    }

    /** @param outcome one of {@link #OUTCOMES} */
    public void result(String hook, String outcome) {
        Counter counter = results.get(hook + "/" + outcome);
        if (counter == null) {
            throw new IllegalArgumentException("unknown hook or outcome: " + hook + "/" + outcome);
        }
        counter.increment();
    }

    /**
     * Registers the state gauge of one backend's breaker ({@code target} is its host and port, never
     * a path or query); called once per backend at start.
     */
    public synchronized void breaker(String target, IntSupplier state) {
        if (targets >= MAX_TARGETS) {
            throw new IllegalStateException("more than " + MAX_TARGETS + " hook backends");
        }
        targets++;
        Gauge.builder("portcullis.hook.breaker.state", state, IntSupplier::getAsInt)
                .description("Circuit breaker of a hook backend: 0 closed, 1 open (calls refused), 2 half-open (probing)")
                .tag("target", target)
                .strongReference(true)
                .register(registry);
    }

    private Timer timer(String hook) {
        Timer timer = latency.get(hook);
        if (timer == null) {
            throw new IllegalArgumentException("unknown hook " + hook);
        }
        return timer;
    }
}
