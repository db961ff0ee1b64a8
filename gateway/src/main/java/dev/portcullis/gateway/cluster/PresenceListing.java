package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.presence.Member;
import dev.portcullis.gateway.presence.Members;
import io.lettuce.core.MapScanCursor;
import io.lettuce.core.ScanArgs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a channel's members from Redis for {@link RedisChannelPresence} (the layout is described
 * there): the read side, apart from the writes that keep Redis in step with the local members.
 * Stateless and thread-safe; callbacks run on Lettuce's threads and only read, or start a
 * {@link PresenceReaper#reapChannel} of a dead instance met on the way.
 */
final class PresenceListing {
    private static final Logger log = LoggerFactory.getLogger(PresenceListing.class);

    private final RedisConnection redis;
    private final GatewayMetrics metrics;
    private final PresenceKeys keys;
    private final String instance;
    private final PresenceReaper reaper;
    /** This instance's members of a channel, answered when Redis cannot be read. */
    private final Function<String, List<Member>> localMembers;

    PresenceListing(RedisConnection redis, GatewayMetrics metrics, PresenceKeys keys, String instance, PresenceReaper reaper,
            Function<String, List<Member>> localMembers) {
        this.redis = redis;
        this.metrics = metrics;
        this.keys = keys;
        this.instance = instance;
        this.reaper = reaper;
        this.localMembers = localMembers;
    }

    /**
     * Members on every live instance. Reads the channel's instance set, checks each instance's
     * liveness, then reads each live instance's hash (whole while it fits in what is left of
     * {@code max}, else one {@code HSCAN} page): at most a bounded number of entries per instance.
     */
    CompletableFuture<Members> members(String channel, int max) {
        return redis.commands().smembers(keys.instancesOf(channel)).toCompletableFuture().thenCompose(owners -> {
            List<String> ids = List.copyOf(owners);
            List<CompletableFuture<Long>> alive = ids.stream()
                    .map(id -> redis.commands().exists(keys.liveness(id)).toCompletableFuture()).toList();
            return CompletableFuture.allOf(alive.toArray(CompletableFuture[]::new)).thenCompose(done -> {
                List<CompletableFuture<Page>> pages = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    String id = ids.get(i);
                    if (alive.get(i).join() == 0 && !id.equals(instance)) {
                        reaper.reapChannel(id, channel); // a dead instance's members: not listed, removed now
                    } else {
                        pages.add(page(channel, id, max + 1));
                    }
                }
                return CompletableFuture.allOf(pages.toArray(CompletableFuture[]::new)).thenApply(all -> {
                    List<Member> members = new ArrayList<>();
                    boolean complete = true;
                    for (CompletableFuture<Page> page : pages) {
                        members.addAll(page.join().members());
                        complete &= page.join().complete();
                    }
                    members.sort(Comparator.comparing(Member::since).thenComparing(Member::connection));
                    complete &= members.size() <= max;
                    return new Members(members.subList(0, Math.min(max, members.size())), complete);
                });
            });
        }).exceptionally(failure -> {
            metrics.clusterFallback();
            log.debug("redis: listing channel members failed, answering this instance's: {}", failure.toString());
            List<Member> here = new ArrayList<>(localMembers.apply(channel));
            here.sort(Comparator.comparing(Member::since).thenComparing(Member::connection));
            return new Members(here.subList(0, Math.min(max, here.size())), false);
        });
    }

    private record Page(List<Member> members, boolean complete) {}

    private CompletableFuture<Page> page(String channel, String owner, int limit) {
        String key = keys.hash(channel, owner);
        return redis.commands().hlen(key).toCompletableFuture().thenCompose(size -> {
            if (size <= limit) {
                return redis.commands().hgetall(key).toCompletableFuture().thenApply(entries -> new Page(decode(entries), true));
            }
            return redis.commands().hscan(key, ScanArgs.Builder.limit(limit)).toCompletableFuture()
                    .thenApply((MapScanCursor<String, String> cursor) -> new Page(decode(cursor.getMap()), false));
        });
    }

    private static List<Member> decode(Map<String, String> entries) {
        List<Member> members = new ArrayList<>(entries.size());
        entries.forEach((connection, value) -> {
            int space = value.indexOf(' ');
            if (space > 0) {
                try {
                    members.add(new Member(value.substring(space + 1), connection, Instant.ofEpochMilli(Long.parseLong(value, 0, space, 10))));
                } catch (NumberFormatException malformed) {
                    // not ours: skipped
                }
            }
        });
        return members;
    }

}
