package dev.portcullis.gateway.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmHeapPressureMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetric;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.FileDescriptorMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The gateway's meters, and the only class that creates them. Names are {@code portcullis.*} in base
 * units (seconds); tag values come from bounded sets only (close codes, message types, reason codes),
 * never user ids, IPs or channel names.
 *
 * <p>Every method is safe from any thread, event loops included: counters for known tag values are
 * registered here once and cached, so recording an event is an increment, not a registration.
 */
public final class GatewayMetrics {
    /** Client message types of the wire protocol, plus "invalid" for input that failed validation. */
    static final Set<String> RECEIVED_TYPES = Set.of("subscribe", "unsubscribe", "publish", "history", "presence", "auth", "ping", "invalid");
    /** Server message types of the wire protocol. */
    static final Set<String> SENT_TYPES = Set.of("connected", "message", "ack", "error", "reauth", "pong", "history", "presence", "disconnect");
    /** Cap on distinct rejection reasons and violation kinds; more than this is a caller bug. */
    static final int MAX_CODES = 32;

    /** Prometheus text format 0.0.4, the one every Prometheus server accepts. */
    static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private final PrometheusMeterRegistry registry;

    private final TaggedCounters received;
    private final TaggedCounters sent;
    private final Counter heartbeatTimeouts;
    private final TaggedCounters violations;

    private final TaggedCounters publications;
    private final Counter deliveries;
    private final Counter slowConsumers;
    private final Counter rateLimited;
    private final TaggedCounters validationFailures;
    private final TaggedCounters apiRequests;

    private final ConnectionMetrics connections;
    private final BrokerMetrics broker;
    private final TlsMetrics tls;
    private final CompressionMetrics compression;
    private final HookMetrics hooks;
    private final PresenceMetrics presence;
    private final Counter clusterFallbacks;
    private final Counter recoveredPublications;
    private final TaggedCounters snapshotLoads;

    private final AtomicInteger spikeAlerting = new AtomicInteger();
    private final Counter spikeAlerts;
    private final Counter webhookFailures;

    /**
     * Adds the JVM's and the process's own meters: memory pools, GC pauses and promotion, threads,
     * class loading, CPU, uptime, and open file descriptors against their limit (the resource this
     * gateway runs out of first: one per connection). Done by the running gateway, not by
     * {@link #create}, because the GC binder registers JVM-wide listeners that must be removed on
     * close; the returned handle does that.
     */
    /**
     * The memory Netty's buffer allocator holds (every frame and publication comes from it; its
     * direct memory is not in the JVM's {@code jvm_buffer_memory_used_bytes}, which only sees
     * {@code ByteBuffer.allocateDirect}). A leak of buffers shows here first.
     */
    private void bindBufferMetrics() {
        if (ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider provider) {
            ByteBufAllocatorMetric metric = provider.metric();
            Gauge.builder("portcullis.buffers.used", metric, ByteBufAllocatorMetric::usedDirectMemory).baseUnit("bytes")
                    .tag("memory", "direct").description("Memory held by the buffer allocator (frames, publications), pools included")
                    .register(registry);
            Gauge.builder("portcullis.buffers.used", metric, ByteBufAllocatorMetric::usedHeapMemory).baseUnit("bytes")
                    .tag("memory", "heap").description("Memory held by the buffer allocator (frames, publications), pools included")
                    .register(registry);
        }
    }

    public AutoCloseable bindProcessMetrics() {
        JvmGcMetrics gc = new JvmGcMetrics();
        JvmHeapPressureMetrics pressure = new JvmHeapPressureMetrics();
        new ClassLoaderMetrics().bindTo(registry);
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        pressure.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        new FileDescriptorMetrics().bindTo(registry);
        bindBufferMetrics();
        return () -> {
            gc.close();
            pressure.close();
        };
    }

    /** Metrics on a registry of their own, with Micrometer's Prometheus defaults. */
    public static GatewayMetrics create() {
        return new GatewayMetrics(new PrometheusMeterRegistry(PrometheusConfig.DEFAULT));
    }

