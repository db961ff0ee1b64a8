package dev.portcullis.gateway.metrics;

import dev.portcullis.gateway.config.AlertsConfig;
import java.net.http.HttpClient;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Raises one alert when connection attempts per second jump far above their usual level, and clears it
 * once they have settled again.
 *
 * <p>The algorithm, run by {@link #tick()} about once a second:
 * <ol>
 *   <li><b>Rate.</b> Attempts counted by {@link ConnectionMetrics#attempt()} since the previous
 *       tick, divided by the seconds elapsed on the injected clock (so a late tick is averaged, not
 *       counted as a burst).
 *   <li><b>Baseline.</b> An exponentially weighted moving average of the rate with time constant
 *       {@code spikeBaseline}: each tick moves it by {@code 1 - exp(-elapsed / spikeBaseline)} of the
 *       way towards the rate. It is bias-corrected (divided by the total weight learned so far), so in
 *       the first minutes it is the plain weighted mean of what was seen rather than a value creeping up
 *       from zero.
 *   <li><b>Threshold.</b> {@code max(spikeFloorPerSecond, spikeFactor * baseline)}. Until one time
 *       constant of history has been learned (the warm-up after start) the baseline is not trusted and
 *       the threshold is the floor alone.
 *   <li><b>Start.</b> A rate above the threshold starts the alert: a WARN line, the gauge
 *       {@code portcullis.alerts.connection.spike} = 1, the counter
 *       {@code portcullis.alerts.connection.spikes} + 1 and, if a webhook is configured, a "firing" POST.
 *   <li><b>Freeze.</b> While the alert is on, the baseline learns nothing, or else a long attack would
 *       become the new normal. During warm-up it keeps learning, since there is nothing to protect yet:
 *       an attack already under way at start-up is reported against the floor and then learned.
 *   <li><b>Clear.</b> The alert clears once the rate has stayed below the midpoint of baseline and
 *       threshold (floor / 2 during warm-up) for {@link #CLEAR_AFTER}: an INFO line, the gauge = 0 and a
 *       "resolved" POST. The midpoint rather than threshold / 2 keeps the clear level above the
 *       baseline for any factor above 1, so a return to normal always clears. A sustained attack
 *       therefore yields exactly one alert, and a rate hovering at the threshold does not flap.
 * </ol>
 *
 * <p>Known limit: a lasting step up in real traffic beyond the clear level looks like an attack that
 * never ends, and keeps the alert on until the gateway restarts.
 *
 * <p>Threading: {@link #attempt()} and {@link #alerting()} from any thread; {@link #tick()} from one
 * scheduler thread (it is synchronized, and never blocks: the webhook is sent asynchronously).
 */
public final class ConnectionSpikeDetector implements AutoCloseable {
    /** How long the rate must stay below the clear level before the alert clears. */
    static final Duration CLEAR_AFTER = Duration.ofSeconds(30);
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);

    private static final Logger log = LoggerFactory.getLogger(ConnectionSpikeDetector.class);

    private final double factor;
    private final double floorPerSecond;
    private final double baselineSeconds;
    private final GatewayMetrics metrics;
    private final Clock clock;
    private final AlertWebhook webhook;
    private final HttpClient ownedHttp;

    private Instant lastTickAt;
    private long lastCount;
    private double weightedRate;
    private double weight;
    private double learnedSeconds;
    private double calmSeconds;
    private Instant firingSince;
    private volatile boolean alerting;
    private boolean closed;

    /**
     * A detector that, if {@code config.webhookUrl()} is set, posts through an HTTP client of its own
     * (closed by {@link #close()}).
     */
    public ConnectionSpikeDetector(AlertsConfig config, GatewayMetrics metrics, Clock clock) {
        this(config, metrics, clock, config.webhookUrl() == null ? null
                : HttpClient.newBuilder().connectTimeout(CONNECT_TIMEOUT).build(), true);
    }

    /** A detector that posts through {@code http}, which stays the caller's to close. */
    public ConnectionSpikeDetector(AlertsConfig config, GatewayMetrics metrics, HttpClient http, Clock clock) {
        this(config, metrics, clock, Objects.requireNonNull(http, "http"), false);
    }

    private ConnectionSpikeDetector(AlertsConfig config, GatewayMetrics metrics, Clock clock, HttpClient http, boolean owned) {
        if (!(config.spikeFactor() > 1)) {
            throw new IllegalArgumentException("spike factor must be above 1, got " + config.spikeFactor());
        }
        if (!(config.spikeFloorPerSecond() >= 0)) {
            throw new IllegalArgumentException("spike floor must be 0 or more, got " + config.spikeFloorPerSecond());
        }
        if (config.spikeBaseline() == null || config.spikeBaseline().isNegative() || config.spikeBaseline().isZero()) {
            throw new IllegalArgumentException("spike baseline must be a positive duration, got " + config.spikeBaseline());
        }
        this.factor = config.spikeFactor();
        this.floorPerSecond = config.spikeFloorPerSecond();
        this.baselineSeconds = seconds(config.spikeBaseline());
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.webhook = config.webhookUrl() == null ? null : new AlertWebhook(config.webhookUrl(), http, metrics);
        this.ownedHttp = owned ? http : null;
        this.lastTickAt = clock.instant();
        this.lastCount = metrics.connections().attempts();
    }

    /**
     * Counts one connection attempt. The same as {@link ConnectionMetrics#attempt()}: call one of
     * the two per attempt, never both.
     */
    public void attempt() {
        metrics.connections().attempt();
    }

    /** Measures the rate since the previous tick, learns and decides; see the class comment. */
    public synchronized void tick() {
        if (closed) {
            return;
        }
        Instant now = clock.instant();
        long count = metrics.connections().attempts();
        double elapsed = seconds(Duration.between(lastTickAt, now));
        long attempts = count - lastCount;
        lastTickAt = now;
        lastCount = count;
        if (elapsed <= 0) {
            return; // the clock stood still or stepped back: drop this interval rather than divide by it
        }
        double rate = attempts / elapsed;
        boolean warm = learnedSeconds >= baselineSeconds;
        double baseline = baselinePerSecond();
        double threshold = warm ? Math.max(floorPerSecond, factor * baseline) : floorPerSecond;

        if (!alerting) {
            if (rate > threshold) {
                start(now, rate, baseline, threshold);
            }
        } else {
            double clearBelow = ((warm ? baseline : 0) + threshold) / 2;
            calmSeconds = rate < clearBelow ? calmSeconds + elapsed : 0;
            if (calmSeconds >= seconds(CLEAR_AFTER)) {
                clear(now, rate, baseline, threshold);
            }
        }
        if (!alerting || !warm) {
            learn(rate, elapsed);
        }
    }

    public boolean alerting() {
        return alerting;
    }

    /** The learned attempts per second; 0 before the first tick. */
    synchronized double baselinePerSecond() {
        return weight == 0 ? 0 : weightedRate / weight;
    }

    /**
     * Stops ticking and, if the detector made its own HTTP client, shuts it down without waiting. A
     * firing alert is not resolved: the spike may well go on.
     */
    @Override
    public synchronized void close() {
        closed = true;
        if (ownedHttp != null) {
            ownedHttp.shutdown();
        }
    }

    private void start(Instant now, double rate, double baseline, double threshold) {
        alerting = true;
        firingSince = now;
        calmSeconds = 0;
        metrics.spikeAlertStarted();
        log.warn("Connection spike: {} attempts/s against a baseline of {}/s (threshold {}/s)",
                format(rate), format(baseline), format(threshold));
        if (webhook != null) {
            webhook.send("firing", rate, baseline, threshold, now);
        }
    }

    private void clear(Instant now, double rate, double baseline, double threshold) {
        alerting = false;
        calmSeconds = 0;
        metrics.spikeAlertCleared();
        log.info("Connection spike over after {}: {} attempts/s against a baseline of {}/s (threshold {}/s)",
                Duration.between(firingSince, now), format(rate), format(baseline), format(threshold));
        if (webhook != null) {
            webhook.send("resolved", rate, baseline, threshold, now);
        }
    }

    private void learn(double rate, double elapsed) {
        double alpha = 1 - Math.exp(-elapsed / baselineSeconds);
        weightedRate += alpha * (rate - weightedRate);
        weight += alpha * (1 - weight);
        learnedSeconds += elapsed;
    }

    private static double seconds(Duration duration) {
        return duration.toNanos() / 1e9;
    }

    private static String format(double value) {
        return String.format(Locale.ROOT, "%.1f", value);
    }
}
