package dev.portcullis.gateway.testing;

import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Publishes alerts through the backend API the way a careful backend does during a Redis fault:
 * round-robin over the channels and the gateways, each alert {@code {"id":"<channel>-<n>"}} with
 * its own idempotency key, retried on 503 and 504 (through the next gateway) until acknowledged.
 * Any other answer fails the run ({@link #close} rethrows it). For failover tests.
 */
public final class KeyedPublisher implements AutoCloseable {
    /** A position a publish was acknowledged at. */
    public record Acked(String id, long offset, String epoch) {}

    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicBoolean paused = new AtomicBoolean();
    private final AtomicInteger acked = new AtomicInteger();
    private final Map<String, List<String>> ackedByChannel = new ConcurrentHashMap<>();
    private final AtomicReference<Acked> last = new AtomicReference<>();
    private final AtomicReference<AssertionError> failure = new AtomicReference<>();
    private final Thread thread;

    public KeyedPublisher(List<TestGateway> gateways, List<String> channels, Duration pace) {
        channels.forEach(channel -> ackedByChannel.put(channel, Collections.synchronizedList(new ArrayList<>())));
        thread = new Thread(() -> {
            for (int n = 0; !stop.get(); n++) {
                String channel = channels.get(n % channels.size());
                String id = channel + "-" + n;
                int via = n % gateways.size();
                while (!stop.get()) {
                    if (paused.get()) {
                        sleep(20);
                        continue;
                    }
                    HttpResponse<String> answer = gateways.get(via).api("POST", "/api/publish", "{\"channel\":\"" + channel
                            + "\",\"data\":{\"id\":\"" + id + "\"},\"idempotencyKey\":\"" + id + "\"}");
                    if (answer.statusCode() == 200) {
                        JsonNode body = WsClient.json(answer.body());
                        last.set(new Acked(id, body.path("offset").asLong(), body.path("epoch").asText()));
                        ackedByChannel.get(channel).add(id);
                        acked.incrementAndGet();
                        break;
                    }
                    if (answer.statusCode() != 503 && answer.statusCode() != 504) {
                        failure.compareAndSet(null, new AssertionError("publish answered " + answer.statusCode() + " " + answer.body()));
                        return;
                    }
                    via = (via + 1) % gateways.size(); // a backend retries anywhere
                    sleep(100);
                }
                sleep(pace.toMillis());
            }
        }, "keyed-publisher");
        thread.start();
    }

    public int acked() {
        return acked.get();
    }

    public void awaitAcked(int count) {
        await().atMost(Duration.ofSeconds(40)).until(() -> acked.get() >= count || failure.get() != null);
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    /** Ids acknowledged on {@code channel}, in order. */
    public List<String> acked(String channel) {
        List<String> ids = ackedByChannel.get(channel);
        synchronized (ids) {
            return List.copyOf(ids);
        }
    }

    /** The last acknowledged publish, or null. */
    public Acked last() {
        return last.get();
    }

    /** Stops sending (a publish in flight still finishes) until {@link #resume}. */
    public void pause() {
        paused.set(true);
        sleep(300);
    }

    public void resume() {
        paused.set(false);
    }

    @Override
    public void close() {
        stop.set(true);
        try {
            thread.join(30_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
