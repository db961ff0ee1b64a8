package dev.portcullis.gateway.channel;

import dev.portcullis.gateway.config.ChannelsConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one token allows on channels. The token claim ({@code channels.permissions-claim}) is a map
 * from a channel name or a prefix pattern ending in {@code *} to {@code r}, {@code w} or
 * {@code rw}; a user may always read their personal channel {@code user:<sub>}, and everyone may
 * read {@code channels.public} and the {@code channels.auto-subscribe} channels. An exact entry
 * wins over patterns; among patterns, the longest prefix wins. Immutable and thread-safe.
 */
public final class Permissions {
    private final String personal;
    private final Map<String, String> exact;
    private final List<Rule> patterns;
    private final Shared shared;

    private record Rule(String prefix, String mode) {}

    /** What every user of one gateway may read; built once and shared by every connection. */
    public record Shared(String claim, Set<String> publicExact, List<String> publicPrefixes) {
        public static Shared of(ChannelsConfig config) {
            Set<String> exact = new HashSet<>(config.autoSubscribe());
            List<String> prefixes = new ArrayList<>();
            for (String channel : config.publicChannels()) {
                if (channel.endsWith("*")) {
                    prefixes.add(channel.substring(0, channel.length() - 1));
                } else {
                    exact.add(channel);
                }
            }
            return new Shared(config.permissionsClaim(), Set.copyOf(exact), List.copyOf(prefixes));
        }
    }

    private Permissions(String personal, Map<String, String> exact, List<Rule> patterns, Shared shared) {
        this.personal = personal;
        this.exact = exact;
        this.patterns = patterns;
        this.shared = shared;
    }

    /**
     * The user's personal channel {@code user:<sub>}, or null when the subject makes no valid channel
     * name. The session joins it with this very string, so a connection holds its name once.
     */
    public String personal() {
        return personal;
    }

    /** Reads the claim from {@code claims}; a missing or malformed claim grants nothing beyond the shared defaults. */
    public static Permissions of(String subject, Map<String, Object> claims, Shared shared) {
        Map<String, String> exact = Map.of();
        List<Rule> patterns = List.of();
        if (claims.get(shared.claim()) instanceof Map<?, ?> granted && !granted.isEmpty()) {
            Map<String, String> names = new HashMap<>();
            List<Rule> prefixes = new ArrayList<>();
            granted.forEach((key, value) -> {
                if (key instanceof String name && value instanceof String mode && isMode(mode)) {
                    if (name.endsWith("*")) {
                        prefixes.add(new Rule(name.substring(0, name.length() - 1), mode));
                    } else if (ChannelNames.valid(name)) {
                        names.put(name, mode);
                    }
                }
            });
            prefixes.sort((a, b) -> b.prefix().length() - a.prefix().length());
            exact = Map.copyOf(names);
            patterns = List.copyOf(prefixes);
        }
        return new Permissions(ChannelNames.personal(subject), exact, patterns, shared);
    }

    public boolean canRead(String channel) {
        if (channel.equals(personal) || shared.publicExact().contains(channel) || has(channel, 'r')) {
            return true;
        }
        for (String prefix : shared.publicPrefixes()) {
            if (channel.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    public boolean canWrite(String channel) {
        return has(channel, 'w');
    }

    private boolean has(String channel, char right) {
        String mode = exact.get(channel);
        if (mode == null) {
            for (Rule rule : patterns) {
                if (channel.startsWith(rule.prefix())) {
                    mode = rule.mode();
                    break;
                }
            }
        }
        return mode != null && mode.indexOf(right) >= 0;
    }

    private static boolean isMode(String mode) {
        return mode.equals("r") || mode.equals("w") || mode.equals("rw") || mode.equals("wr");
    }
}
