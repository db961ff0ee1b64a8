package dev.portcullis.bench.load;

import java.util.List;
import java.util.Map;

/**
 * What one worker process does, sent by the coordinator as the first line of the worker's stdin
 * (JSON), so that secrets never appear on a command line. Connection {@code i} of this worker is
 * connection {@code firstConnection + i} of the run: it names the user ({@code userPrefix + i}),
 * the target URL and the source address (both round-robin).
 *
 * @param target the kind of server: where the token goes, how subscribe is answered, what numbers publications
 * @param connections connections this worker opens (for {@code reject}: handshake attempts)
 * @param concurrency handshakes this worker keeps in flight at most
 * @param claims extra token claims, the channel permissions included
 * @param badToken for {@code reject}: {@code signature}, {@code malformed}, {@code missing} or {@code expired}
 * @param perConnectionRate for {@code inbound}: messages per second per connection, 0 = as fast as acks come back
 * @param churnRate for {@code churn}: connections per second this worker opens and closes
 * @param reportMinOffset send {@code @min} lines (the slowest subscriber's offset) for saturating fan-out
 * @param deflate offer permessage-deflate (RFC 7692) in every upgrade request
 */
record WorkerPlan(
        int index,
        String scenario,
        Peer target,
        List<String> urls,
        List<String> sourceAddresses,
        boolean insecure,
        int threads,
        int firstConnection,
        int connections,
        int concurrency,
        long connectTimeoutMs,
        long handshakeTimeoutMs,
        String secret,
        String tokensFile,
        int tokensSkip,
        int totalConnections,
        int workers,
        String userPrefix,
        long tokenTtlSeconds,
        Map<String, Object> claims,
        String badToken,
        String channel,
        boolean autoSubscribe,
        String namespace,
        int rooms,
        double perConnectionRate,
        int inFlight,
        int payloadBytes,
        boolean subscribeRooms,
        double churnRate,
        long churnHoldMs,
        int churnConcurrency,
        boolean reportMinOffset,
        boolean deflate) {}