    public GatewayMetrics(PrometheusMeterRegistry registry) {
        this.registry = Objects.requireNonNull(registry, "registry");
        connections = new ConnectionMetrics(registry);

        received = new TaggedCounters(registry, "portcullis.messages.received",
                "Client messages received, by message type", "type", RECEIVED_TYPES, RECEIVED_TYPES.size());
        sent = new TaggedCounters(registry, "portcullis.messages.sent",
                "Server messages sent, by message type", "type", SENT_TYPES, SENT_TYPES.size());
        heartbeatTimeouts = Counter.builder("portcullis.heartbeat.timeouts")
                .description("Connections closed because the peer stopped answering heartbeats")
                .register(registry);
        violations = new TaggedCounters(registry, "portcullis.protocol.violations",
                "Protocol violations by clients, by kind", "kind", Set.of(), MAX_CODES);

        publications = new TaggedCounters(registry, "portcullis.publications",
                "Publications accepted, by source", "source", Set.of("api", "client"), 2);
        deliveries = Counter.builder("portcullis.deliveries")
                .description("Publications handed to subscribers (one per subscriber per publication)")
                .register(registry);
        slowConsumers = Counter.builder("portcullis.slow.consumers")
                .description("Connections closed (4009) because they did not read fast enough")
                .register(registry);
        rateLimited = Counter.builder("portcullis.messages.rate.limited")
                .description("Client messages refused by the per-connection rate limit")
                .register(registry);
        validationFailures = new TaggedCounters(registry, "portcullis.validation.failures",
                "Publications refused by their namespace's data schema, or on an encrypted channel as not an envelope, by namespace",
                "namespace", Set.of(), MAX_CODES);
        apiRequests = new TaggedCounters(registry, "portcullis.api.requests",
                "Backend API requests, by outcome", "outcome", Set.of("ok", "unauthorized", "bad_request", "not_found", "unavailable", "outcome_unknown"), MAX_CODES);

        broker = new BrokerMetrics(registry);
        tls = new TlsMetrics(registry);
        compression = new CompressionMetrics(registry);
        hooks = new HookMetrics(registry);
        presence = new PresenceMetrics(registry);
        recoveredPublications = Counter.builder("portcullis.recovered.publications")
                .description("Missed publications sent to subscribers that recovered from their last offset")
                .register(registry);
        snapshotLoads = new TaggedCounters(registry, "portcullis.history.snapshot.loads",
                "Starts of the local broker with history.snapshot-file set, by what became of the file",
                "outcome", Set.of("none", "restored", "corrupt", "failed"), 4);
        clusterFallbacks = Counter.builder("portcullis.cluster.fallbacks")
                .description("Cluster-wide checks (attempt rate, logout, newest-wins) done locally because Redis did not answer")
                .register(registry);

        Gauge.builder("portcullis.alerts.connection.spike", spikeAlerting, AtomicInteger::get)
                .description("1 while the connection-spike alert is firing, else 0")
                .register(registry);
        spikeAlerts = Counter.builder("portcullis.alerts.connection.spikes")
                .description("Connection-spike alerts started")
                .register(registry);
        webhookFailures = Counter.builder("portcullis.alerts.webhook.failures")
                .description("Alert webhook calls that failed or got a non-2xx answer")
                .register(registry);
    }

    /** The Prometheus text exposition (format 0.0.4) of every meter, for {@code GET /metrics}. */
    public String scrape() {
        return registry.scrape(contentType());
    }

    /** The content type of {@link #scrape()}: {@code text/plain; version=0.0.4; charset=utf-8}. */
    public String contentType() {
        return CONTENT_TYPE;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /**
     * @param type the validated client message type ({@code subscribe}, {@code unsubscribe},
     *     {@code publish}, {@code auth}, {@code ping}) or {@code invalid}; anything else is counted as
     *     "other"
     */
    public void messageReceived(String type) {
        received.increment(type);
    }

    /**
     * @param type the server message type ({@code connected}, {@code message}, {@code ack},
     *     {@code error}, {@code reauth}, {@code pong}); anything else is counted as "other"
     */
    public void messageSent(String type) {
        sent.increment(type);
    }

    public void heartbeatTimeout() {
        heartbeatTimeouts.increment();
    }

    /** @param kind a short code, with the same rules as a {@linkplain ConnectionMetrics#handshakeRejected reason} */
    public void protocolViolation(String kind) {
        violations.increment(kind);
    }

    /** @param source {@code api} or {@code client} */
    public void publication(String source) {
        publications.increment(source);
    }

    /** A publication was handed to {@code subscribers} connections; also counts them as sent {@code message}s. */
    public void delivered(int subscribers) {
        if (subscribers > 0) {
            deliveries.increment(subscribers);
            sent.counter("message").increment(subscribers);
        }
    }

    public void slowConsumer() {
        slowConsumers.increment();
    }

    public void messageRateLimited() {
        rateLimited.increment();
    }

    /** @param namespace a configured namespace ({@code [a-z0-9_]}); others count as "other" */
    public void validationFailure(String namespace) {
        validationFailures.increment(namespace.isEmpty() ? "default" : namespace);
    }

    /** @param outcome {@code ok}, {@code unauthorized}, {@code bad_request}, {@code not_found}, {@code unavailable} or another short code */
    public void apiRequest(String outcome) {
        apiRequests.increment(outcome);
    }

    /** Attempts, handshakes, opens and closes, the open count. */
    public ConnectionMetrics connections() {
        return connections;
    }

    /** The broker's meters (health, canaries, Redis faults, failover catch-up). */
    public BrokerMetrics broker() {
        return broker;
    }

    /** Channel presence: the members this instance holds and the dead instances' members it removed. */
    public PresenceMetrics presence() {
        return presence;
    }

    public CompressionMetrics compression() {
        return compression;
    }

    /** Certificate reloads and expiry per listener. */
    public TlsMetrics tls() {
        return tls;
    }

    /** At start, with {@code history.snapshot-file}: {@code none}, {@code restored}, {@code corrupt} or {@code failed}. */
    public void historySnapshotLoaded(String outcome) {
        snapshotLoads.increment(outcome);
    }

    /** The hooks' latency, results and breaker states. */
    public HookMetrics hooks() {
        return hooks;
    }

    public void recovered(int publications) {
        if (publications > 0) {
            recoveredPublications.increment(publications);
        }
    }

    public void clusterFallback() {
        clusterFallbacks.increment();
    }

    /** Client messages received so far, all types. */
    public double messagesReceivedTotal() {
        return received.total();
    }

    /** Server messages sent so far, all types (a {@code message} per subscriber). */
    public double messagesSentTotal() {
        return sent.total();
    }

    void spikeAlertStarted() {
        spikeAlerting.set(1);
        spikeAlerts.increment();
    }

    void spikeAlertCleared() {
        spikeAlerting.set(0);
    }

    void webhookFailed() {
        webhookFailures.increment();
    }
}
