package dev.portcullis.client;

import dev.portcullis.gateway.auth.TokenMinter;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * One subscriber of the {@code alerts} channel (a {@link PortcullisClient} of its own user) that
 * records, as its listeners see them, every message's offset and sequence number, every
 * (re)subscription and every connect and disconnect with the instant ({@link System#nanoTime()}) it
 * happened. Listener calls come from the client's one thread; the test reads after waiting for
 * {@link #received()}, whose volatile write publishes the arrays.
 */
final class AlertSubscriber implements ConnectionListener, SubscriptionListener, AutoCloseable {
    static final String CHANNEL = "alerts";

    record Connect(long nanos, Connected connected) {}

    record Disconnect(long nanos, Disconnected disconnected) {}

    final int index;
    final String group;
    final PortcullisClient client;
    final List<Subscribed> subscribed = new CopyOnWriteArrayList<>();
    final List<Connect> connects = new CopyOnWriteArrayList<>();
    final List<Disconnect> disconnects = new CopyOnWriteArrayList<>();
    final List<String> problems = new CopyOnWriteArrayList<>();
    private final long[] offsets;
    private final int[] seqs;
    private volatile int received;
    private final Subscription subscription;

    private AlertSubscriber(int index, String group, URI uri, int capacity) {
        this.index = index;
        this.group = group;
        this.offsets = new long[capacity];
        this.seqs = new int[capacity];
        String user = "sub-" + index;
        this.client = PortcullisClient.builder(uri)
                .token(() -> TokenMinter.hs256(GatewayFixture.SECRET, user, Instant.now(), Duration.ofHours(1),
                        Map.of("channels", Map.of(CHANNEL, "r"))))
                .backoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                .sendRate(0, 1)
                .listener(this)
                .build();
        this.subscription = client.subscribe(CHANNEL, this);
        client.connect();
    }

    /** Connects a subscriber to {@code uri} with room for {@code capacity} messages. */
    static AlertSubscriber start(int index, String group, URI uri, int capacity) {
        return new AlertSubscriber(index, group, uri, capacity);
    }

    Subscription subscription() {
        return subscription;
    }

    int received() {
        return received;
    }

    /** The offset of the last message delivered, or 0. */
    long lastOffset() {
        int n = received;
        return n == 0 ? 0 : offsets[n - 1];
    }

    @Override
    public void onConnected(Connected connected) {
        connects.add(new Connect(System.nanoTime(), connected));
    }

    @Override
    public void onDisconnected(Disconnected disconnected) {
        disconnects.add(new Disconnect(System.nanoTime(), disconnected));
    }

    @Override
    public void onSubscribed(Subscribed event) {
        subscribed.add(event);
    }

    @Override
    public void onMessage(Message message) {
        int n = received;
        if (n == offsets.length) {
            problems.add("more messages than published; extra offset " + message.offset());
            return;
        }
        offsets[n] = message.offset();
        seqs[n] = message.data().path("seq").asInt(-1);
        received = n + 1;
    }

    @Override
    public void onError(ServerErrorException error) {
        problems.add("subscription refused: " + error.getMessage());
    }

    /** The first connection made after {@code nanos}, or null. */
    Connect firstConnectAfter(long nanos) {
        return connects.stream().filter(c -> c.nanos() > nanos).findFirst().orElse(null);
    }

    /** The first disconnect after {@code nanos}, or null. */
    Disconnect firstDisconnectAfter(long nanos) {
        return disconnects.stream().filter(d -> d.nanos() > nanos).findFirst().orElse(null);
    }

    /**
     * Null when this subscriber received exactly the publications 1..{@code seqByOffset.length - 1},
     * in offset order, each with the sequence number published at that offset, on one epoch, and
     * never had to report a gap; otherwise what went wrong first.
     */
    String deliveryProblem(int[] seqByOffset) {
        int expected = seqByOffset.length - 1;
        int n = received;
        if (!problems.isEmpty()) {
            return "sub-" + index + ": " + problems;
        }
        for (int i = 0; i < n && i < expected; i++) {
            long offset = i + 1;
            if (offsets[i] != offset || seqs[i] != seqByOffset[i + 1]) {
                return "message #" + (i + 1) + " was offset " + offsets[i] + " seq " + seqs[i] + ", expected offset " + offset
                        + " seq " + seqByOffset[i + 1] + ": " + describeLoss(expected);
            }
        }
        if (n != expected) {
            return describeLoss(expected);
        }
        Subscribed first = subscribed.getFirst();
        if (first.offset() != 0 || first.epoch() == null) {
            return "sub-" + index + ": first subscription at " + first;
        }
        for (Subscribed later : subscribed.subList(1, subscribed.size())) {
            if (!later.resumed() || !later.recovered() || !first.epoch().equals(later.epoch())) {
                return "sub-" + index + " (" + group + "): a resubscription did not recover: " + later;
            }
        }
        return null;
    }

    /**
     * Waits until every subscriber got the last of the {@code seqByOffset.length - 1} alerts
     * published (delivery is in offset order, so nothing can come after it); on timeout, says who lags
     * and which offsets they are missing. Whether they got all of them is for {@link #deliveryProblem}.
     */
    static void awaitReceived(List<AlertSubscriber> subscribers, int[] seqByOffset, Duration atMost) {
        int count = seqByOffset.length - 1;
        try {
            org.awaitility.Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(100))
                    .until(() -> subscribers.stream().allMatch(s -> s.lastOffset() >= count));
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            List<AlertSubscriber> lagging = subscribers.stream().filter(s -> s.lastOffset() < count).toList();
            throw new AssertionError(lagging.size() + " subscribers did not receive all " + count + " alerts within " + atMost + ":\n"
                    + String.join("\n", lagging.stream().limit(10).map(s -> s.describeLoss(count)).toList()), e);
        }
    }

    /** What this subscriber misses of offsets 1..{@code count}, and its connection history. */
    String describeLoss(int count) {
        int n = received;
        List<String> gaps = new java.util.ArrayList<>();
        long expected = 1;
        for (int i = 0; i < n && gaps.size() < 5; i++) {
            if (offsets[i] > expected) {
                gaps.add(expected == offsets[i] - 1 ? Long.toString(expected) : expected + ".." + (offsets[i] - 1));
            }
            expected = Math.max(expected, offsets[i] + 1);
        }
        if (expected <= count && gaps.size() < 5) {
            gaps.add(expected + ".." + count + " (the tail)");
        }
        return "sub-" + index + " (" + group + "): received " + n + ", missing offsets " + gaps + ", connected " + client.isConnected()
                + ", subscriptions " + subscribed + ", disconnects "
                + disconnects.stream().map(d -> d.disconnected().code() + " " + d.disconnected().reason()).toList();
    }

    @Override
    public void close() {
        client.close();
    }
}
