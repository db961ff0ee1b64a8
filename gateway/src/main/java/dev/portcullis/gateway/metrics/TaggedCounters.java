package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One counter name with one tag whose values form a bounded set, so a caller's mistake cannot blow up
 * the number of series. The known values are registered up front (they show as 0, so Prometheus
 * {@code rate()} sees the first event). A value outside the known set is counted under its own tag only
 * while it looks like a code ({@code [a-z0-9_]}, at most 40 characters) and fewer than
 * {@code maxValues} distinct values exist; anything else is counted under {@value #OTHER}. With
 * {@code maxValues == known.size()} the set is closed.
 *
 * <p>Thread-safe; a known value costs one map lookup and no allocation.
 */
final class TaggedCounters {
    static final String OTHER = "other";

    private static final Logger log = LoggerFactory.getLogger(TaggedCounters.class);
    private static final Pattern CODE = Pattern.compile("[a-z0-9_]{1,40}");

    private final MeterRegistry registry;
    private final String name;
    private final String description;
    private final String tagKey;
    private final int maxValues;
    private final ConcurrentMap<String, Counter> counters = new ConcurrentHashMap<>();
    private final Counter other;
    private final AtomicBoolean overflowLogged = new AtomicBoolean();

    TaggedCounters(MeterRegistry registry, String name, String description, String tagKey, Set<String> known, int maxValues) {
        this.registry = registry;
        this.name = name;
        this.description = description;
        this.tagKey = tagKey;
        this.maxValues = maxValues;
        this.other = register(OTHER);
        for (String value : known) {
            counters.put(value, register(value));
        }
    }

    void increment(String value) {
        counter(value).increment();
    }

    Counter counter(String value) {
        if (value == null) {
            return other;
        }
        Counter counter = counters.get(value);
        return counter != null ? counter : admit(value);
    }

    private Counter admit(String value) {
        if (!CODE.matcher(value).matches()) {
            return other;
        }
        synchronized (counters) {
            Counter counter = counters.get(value);
            if (counter != null) {
                return counter;
            }
            if (counters.size() >= maxValues) {
                if (overflowLogged.compareAndSet(false, true)) {
                    log.warn("{} has no room for another {} value (limit {}); counting new values as \"{}\"",
                            name, tagKey, maxValues, OTHER);
                }
                return other;
            }
            counter = register(value);
            counters.put(value, counter);
            return counter;
        }
    }

    /** The sum over every tag value, "other" included. */
    double total() {
        double sum = other.count();
        for (Counter counter : counters.values()) {
            sum += counter.count();
        }
        return sum;
    }

    private Counter register(String value) {
        return Counter.builder(name).description(description).tag(tagKey, value).register(registry);
    }
}
