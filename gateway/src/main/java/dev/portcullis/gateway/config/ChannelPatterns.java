package dev.portcullis.gateway.config;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Channel names and {@code prefix*} patterns from a config list ({@code channels.presence},
 * {@code channels.join-leave}, {@code channels.encrypted}); immutable.
 */
public record ChannelPatterns(Set<String> exact, List<String> prefixes) {
    public static ChannelPatterns of(List<String> patterns) {
        Set<String> exact = new HashSet<>();
        List<String> prefixes = new ArrayList<>();
        for (String pattern : patterns) {
            if (pattern.endsWith("*")) {
                prefixes.add(pattern.substring(0, pattern.length() - 1));
            } else {
                exact.add(pattern);
            }
        }
        return new ChannelPatterns(Set.copyOf(exact), List.copyOf(prefixes));
    }

    public boolean isEmpty() {
        return exact.isEmpty() && prefixes.isEmpty();
    }

    public boolean matches(String channel) {
        if (exact.contains(channel)) {
            return true;
        }
        for (String prefix : prefixes) {
            if (channel.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * True when some channel these patterns match lies in {@code namespace} (the part of a channel
     * name before its first {@code :}, {@code ""} without one). Decidable from the patterns alone: a
     * prefix holding a {@code :} fixes the namespace; a prefix without one reaches the namespace
     * {@code ""} (a channel with no {@code :}) and every namespace that starts with it.
     */
    public boolean reachesNamespace(String namespace) {
        for (String channel : exact) {
            int colon = channel.indexOf(':');
            if ((colon < 0 ? "" : channel.substring(0, colon)).equals(namespace)) {
                return true;
            }
        }
        for (String prefix : prefixes) {
            int colon = prefix.indexOf(':');
            if (colon >= 0 ? prefix.substring(0, colon).equals(namespace) : namespace.isEmpty() || namespace.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }
}
