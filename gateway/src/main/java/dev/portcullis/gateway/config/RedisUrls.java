package dev.portcullis.gateway.config;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads {@code broker.redis-url} into the URLs the broker connects with.
 *
 * <p>The key is a comma-separated list, and so is the host part of a Sentinel URL
 * ({@code redis-sentinel://h1:26379,h2:26380/0#mymaster}): splitting on every comma would cut that
 * URL into a first sentinel and a stray {@code h2:26380/0#mymaster}. So a piece without a scheme
 * continues the Sentinel URL before it, and several {@code redis-sentinel://} URLs naming the same
 * master are merged into one: every sentinel is used (Lettuce asks them in turn), and losing the
 * first one changes nothing. Standalone and Cluster URLs pass through unchanged.
 */
final class RedisUrls {
    /** scheme://[credentials@]hosts[/db][#master]; hosts is one or more host:port separated by commas. */
    private static final Pattern SENTINEL = Pattern.compile("(rediss?-sentinel)://(?:([^@/]*)@)?([^/#?]+)(/\\d+)?(\\?[^#]*)?(#.+)?");

    private RedisUrls() {}

    /**
     * @param text the key's value
     * @param problems where a problem is reported (with the key's name)
     * @return standalone or cluster URLs as given, or exactly one Sentinel URL with every sentinel
     */
    static List<String> parse(String text, List<String> problems) {
        List<String> pieces = RawConfig.splitList(text == null ? "" : text);
        List<String> urls = new ArrayList<>();
        for (String piece : pieces) {
            boolean continuation = !piece.contains("://") && !urls.isEmpty() && isSentinel(urls.get(urls.size() - 1));
            if (continuation) {
                urls.set(urls.size() - 1, urls.get(urls.size() - 1) + "," + piece);
            } else {
                urls.add(piece);
            }
        }
        for (String url : urls) {
            if (!url.matches("(redis|rediss|redis-sentinel|rediss-sentinel)://.+")) {
                problems.add("broker.redis-url: '" + redacted(url) + "' is not a redis://, rediss:// or redis-sentinel:// URL");
            }
        }
        if (urls.stream().anyMatch(RedisUrls::isSentinel)) {
            return mergeSentinels(urls, problems);
        }
        return List.copyOf(urls);
    }

    static boolean isSentinel(String url) {
        return url.startsWith("redis-sentinel://") || url.startsWith("rediss-sentinel://");
    }

    /** One Sentinel URL with the sentinels of all of them; they must agree on everything else. */
    private static List<String> mergeSentinels(List<String> urls, List<String> problems) {
        Set<String> hosts = new LinkedHashSet<>();
        String scheme = null;
        String credentials = null;
        String database = null;
        String query = null;
        String master = null;
        for (String url : urls) {
            Matcher m = SENTINEL.matcher(url);
            if (!isSentinel(url) || !m.matches()) {
                problems.add("broker.redis-url: '" + redacted(url) + "' cannot be mixed with redis-sentinel:// URLs; "
                        + "write the sentinels as redis-sentinel://h1:26379,h2:26379/0#mymaster");
                return List.copyOf(urls);
            }
            if (m.group(6) == null) {
                problems.add("broker.redis-url: '" + redacted(url) + "' names no master: end it with #<master name>");
                return List.copyOf(urls);
            }
            for (String host : m.group(3).split(",")) {
                if (!host.isBlank()) {
                    hosts.add(host.trim());
                }
            }
            if (scheme == null) {
                scheme = m.group(1);
                credentials = m.group(2);
                database = m.group(4);
                query = m.group(5);
                master = m.group(6);
            } else if (!scheme.equals(m.group(1)) || !same(credentials, m.group(2)) || !same(database, m.group(4))
                    || !same(query, m.group(5)) || !master.equals(m.group(6))) {
                problems.add("broker.redis-url: the redis-sentinel:// URLs must name the same master, database, "
                        + "credentials and options; only their sentinels may differ");
                return List.copyOf(urls);
            }
        }
        return List.of(scheme + "://" + (credentials == null ? "" : credentials + "@") + String.join(",", hosts)
                + (database == null ? "" : database) + (query == null ? "" : query) + master);
    }

    private static boolean same(String a, String b) {
        return a == null ? b == null : a.equals(b);
    }

    static String redacted(String url) {
        return url.replaceAll("//[^@/]*@", "//<redacted>@");
    }
}
