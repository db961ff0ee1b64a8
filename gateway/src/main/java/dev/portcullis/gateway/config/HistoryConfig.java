package dev.portcullis.gateway.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Which channels keep history for recovery, and how much.
 *
 * @param rules the first rule whose pattern matches a channel decides its history
 * @param memoryBytes budget of the in-memory history (embedded mode)
 * @param maxChannels channels the in-memory history and offset table keep at most
 * @param idempotencyWindow how long a publish's idempotency key suppresses duplicates
 * @param snapshotFile where the local broker keeps its history across a graceful restart; null: nowhere
 */
public record HistoryConfig(List<Rule> rules, int memoryBytes, int maxChannels, Duration idempotencyWindow, Path snapshotFile) {

    /** {@code pattern} is a channel name or a prefix ending in {@code *}; {@code size} 0 keeps no history. */
    public record Rule(String pattern, int size, Duration ttl) {
        public boolean matches(String channel) {
            return pattern.endsWith("*") ? channel.startsWith(pattern.substring(0, pattern.length() - 1)) : pattern.equals(channel);
        }
    }

    public static final Rule NONE = new Rule("*", 0, Duration.ZERO);

    public HistoryConfig {
        rules = List.copyOf(rules);
    }

    /** Without a snapshot file. */
    public HistoryConfig(List<Rule> rules, int memoryBytes, int maxChannels, Duration idempotencyWindow) {
        this(rules, memoryBytes, maxChannels, idempotencyWindow, null);
    }

    /** The history of {@code channel}: its rule, or {@link #NONE}. */
    public Rule ruleFor(String channel) {
        for (Rule rule : rules) {
            if (rule.matches(channel)) {
                return rule;
            }
        }
        return NONE;
    }
}
