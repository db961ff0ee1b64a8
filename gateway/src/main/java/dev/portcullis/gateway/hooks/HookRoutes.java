package dev.portcullis.gateway.hooks;

import dev.portcullis.gateway.config.HooksConfig;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Which URL a channel's hook goes to: an exact pattern wins, then the longest prefix (the rule of
 * permissions in tokens). Immutable and thread-safe.
 */
final class HookRoutes {
    private final Map<String, URI> exact = new HashMap<>();
    private final List<HooksConfig.Route> prefixes = new ArrayList<>();

    HookRoutes(List<HooksConfig.Route> routes) {
        for (HooksConfig.Route route : routes) {
            if (route.exact()) {
                exact.put(route.pattern(), route.url());
            } else {
                prefixes.add(route);
            }
        }
        prefixes.sort(Comparator.comparingInt((HooksConfig.Route r) -> r.prefix().length()).reversed());
    }

    /** The hook URL of {@code channel}, or null when no pattern matches. */
    URI find(String channel) {
        URI url = exact.get(channel);
        if (url != null) {
            return url;
        }
        for (HooksConfig.Route route : prefixes) {
            if (channel.startsWith(route.prefix())) {
                return route.url();
            }
        }
        return null;
    }

    boolean isEmpty() {
        return exact.isEmpty() && prefixes.isEmpty();
    }
}
