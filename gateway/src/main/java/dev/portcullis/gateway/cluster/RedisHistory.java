package dev.portcullis.gateway.cluster;

import dev.portcullis.gateway.config.HistoryConfig;
import dev.portcullis.gateway.history.Epochs;
import dev.portcullis.gateway.history.History;
import dev.portcullis.gateway.history.HistoryPage;
import dev.portcullis.gateway.history.Position;
import io.lettuce.core.ScriptOutputType;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * History in Redis Streams, written by {@link RedisBroker}'s publish script. One read script returns
 * the channel's position (creating its epoch if the channel is new, so that the epoch a subscriber
 * is told is the one later publications carry), the offset of the oldest retained entry, and the
 * entries after the asked offset: all from one consistent moment.
 */
final class RedisHistory implements History {
    /**
     * KEYS: meta hash, stream. ARGV: since, limit, fresh epoch, meta TTL (s).
     * Returns {epoch, top, first, offset, data, publishedAt, ...} (publishedAt "0" for entries written before it was kept).
     */
    private static final String READ = """
            local epoch = redis.call('HGET', KEYS[1], 'epoch')
            if not epoch then
              epoch = ARGV[3]
              redis.call('HSET', KEYS[1], 'epoch', epoch)
              redis.call('HSETNX', KEYS[1], 'offset', 0)
              redis.call('EXPIRE', KEYS[1], ARGV[4])
              redis.call('DEL', KEYS[2])
            end
            local top = tonumber(redis.call('HGET', KEYS[1], 'offset') or '0')
            local since = tonumber(ARGV[1])
            local firstOffset = top + 1
            local first = redis.call('XRANGE', KEYS[2], '-', '+', 'COUNT', 1)
            if #first > 0 then firstOffset = tonumber(string.match(first[1][1], '^(%d+)')) end
            local out = {epoch, top, firstOffset}
            if since < top then
              local entries = redis.call('XRANGE', KEYS[2], '(' .. string.format('%d', since) .. '-1', '+', 'COUNT', ARGV[2])
              for _, e in ipairs(entries) do
                table.insert(out, tonumber(string.match(e[1], '^(%d+)')))
                table.insert(out, e[2][2])
                table.insert(out, e[2][4] or '0')
              end
            end
            return out
            """;

    private final RedisConnection redis;
    private final HistoryConfig config;
    private final String prefix;
    /**
     * KEYS: meta hash, stream. ARGV: the epoch to leave, a fresh epoch, meta TTL (s). If the channel is
     * still in that epoch, it starts the fresh one at offset 0 with an empty history. Returns "offset epoch".
     */
    private static final String RESET = """
            local epoch = redis.call('HGET', KEYS[1], 'epoch')
            if epoch == ARGV[1] then
              epoch = ARGV[2]
              redis.call('HSET', KEYS[1], 'epoch', epoch, 'offset', 0)
              redis.call('EXPIRE', KEYS[1], ARGV[3])
              redis.call('DEL', KEYS[2])
            end
            if not epoch then return '0 ' .. ARGV[2] end
            return (redis.call('HGET', KEYS[1], 'offset') or '0') .. ' ' .. epoch
            """;

    private final RedisScript read = new RedisScript(READ);
    private final RedisScript reset = new RedisScript(RESET, true);

    RedisHistory(RedisConnection redis, HistoryConfig config, String prefix) {
        this.redis = redis;
        this.config = config;
        this.prefix = prefix;
    }

    @Override
    public CompletableFuture<HistoryPage> read(String channel, long since, int limit) {
        String tag = prefix + "{" + channel + "}:";
        long from = Math.min(since, 1L << 53); // Lua numbers are doubles
        return read.<List<Object>>run(redis.commands(), ScriptOutputType.MULTI, new String[] {tag + "meta", tag + "history"},
                        Long.toString(from), Integer.toString(Math.max(1, limit)), Epochs.next(),
                        Long.toString(RedisBroker.metaTtlSeconds(config.ruleFor(channel))))
                .thenApply(reply -> {
                    String epoch = (String) reply.get(0);
                    long top = (Long) reply.get(1);
                    long first = (Long) reply.get(2);
                    List<HistoryPage.Entry> entries = new ArrayList<>();
                    for (int i = 3; i + 2 < reply.size() && entries.size() < limit; i += 3) {
                        entries.add(new HistoryPage.Entry((Long) reply.get(i), (String) reply.get(i + 1), Long.parseLong((String) reply.get(i + 2))));
                    }
                    boolean complete = since >= top || first <= since + 1;
                    return new HistoryPage(new Position(top, epoch), complete, entries);
                });
    }

    /**
     * Moves {@code channel} to a new epoch if it is still in {@code epoch} (a compare-and-set, so
     * instances noticing reused offsets at once make one new epoch); returns its position after.
     */
    CompletableFuture<Position> resetEpoch(String channel, String epoch) {
        String tag = prefix + "{" + channel + "}:";
        return reset.<String>run(redis.commands(), ScriptOutputType.VALUE, new String[] {tag + "meta", tag + "history"},
                        epoch, Epochs.next(), Long.toString(RedisBroker.metaTtlSeconds(config.ruleFor(channel))))
                .thenApply(answer -> {
                    int space = answer.indexOf(' ');
                    return new Position(Long.parseLong(answer.substring(0, space)), answer.substring(space + 1));
                });
    }
}
