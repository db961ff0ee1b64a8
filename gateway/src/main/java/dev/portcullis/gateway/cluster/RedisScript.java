package dev.portcullis.gateway.cluster;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Lua script run by its SHA ({@code EVALSHA}), falling back to {@code EVAL} once when Redis
 * does not know it (after a restart or on a new cluster node); or, for order-sensitive scripts,
 * always as {@code EVAL}. Thread-safe.
 */
final class RedisScript {
    private final String source;
    private final String sha;
    private final boolean ordered;

    RedisScript(String source) {
        this(source, false);
    }

    /**
     * @param ordered true for scripts whose order against other commands matters (publish, register):
     *     they always go as {@code EVAL}, because the EVALSHA-then-EVAL fallback would let commands
     *     sent meanwhile overtake the retried script (Redis caches the compiled script either way)
     */
    RedisScript(String source, boolean ordered) {
        this.source = source;
        this.sha = sha1(source);
        this.ordered = ordered;
    }

    <T> CompletableFuture<T> run(RedisClusterAsyncCommands<String, String> commands, ScriptOutputType type, String[] keys,
            String... args) {
        if (ordered) {
            return commands.<T>eval(source, type, keys, args).toCompletableFuture();
        }
        CompletableFuture<T> result = new CompletableFuture<>();
        commands.<T>evalsha(sha, type, keys, args).whenComplete((value, failure) -> {
            Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
            if (cause instanceof RedisNoScriptException) {
                commands.<T>eval(source, type, keys, args).whenComplete((retried, again) -> {
                    if (again != null) {
                        result.completeExceptionally(again);
                    } else {
                        result.complete(retried);
                    }
                });
            } else if (failure != null) {
                result.completeExceptionally(failure);
            } else {
                result.complete(value);
            }
        });
        return result;
    }

    private static String sha1(String text) {
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-1").digest(text.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return java.util.HexFormat.of().formatHex(digest);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is part of every JDK", e);
        }
    }
}
