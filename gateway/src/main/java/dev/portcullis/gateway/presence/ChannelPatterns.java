package dev.portcullis.gateway.presence;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Channel names and {@code prefix*} patterns from a config list ({@code channels.presence}, {@code channels.join-leave}); immutable. */
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
}
