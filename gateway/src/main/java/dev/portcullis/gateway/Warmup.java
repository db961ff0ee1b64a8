package dev.portcullis.gateway;

import dev.portcullis.gateway.auth.TokenMinter;
import dev.portcullis.gateway.config.ConfigLoader;
import dev.portcullis.gateway.config.GatewayConfig;
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
 * client can reach it (it listens on 127.0.0.1 with a key nobody knows). What depends on the
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
     * @return what it did, or null when it could not run
     */
    static WarmupTraffic.Result run(Duration budget, boolean untilQuiet) {
        long started = System.nanoTime();
        try (Gateway shadow = Gateway.startThrowaway(throwawayConfig(new SecureRandom()))) {
            WarmupTraffic.Result result = WarmupTraffic.run(shadow.loops(), target(shadow), started + budget.toNanos(),
                    untilQuiet ? jitQuiet() : handshakes -> false);
            log.info("warm-up: {} handshakes, {} deliveries, {} backend API requests in {} ms (stopped by {}{})",
                    result.handshakes(), result.deliveries(), result.adminRequests(), (System.nanoTime() - started) / 1_000_000,
                    result.stoppedBy(), result.failures() > 0 ? ", " + result.failures() + " connections failed" : "");
            return result;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            log.warn("warm-up interrupted; starting without the rest of it");
        } catch (RuntimeException e) {
            log.warn("warm-up failed; starting without it: {}", e.toString());
        }
        return null;
    }

    private static GatewayConfig throwawayConfig(SecureRandom random) {
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("server.host", "127.0.0.1");
        settings.put("server.port", "0");
        settings.put("server.warmup", "0");
        settings.put("admin.host", "127.0.0.1");
        settings.put("admin.port", "0");
        settings.put("admin.api-keys", List.of(randomKey(random)));
        settings.put("auth.hmac-secret", randomKey(random));
        settings.put("auth.reauth-interval", "1s"); // the holders answer a reauth or two
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
                    Map.of("channels", Map.of("warmup", "rw", "warmup:*", "rw"))));
        }
        return new WarmupTraffic.Target(new InetSocketAddress("127.0.0.1", shadow.port()), config.server().path(),
                new InetSocketAddress("127.0.0.1", shadow.adminPort()), config.admin().apiKeys().get(0), tokens);
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

    private static String randomKey(SecureRandom random) {
        byte[] bytes = new byte[32];
        random.nextBytes(bytes);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
    }
}
