package dev.portcullis.client;

import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;

/** Runs a blocking token supplier off the client thread. */
final class Tokens {
    private Tokens() {}

    static CompletableFuture<String> onVirtualThread(Supplier<String> supplier) {
        CompletableFuture<String> token = new CompletableFuture<>();
        Thread.ofVirtual().name("portcullis-token").start(() -> {
            try {
                token.complete(supplier.get());
            } catch (Throwable e) {
                token.completeExceptionally(e);
            }
        });
        return token;
    }
}
