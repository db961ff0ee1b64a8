package dev.portcullis.gateway.cluster;

import io.lettuce.core.pubsub.RedisPubSubAdapter;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's control channel ({@code <prefix>:control}, classic pub/sub: every instance gets
 * every message, and there are few). A message is a verb and space-separated, URL-encoded
 * arguments: {@code evict <instance> <connection>}, {@code disconnect <user> <code> <reason>},
 * {@code revoke <user> <cutoff-epoch-seconds>}. Handlers run on a Lettuce thread and must not block.
 */
final class RedisControl {
    private static final Logger log = LoggerFactory.getLogger(RedisControl.class);

    private final RedisConnection redis;
    private final String channel;
    private final Map<String, Consumer<String[]>> handlers = new ConcurrentHashMap<>();

    RedisControl(RedisConnection redis, String prefix) {
        this.redis = redis;
        this.channel = prefix + "control";
        redis.addPubSubListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String from, String message) {
                if (from.equals(channel)) {
                    dispatch(message);
                }
            }
        });
        redis.pubSub().subscribe(channel);
        redis.onReconnect(() -> redis.pubSub().subscribe(channel));
    }

    String channel() {
        return channel;
    }

    void on(String verb, Consumer<String[]> handler) {
        handlers.put(verb, handler);
    }

    /** Publishes to every instance, this one included. */
    CompletableFuture<Long> send(String verb, String... arguments) {
        StringBuilder message = new StringBuilder(verb);
        for (String argument : arguments) {
            message.append(' ').append(RedisKeys.tag(argument));
        }
        return redis.commands().publish(channel, message.toString()).toCompletableFuture();
    }

    /** Malformed messages (from anything that can publish to the channel) are logged, never thrown on the I/O thread. */
    private void dispatch(String message) {
        String[] parts = message.split(" ", -1);
        Consumer<String[]> handler = handlers.get(parts[0]);
        if (handler == null) {
            log.debug("unknown control message verb {}", parts[0]);
            return;
        }
        try {
            String[] arguments = new String[parts.length - 1];
            for (int i = 1; i < parts.length; i++) {
                arguments[i - 1] = RedisKeys.untag(parts[i]);
            }
            handler.accept(arguments);
        } catch (RuntimeException e) {
            log.warn("control message {} failed: {}", parts[0], e.toString());
        }
    }
}
