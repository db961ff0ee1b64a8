package dev.portcullis.gateway.metrics;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Posts connection-spike alerts as JSON to the configured webhook. Fire and forget: {@link #send}
 * returns at once, never throws, and never retries; a failure (no answer within {@link #TIMEOUT}, an
 * I/O error, a non-2xx status) is one WARN line and one count of {@code portcullis.alerts.webhook.failures}.
 *
 * <p>The URL is logged as scheme, host and port only: webhook paths and queries often carry a secret.
 */
final class AlertWebhook {
    static final Duration TIMEOUT = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(AlertWebhook.class);

    private final URI url;
    private final String redactedUrl;
    private final HttpClient http;
    private final GatewayMetrics metrics;

    AlertWebhook(URI url, HttpClient http, GatewayMetrics metrics) {
        this.url = url;
        this.redactedUrl = url.getScheme() + "://" + url.getHost() + (url.getPort() >= 0 ? ":" + url.getPort() : "");
        this.http = http;
        this.metrics = metrics;
    }

    void send(String state, double ratePerSecond, double baselinePerSecond, double threshold, Instant at) {
        String json = String.format(Locale.ROOT,
                "{\"alert\":\"connection_spike\",\"state\":\"%s\",\"ratePerSecond\":%.2f,"
                        + "\"baselinePerSecond\":%.2f,\"threshold\":%.2f,\"at\":\"%s\"}",
                state, ratePerSecond, baselinePerSecond, threshold, at);
        try {
            HttpRequest request = HttpRequest.newBuilder(url)
                    .timeout(TIMEOUT)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(json))
                    .build();
            http.sendAsync(request, HttpResponse.BodyHandlers.discarding()).whenComplete((response, error) -> {
                if (error != null) {
                    failed(state, describe(error));
                } else if (response.statusCode() / 100 != 2) {
                    failed(state, "HTTP " + response.statusCode());
                }
            });
        } catch (RuntimeException e) {
            failed(state, describe(e));
        }
    }

    private void failed(String state, String why) {
        metrics.webhookFailed();
        log.warn("Connection-spike webhook ({}) to {} failed: {}", state, redactedUrl, why);
    }

    private String describe(Throwable error) {
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        String name = cause.getClass().getSimpleName();
        return cause.getMessage() == null ? name : name + ": " + cause.getMessage().replace(url.toString(), redactedUrl);
    }
}
