package dev.portcullis.gateway.cluster;

import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A Lua script run by its SHA ({@code EVALSHA}), falling back to {@code EVAL} once when Redis
 * does not know it (after a restart or on a new cluster node). Thread-safe.
 */
final class RedisScript {
    private final String source;
    private final String sha;

    RedisScript(String source) {
        this.source = source;
        this.sha = sha1(source);
    }

    <T> CompletableFuture<T> run(RedisClusterAsyncCommands<String, String> commands, ScriptOutputType type, String[] keys,
            String... args) {
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
