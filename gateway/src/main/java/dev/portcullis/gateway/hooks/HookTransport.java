package dev.portcullis.gateway.hooks;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.portcullis.gateway.config.HooksConfig;
import dev.portcullis.gateway.http.CappedBody;
import dev.portcullis.gateway.metrics.HookMetrics;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Clock;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends signed hook requests and gets well-formed answers back, or a {@link HookFailure}. Three
 * guards stand in front of every request, in this order: at most {@code hooks.max-in-flight} open
 * requests per instance ({@code overloaded}), the target backend's circuit breaker
 * ({@code breaker_open}), and {@code hooks.timeout} on the whole exchange, answer body included
 * ({@code timeout}). Anything else that keeps a decision from arriving (refused connection, a
 * non-2xx status, an answer that is not {@code {"result":"accept"|"reject",...}} or longer than
 * {@value #MAX_ANSWER_BYTES} bytes) is an {@code error}. Timeouts and errors count as failures of the
 * breaker; a reject is a success (the backend works; it said no).
 *
 * <p>One breaker per backend (scheme, host and port), from Resilience4j: count-based over the last
 * {@value #WINDOW} calls, it opens when at least half of them failed (once {@value #MIN_CALLS} were
 * made), refuses every call for {@code hooks.breaker-wait}, then lets {@value #PROBES} probe calls
 * through: if they succeed it closes, if they fail it opens again.
 *
 * <p>Threading: {@link #call} is safe from any thread and never blocks (event loops call it). The
 * JDK's {@link HttpClient} runs on a small pool of its own; answers are parsed there, and the
 * returned future completes there (or on the JDK's timer thread for a timeout): callers hand the
 * result back to their own thread.
 */
final class HookTransport implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HookTransport.class);
    static final int MAX_ANSWER_BYTES = 256 * 1024;
    static final int WINDOW = 20;
    static final int MIN_CALLS = 10;
    static final int PROBES = 3;
    private static final int THREADS = 2;
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http;
    private final ExecutorService pool;
    private final Map<String, CircuitBreaker> breakers;
    private final HookSigner signer;
    private final Duration timeout;
    private final int maxInFlight;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final HookMetrics metrics;
    private final Clock clock;

    HookTransport(HooksConfig config, HookMetrics metrics, Clock clock) {
        this.signer = new HookSigner(config.secret());
        this.timeout = config.timeout();
        this.maxInFlight = config.maxInFlight();
        this.metrics = metrics;
        this.clock = clock;
        this.breakers = breakers(config, metrics);
        AtomicInteger threads = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(THREADS, r -> {
            Thread thread = new Thread(r, "portcullis-hooks-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        this.http = HttpClient.newBuilder()
                .executor(pool)
                .connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NEVER) // a redirect would send the signed body elsewhere
                .version(HttpClient.Version.HTTP_1_1)
                .build();
    }

    /** The breaker settings; also what {@code check-config} builds, so a bad value fails there too. */
    static CircuitBreakerConfig breakerConfig(Duration wait) {
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(WINDOW)
                .minimumNumberOfCalls(MIN_CALLS)
                .failureRateThreshold(50)
                .waitDurationInOpenState(wait)
                .permittedNumberOfCallsInHalfOpenState(PROBES)
                .recordException(e -> true)
                .build();
    }

    /** {@code host:port}: the breaker's unit and its gauge's tag (never a path, query or credentials). */
    static String target(URI url) {
        int port = url.getPort() != -1 ? url.getPort() : "https".equals(url.getScheme()) ? 443 : 80;
        return url.getScheme() + "://" + url.getHost() + ":" + port;
    }

    private static Map<String, CircuitBreaker> breakers(HooksConfig config, HookMetrics metrics) {
        CircuitBreakerConfig settings = breakerConfig(config.breakerWait());
        Map<String, CircuitBreaker> breakers = new HashMap<>();
        for (List<HooksConfig.Route> routes : List.of(config.publish(), config.subscribe())) {
            for (HooksConfig.Route route : routes) {
                String target = target(route.url());
                breakers.computeIfAbsent(target, name -> {
                    CircuitBreaker breaker = CircuitBreaker.of(name, settings);
                    breaker.getEventPublisher().onStateTransition(event -> log.warn("hook backend {}: circuit breaker {}",
                            name, event.getStateTransition()));
                    metrics.breaker(name.substring(name.indexOf("://") + 3), () -> switch (breaker.getState()) {
                        case CLOSED, DISABLED, METRICS_ONLY -> 0;
                        case HALF_OPEN -> 2;
                        case OPEN, FORCED_OPEN -> 1;
                    });
                    return breaker;
                });
            }
        }
        return Map.copyOf(breakers);
    }

    /**
     * POSTs {@code body} to {@code url}, signed.
     *
     * @return the answer, a JSON object whose {@code result} is {@code accept} or {@code reject};
     *     or a failure with a {@link HookFailure}
     */
    CompletableFuture<JsonNode> call(String hook, URI url, byte[] body) {
        if (inFlight.incrementAndGet() > maxInFlight) {
            inFlight.decrementAndGet();
            return CompletableFuture.failedFuture(new HookFailure("overloaded", "hooks.max-in-flight requests are open", null));
        }
        CircuitBreaker breaker = breakers.get(target(url));
        if (!breaker.tryAcquirePermission()) {
            inFlight.decrementAndGet();
            return CompletableFuture.failedFuture(new HookFailure("breaker_open", "the circuit breaker is open", null));
        }
        long timestamp = clock.instant().getEpochSecond();
        HttpRequest request = HttpRequest.newBuilder(url)
                .timeout(timeout)
                .header("Content-Type", "application/json")
                .header("User-Agent", "portcullis-hooks")
                .header(HookSigner.TIMESTAMP_HEADER, Long.toString(timestamp))
                .header(HookSigner.SIGNATURE_HEADER, signer.sign(timestamp, body))
                .POST(HttpRequest.BodyPublishers.ofByteArray(body))
                .build();
        long started = System.nanoTime();
        CompletableFuture<HttpResponse<byte[]>> send;
        try {
            send = http.sendAsync(request, CappedBody.handler(MAX_ANSWER_BYTES));
        } catch (RuntimeException e) { // e.g. the client was shut down
            inFlight.decrementAndGet();
            breaker.releasePermission();
            return CompletableFuture.failedFuture(new HookFailure("error", e.toString(), e));
        }
        // The deadline covers the answer's body too (the request timeout stops at its headers).
        CompletableFuture<HttpResponse<byte[]>> bounded = send.copy().orTimeout(timeout.toNanos(), TimeUnit.NANOSECONDS);
        return bounded.handle((response, failure) -> {
            inFlight.decrementAndGet();
            long nanos = System.nanoTime() - started;
            metrics.latency(hook, Duration.ofNanos(nanos));
            try {
                if (failure != null) {
                    send.cancel(true); // a timed-out exchange is abandoned, its connection closed
                    throw classify(failure);
                }
                JsonNode answer = answer(response);
                breaker.onSuccess(nanos, TimeUnit.NANOSECONDS);
                return answer;
            } catch (HookFailure e) {
                breaker.onError(nanos, TimeUnit.NANOSECONDS, e);
                log.debug("{} hook to {} failed: {}", hook, target(url), e.getMessage());
                throw e;
            }
        });
    }

    private static HookFailure classify(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        if (cause instanceof TimeoutException || cause instanceof HttpTimeoutException) {
            return new HookFailure("timeout", "no answer in time", cause);
        }
        return new HookFailure("error", cause.toString(), cause);
    }

    private static JsonNode answer(HttpResponse<byte[]> response) {
        if (response.statusCode() / 100 != 2) {
            throw new HookFailure("error", "answered HTTP " + response.statusCode(), null);
        }
        JsonNode answer;
        try {
            answer = JSON.readTree(response.body());
        } catch (IOException e) {
            throw new HookFailure("error", "the answer is not JSON", e);
        }
        String result = answer == null ? "" : answer.path("result").asText("");
        if (!answer.isObject() || !result.equals("accept") && !result.equals("reject")) {
            throw new HookFailure("error", "the answer is not {\"result\":\"accept\"} or {\"result\":\"reject\",...}", null);
        }
        return answer;
    }

    @Override
    public void close() {
        http.shutdownNow();
        pool.shutdownNow();
    }
}
