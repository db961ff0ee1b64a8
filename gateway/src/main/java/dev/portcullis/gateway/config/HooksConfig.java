package dev.portcullis.gateway.config;

import java.net.URI;
import java.time.Duration;
import java.util.List;

/**
 * Calls to the application's backend before a client's publication is published or its
 * subscription is made (see the {@code hooks} package).
 *
 * @param publish where client publications are sent first, by channel pattern
 * @param subscribe where client subscriptions (and history reads) are checked, by channel pattern
 * @param secret the HMAC-SHA256 key that signs every request, at least 32 bytes; null without hooks
 * @param timeout how long an answer may take before it counts as a failure
 * @param maxInFlight hook requests this instance may have open at once
 * @param breakerWait how long an open circuit breaker refuses calls before it lets probes through
 */
public record HooksConfig(
        List<Route> publish, List<Route> subscribe, String secret, Duration timeout, int maxInFlight, Duration breakerWait) {

    /**
     * One {@code pattern=url} entry.
     *
     * @param pattern a channel name, or a prefix ending in {@code *}
     * @param url an http or https URL
     */
    public record Route(String pattern, URI url) {
        public boolean exact() {
            return !pattern.endsWith("*");
        }

        /** The URL with its query (which may hold a credential) redacted, for logs. */
        @Override
        public String toString() {
            return pattern + "=" + url.getScheme() + "://" + url.getRawAuthority() + (url.getRawPath() == null ? "" : url.getRawPath())
                    + (url.getRawQuery() == null ? "" : "?<redacted>");
        }

        /** The pattern without its {@code *}: the prefix a channel must start with. */
        public String prefix() {
            return exact() ? pattern : pattern.substring(0, pattern.length() - 1);
        }
    }

    public HooksConfig {
        publish = List.copyOf(publish);
        subscribe = List.copyOf(subscribe);
    }

    public boolean enabled() {
        return !publish.isEmpty() || !subscribe.isEmpty();
    }

    @Override
    public String toString() {
        return "HooksConfig[publish=" + publish + ", subscribe=" + subscribe + ", secret=" + (secret == null ? "unset" : "<redacted>")
                + ", timeout=" + timeout + ", maxInFlight=" + maxInFlight + ", breakerWait=" + breakerWait + "]";
    }
}
