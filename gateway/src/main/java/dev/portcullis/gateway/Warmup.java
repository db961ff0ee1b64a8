package dev.portcullis.gateway;

import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.AuthConfig;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.transport.EventLoops;
import dev.portcullis.gateway.transport.WarmupTraffic;
import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The warm-up before readiness ({@code server.warmup}): a freshly started JVM interprets the
 * handshake path and compiles it while the first clients connect, which made the first 10,000
 * handshakes after a deploy cost several times what they cost warm (BENCHMARKS.md, "Cold start").
 * So {@code serve} binds its listeners with {@code /readyz} still 503, runs real traffic
 * ({@link WarmupTraffic}) through the same code for a bounded time, and only then says ready.
 *
 * <p>The traffic goes to a <em>throwaway</em> gateway of this process (loopback, ephemeral ports,
 * its own random secret and API key, local broker and history, its own metrics registry), closed
 * before the real one is ready: compiled code is shared by the whole JVM, state is not, so the real
 * gateway's metrics, connection counts, presence, history and per-user limits never see it, and no
 * client can reach it (it listens on 127.0.0.1 with a key nobody knows).
 *
 * <p>It runs on the real gateway's own threads (its event loops, shared, never stopped by the
 * throwaway), with the real timers (heartbeat, re-auth, maximum age), and its tokens follow the real
 * token rules (issuer, audience, permissions claim), most with an identity provider's dozen claims,
 * those of {@link WarmupTraffic#BARE_SLOT} with only the required ones. All because the JIT compiles
 * a branch never taken as a trap: on
 * fresh threads, every thread-local's first use (Netty's, Jackson's buffers, the logging context, the
 * allocator's magazines) and every configured check the warm-up had skipped deoptimised compiled
 * handshake code for the first real clients, and it was compiled again while they waited (measured:
 * 568 methods made not entrant after ready before, ~180 now). What depends on the
 * deployment's own settings (RSA/EC/JWKS tokens, TLS, Redis) is not warmed: HS256, plain sockets
 * and the local broker are.
 *
 * <p>It stops at the budget, or earlier once the JIT has gone quiet (under
 * {@link #QUIET_COMPILE_MS} of compilation in the last {@link #QUIET_WINDOW_MS} after at least
 * {@link #MIN_HANDSHAKES}); a failure only skips the rest of it (a WARN), never the start.
 */
final class Warmup {
    private static final Logger log = LoggerFactory.getLogger(Warmup.class);
    static final int MIN_HANDSHAKES = 2000;
    static final long QUIET_WINDOW_MS = 1000;
    static final long QUIET_COMPILE_MS = 20;

    private Warmup() {}

    /**
     * Runs the warm-up for at most {@code budget} (plus the throwaway gateway's start and close);
     * never throws.
     *
     * @param untilQuiet stop early once the JIT is quiet (serve), or run the whole budget (the AOT training run)
     * @param real the gateway about to be ready, whose threads the traffic runs on and whose token
     *     rules (issuer, audience, permissions claim) the throwaway applies; null when there is none
     *     (the training run)
     * @return what it did, or null when it could not run
     */
    static WarmupTraffic.Result run(Duration budget, boolean untilQuiet, Gateway real) {
        long started = System.nanoTime();
        EventLoops loops = real == null ? null : real.loops();
        try (Gateway shadow = Gateway.startThrowaway(throwawayConfig(new SecureRandom(), real == null ? null : real.config()), loops)) {
            WarmupTraffic.Result result = WarmupTraffic.run(shadow.loops(), target(shadow), started + budget.toNanos(),
                    untilQuiet ? jitQuiet() : handshakes -> false);
            log.info("warm-up: {} handshakes, {} deliveries, {} backend API requests in {} ms (stopped by {}{})",
                    result.handshakes(), result.deliveries(), result.adminRequests(), (System.nanoTime() - started) / 1_000_000,
                    result.stoppedBy(), result.failures() > 0 ? ", " + result.failures() + " connections failed" : "");
            if (untilQuiet) {
                collectWarmupGarbage();
            }
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("warm-up interrupted; starting without the rest of it");
        } catch (RuntimeException e) {
            log.warn("warm-up failed; starting without it: {}", e.toString());
        }
        return null;
    }

    /**
     * One full collection between the warm-up and readiness. The warm-up's connections live long
     * enough (held ~1 s, re-authenticated) for much of their state to be promoted, so without it the
     * real gateway starts with an old generation full of the throwaway's dead objects, which the
     * collector has no reason to look at yet. The first burst of real clients then found no room to
     * copy its survivors into: young collections failed to evacuate and fell back to a full, stop
     * the world compaction, under load, in the first second after ready (seen with a 128 MB heap in
     * every cold-start run; BENCHMARKS.md, "Cold start, round 4"). Here it costs tens of milliseconds
     * while nobody is connected yet. A JVM run with {@code -XX:+DisableExplicitGC} skips it.
     */
    private static void collectWarmupGarbage() {
        long started = System.nanoTime();
        System.gc();
        log.info("warm-up: its garbage collected in {} ms", (System.nanoTime() - started) / 1_000_000);
    }

    /**
     * @param real the real gateway's settings, whose token rules the throwaway's code paths should
     *     match (a branch the warm-up never took deoptimises compiled code when clients take it); null
     *     for the defaults
     */
    static GatewayConfig throwawayConfig(SecureRandom random, GatewayConfig real) {
        Map<String, Object> settings = new LinkedHashMap<>();
        if (real != null) {
            AuthConfig auth = real.auth();
            if (auth.issuer() != null && !auth.issuer().isBlank()) {
                settings.put("auth.issuer", auth.issuer());
            }
            if (!auth.audience().isEmpty()) {
                settings.put("auth.audience", auth.audience());
            }
            settings.put("channels.permissions-claim", real.channels().permissionsClaim());
            // The timers too: the per-connection timer set-up branches on them, and a branch the
            // warm-up never took (a 1 s re-auth here, 15 min there) deoptimised the whole compiled
            // upgrade path at the first real connection (BENCHMARKS.md, "Cold start, round 4").
            settings.put("heartbeat.interval", millis(real.heartbeat().interval()));
            settings.put("heartbeat.timeout", millis(real.heartbeat().timeout()));
            settings.put("auth.reauth-interval", millis(auth.reauthInterval()));
            settings.put("auth.reauth-grace", millis(auth.reauthGrace()));
            settings.put("limits.max-connection-age", millis(real.limits().maxConnectionAge()));
        } else {
            settings.put("auth.reauth-interval", "1s"); // the training run: its holders answer a reauth or two
        }
        settings.put("server.host", "127.0.0.1");
        settings.put("server.port", "0");
        settings.put("server.warmup", "0");
        settings.put("admin.host", "127.0.0.1");
        settings.put("admin.port", "0");
        settings.put("admin.api-keys", List.of(randomKey(random)));
        settings.put("auth.hmac-secret", randomKey(random));
        settings.put("limits.connections-per-ip", "0");
        settings.put("limits.connect-attempts-per-user-per-minute", "0");
        settings.put("limits.messages-per-minute", "0");
        settings.put("limits.max-connections", "1000");
        settings.put("channels.presence", List.of("warmup"));
        settings.put("channels.join-leave", List.of("warmup"));
        settings.put("alerts.spike-floor-per-second", "1000000000"); // its bursts are no spike anyone should hear of
        settings.put("shutdown.drain-timeout", "1s");
        return ConfigLoader.load(settings);
    }

    private static WarmupTraffic.Target target(Gateway shadow) {
        GatewayConfig config = shadow.config();
        List<String> tokens = new ArrayList<>();
        Instant now = Instant.now();
        for (int i = 0; i < WarmupTraffic.tokensNeeded(); i++) {
            tokens.add(TokenMinter.hs256(config.auth().hmacSecret(), "warmup-" + i, now, Duration.ofHours(1),
                    WarmupTraffic.bareToken(i) ? requiredClaims(config) : claims(config, i, now)));
        }
        return new WarmupTraffic.Target(new InetSocketAddress("127.0.0.1", shadow.port()), config.server().path(),
                new InetSocketAddress("127.0.0.1", shadow.adminPort()), config.admin().apiKeys().get(0), tokens);
    }

    /**
     * The claims of warm-up token {@code i}: shaped like an identity provider's (a dozen claims,
     * strings, numbers, a list, a nested object), with the issuer and audience the rules ask for.
     * The claim parser's code is compiled for what it sees here, so a bare three-claim token would
     * leave the real tokens' larger claim sets to deoptimise it after ready.
     */
    private static Map<String, Object> claims(GatewayConfig config, int i, Instant now) {
        AuthConfig rules = config.auth();
        Map<String, Object> claims = new LinkedHashMap<>();
        claims.put(config.channels().permissionsClaim(), Map.of("warmup", "rw", "warmup:*", "rw"));
        claims.put("iss", rules.issuer() != null && !rules.issuer().isBlank() ? rules.issuer() : "https://warmup.invalid/");
        claims.put("aud", rules.audience().isEmpty() ? List.of("warmup") : rules.audience());
        claims.put("nbf", now.minusSeconds(5).getEpochSecond());
        claims.put("jti", "warmup-" + i + "-" + now.toEpochMilli());
        claims.put("name", "Warm-up user " + i);
        claims.put("email", "warmup-" + i + "@example.invalid");
        claims.put("email_verified", i % 2 == 0);
        claims.put("roles", List.of("member", "reader"));
        claims.put("scope", "openid profile email");
        claims.put("sid", Integer.toHexString(0x5eed0000 + i));
        claims.put("auth_time", now.minusSeconds(60).getEpochSecond());
        claims.put("tenant", Map.of("id", 42, "plan", "warm-up"));
        return claims;
    }

    /**
     * Only what the rules require besides {@code sub}, {@code iat} and {@code exp}: the issuer and
     * audience when they are configured. No permissions claim, no {@code nbf}: the paths of a token
     * without its optional claims get compiled too.
     */
    private static Map<String, Object> requiredClaims(GatewayConfig config) {
        AuthConfig rules = config.auth();
        Map<String, Object> claims = new LinkedHashMap<>();
        if (rules.issuer() != null && !rules.issuer().isBlank()) {
            claims.put("iss", rules.issuer());
        }
        if (!rules.audience().isEmpty()) {
            claims.put("aud", rules.audience());
        }
        return claims;
    }

    /** True once the JIT compiled less than {@link #QUIET_COMPILE_MS} in the last window, after {@link #MIN_HANDSHAKES}. */
    private static LongPredicate jitQuiet() {
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        if (jit == null || !jit.isCompilationTimeMonitoringSupported()) {
            return handshakes -> false;
        }
        long[] window = {System.nanoTime(), jit.getTotalCompilationTime()};
        return handshakes -> {
            long now = System.nanoTime();
            if (handshakes < MIN_HANDSHAKES || now - window[0] < QUIET_WINDOW_MS * 1_000_000) {
                return false;
            }
            long compiled = jit.getTotalCompilationTime();
            boolean quiet = compiled - window[1] < QUIET_COMPILE_MS;
            window[0] = now;
            window[1] = compiled;
            return quiet;
        };
    }

    /** {@code d} as configuration text. */
    private static String millis(Duration d) {
        return d.isZero() ? "0" : d.toMillis() + "ms";
    }

    private static String randomKey(SecureRandom random) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
