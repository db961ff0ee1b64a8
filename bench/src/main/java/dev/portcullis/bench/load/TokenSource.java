package dev.portcullis.bench.load;

import dev.portcullis.gateway.auth.TokenMinter;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;

/**
 * Tokens for one worker: minted (HS256 with {@code --secret}, one distinct user per connection, via
 * the gateway's own {@link TokenMinter}) or read from {@code --tokens FILE} (one per line; line
 * {@code n} is connection {@code n} of the run; lines after the last connection feed {@code churn}).
 */
final class TokenSource {
    private final WorkerPlan plan;
    private final Map<String, Object> claims;
    private final List<String> churnPool = new ArrayList<>();
    private long churnSeq;

    TokenSource(WorkerPlan plan) {
        this.plan = plan;
        this.claims = plan.claims() == null ? Map.of() : plan.claims();
    }

    boolean canMint() {
        return plan.secret() != null && !plan.secret().isEmpty();
    }

    String user(int globalIndex) {
        return plan.userPrefix() + globalIndex;
    }

    String mint(String subject) {
        return TokenMinter.hs256(plan.secret(), subject, Instant.now(), Duration.ofSeconds(plan.tokenTtlSeconds()), claims);
    }

    /** The tokens of this worker's connections, in order. */
    String[] forConnections() throws IOException {
        String[] tokens = new String[plan.connections()];
        if (plan.tokensFile() != null) {
            int first = plan.tokensSkip() + plan.firstConnection();
            int total = plan.totalConnections();
            try (BufferedReader in = Files.newBufferedReader(Path.of(plan.tokensFile()), StandardCharsets.UTF_8)) {
                int line = 0;
                for (String token; (token = in.readLine()) != null; ) {
                    token = token.trim();
                    if (token.isEmpty()) {
                        continue;
                    }
                    if (line >= first && line < first + tokens.length) {
                        tokens[line - first] = token;
                    } else if (line >= plan.tokensSkip() + total && (line - total) % plan.workers() == plan.index()) {
                        churnPool.add(token);
                    }
                    line++;
                }
                if (line < first + tokens.length) {
                    throw new IllegalArgumentException("--tokens " + plan.tokensFile() + " has " + line + " tokens; "
                            + (first + tokens.length) + " are needed (one per connection)");
                }
            }
            return tokens;
        }
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = mint(user(plan.firstConnection() + i));
        }
        return tokens;
    }

    /** A token for the next churning connection: a fresh user each time, or the file's spare tokens in turn. */
    String nextChurnToken() {
        long seq = churnSeq++;
        if (!churnPool.isEmpty()) {
            return churnPool.get((int) (seq % churnPool.size()));
        }
        if (!canMint()) {
            throw new IllegalStateException("churn needs --secret, or more lines in --tokens than --connections");
        }
        return mint(plan.userPrefix() + "churn-" + plan.index() + "-" + seq);
    }

    /** A token the gateway must refuse with 401, of the kind {@code --bad-token} names; null for none at all. */
    String badToken() {
        return switch (plan.badToken()) {
            case "missing" -> null;
            case "malformed" -> "not-a-jwt";
            case "expired" -> {
                if (!canMint()) {
                    throw new IllegalArgumentException("--bad-token expired needs --secret (the token must be valid but expired)");
                }
                yield TokenMinter.hs256(plan.secret(), plan.userPrefix() + "expired", Instant.now().minus(Duration.ofHours(2)),
                        Duration.ofHours(1), claims);
            }
            default -> {
                byte[] random = new byte[32];
                new SecureRandom().nextBytes(random);
                yield TokenMinter.hs256(HexFormat.of().formatHex(random), plan.userPrefix() + "forged", Instant.now(),
                        Duration.ofHours(1), claims);
            }
        };
    }
}
