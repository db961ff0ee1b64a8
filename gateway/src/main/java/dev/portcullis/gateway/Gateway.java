package dev.portcullis.gateway;

import dev.portcullis.gateway.admission.ConnectAttemptLimiter;
import dev.portcullis.gateway.admission.ConnectionSlots;
import dev.portcullis.gateway.admission.FileLimit;
import dev.portcullis.gateway.api.BackendApi;
import dev.portcullis.gateway.api.MessageRates;
import dev.portcullis.gateway.auth.JwtVerifier;
import dev.portcullis.gateway.auth.RevocationCheckingVerifier;
import dev.portcullis.gateway.auth.RevocationStore;
import dev.portcullis.gateway.auth.Revocations;
import dev.portcullis.gateway.admission.AttemptGate;
import dev.portcullis.gateway.admission.SessionRegistry;
import dev.portcullis.gateway.api.ClusterView;
import dev.portcullis.gateway.api.ConnectionDirectory;
import dev.portcullis.gateway.api.InstanceStats;
import java.util.function.Supplier;
import dev.portcullis.gateway.auth.TokenVerifier;
import dev.portcullis.gateway.broker.Broker;
import dev.portcullis.gateway.broker.LocalBroker;
import dev.portcullis.gateway.cluster.RedisCluster;
import dev.portcullis.gateway.channel.Permissions;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import dev.portcullis.gateway.config.LimitsConfig;
import dev.portcullis.gateway.presence.MemoryPresenceStore;
import dev.portcullis.gateway.presence.Presence;
import dev.portcullis.gateway.presence.PresenceStore;
import dev.portcullis.gateway.protocol.NamespacePolicies;
import dev.portcullis.gateway.protocol.PublicationData;
import dev.portcullis.gateway.hooks.Hooks;
import dev.portcullis.gateway.session.MessageRate;
import io.netty.buffer.ByteBufAllocator;
import dev.portcullis.gateway.config.ConfigKeys;
import dev.portcullis.gateway.config.GatewayConfig;
import dev.portcullis.gateway.metrics.ConnectionSpikeDetector;
import dev.portcullis.gateway.metrics.GatewayMetrics;
import dev.portcullis.gateway.protocol.MessageCodec;
import dev.portcullis.gateway.session.Disconnect;
import dev.portcullis.gateway.session.Session;
import dev.portcullis.gateway.session.SessionSettings;
import dev.portcullis.gateway.transport.Connections;
import dev.portcullis.gateway.transport.EventLoops;
import dev.portcullis.gateway.transport.DevSite;
import dev.portcullis.gateway.transport.Listeners;
import dev.portcullis.gateway.transport.Services;
import dev.portcullis.gateway.transport.CertificateWatcher;
import dev.portcullis.gateway.transport.TlsContexts;
import dev.portcullis.gateway.transport.TlsReloader;
import java.util.ArrayList;
import java.util.List;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * One running gateway: wires the capabilities together, binds both listeners, and shuts down
 * gracefully. {@link #start} returns once both ports listen; {@link #close} returns once every
 * connection is closed (or the drain timeout forced the rest) and every thread has stopped.
 */
public final class Gateway implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Gateway.class);
    /** How long an unused channel keeps its offset counter in the local broker. */
    private static final Duration BROKER_IDLE = Duration.ofMinutes(10);
    /** The fallback check of the certificate files for when a directory watch misses a change. */
    private static final Duration CERTIFICATE_POLL = Duration.ofSeconds(30);

    private final GatewayConfig config;
    private final EventLoops loops;
    private final JwtVerifier verifier;
    private final Broker broker;
    private final RedisCluster cluster;
    private final GatewayMetrics metrics;
    /** JVM and process meters (memory, GC, threads, CPU, open files); their GC listeners go on close. */
    private final AutoCloseable processMetrics;
    private final ConnectionSpikeDetector spikes;
    private final Connections connections;
    private final ScheduledExecutorService housekeeping;
    private final Hooks hooks;
    private final Listeners listeners;
    /** Null without TLS on either listener. */
    private final CertificateWatcher certificates;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** The warm-up's throwaway gateway: its start and stop are not news (logged at DEBUG). */
    private final boolean throwaway;
    /** False when the loops are another gateway's (the warm-up's throwaway runs on the real one's): never stopped here. */
    private final boolean ownsLoops;
    private volatile boolean ready;

    /** Binds both listeners; not ready until the static factory that called it says so. */
    /** @param sharedLoops another gateway's threads to run on, or null for threads of its own */
    private Gateway(GatewayConfig config, Clock clock, DevSite devSite, boolean throwaway, EventLoops sharedLoops) {
        this.config = config;
        this.throwaway = throwaway;
        this.ownsLoops = sharedLoops == null;
        NamespacePolicies publicationData = NamespacePolicies.create(config.channels());
        this.metrics = GatewayMetrics.create();
        TlsReloader ssl = config.server().tls().enabled() ? TlsReloader.load("server", config.server().tls(), metrics.tls()) : null;
        TlsReloader adminSsl = config.admin().tls().enabled() ? TlsReloader.load("admin", config.admin().tls(), metrics.tls()) : null;
        this.verifier = JwtVerifier.create(config.auth(), clock);
        Revocations localRevocations = new Revocations(clock, config.auth().maxTokenLifetime());
        this.processMetrics = metrics.bindProcessMetrics();
        this.spikes = new ConnectionSpikeDetector(config.alerts(), metrics, clock);
        this.connections = new Connections(config.limits().connectionsPerUser());
        SubscriptionIndex index = new SubscriptionIndex();
        // Periodic sweeps, and the local history's evictions (kept off the event loops).
        this.housekeeping = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread thread = new Thread(r, "portcullis-housekeeping");
            thread.setDaemon(true);
            return thread;
        });
        ConnectAttemptLimiter attempts = new ConnectAttemptLimiter(config.limits().connectAttemptsPerUserPerMinute());
        RevocationStore revocations;
        AttemptGate attemptGate;
        SessionRegistry registry;
        ConnectionDirectory directory;
        MessageRates rates = new MessageRates(metrics);
        Supplier<InstanceStats> localStats = () -> new InstanceStats(config.broker().instanceId(), connections.active(),
                index.subscriptions(), index.channels(), rates.inPerSecond(), rates.outPerSecond());
        ClusterView clusterView;
        PresenceStore presenceStore;
        if (config.broker().redis()) {
            this.cluster = RedisCluster.connect(config, index, ByteBufAllocator.DEFAULT, metrics, clock, connections,
                    attempts, localRevocations, localStats);
            clusterView = cluster.view();
            this.broker = cluster.broker();
            revocations = cluster.revocations();
            attemptGate = cluster.attempts();
            registry = cluster.registry();
            directory = cluster.directory();
            presenceStore = cluster.channelPresence();
        } else {
            this.cluster = null;
            this.broker = new LocalBroker(index, ByteBufAllocator.DEFAULT, metrics, config.history(), BROKER_IDLE.toMillis(),
                    clock::millis, housekeeping);
            revocations = localRevocations;
            attemptGate = attempts;
            registry = SessionRegistry.LOCAL;
            directory = connections;
            clusterView = ClusterView.ALONE;
            presenceStore = new MemoryPresenceStore(index, ByteBufAllocator.DEFAULT);
        }
        metrics.presence().members(presenceStore::localMembers);
        Presence presence = new Presence(config.channels(), presenceStore);
        TokenVerifier tokens = new RevocationCheckingVerifier(verifier, revocations);
        LimitsConfig limits = config.limits();
        SessionSettings settings = new SessionSettings(
                config.auth().reauthInterval(), config.auth().reauthGrace(), config.auth().clockSkew(),
                limits.protocolViolations(), limits.protocolViolationWindow(),
                MessageRate.of(limits.messagesPerMinute(), limits.messageBurst()), limits.rateLimitGrace(),
                limits.subscriptionsPerConnection(), config.channels().autoSubscribe(), config.channels().autoSubscribePersonal(),
                limits.maxConnectionAge());
        // The backend's data, from the API or as a hook's replacement, is its own voice: see channels.sanitize-backend.
        PublicationData backendData = config.channels().sanitizeBackend() ? publicationData : publicationData.unsanitised();
        this.hooks = Hooks.create(config.hooks(), backendData, metrics.hooks(), clock);
        Session.Context sessions = new Session.Context(settings, tokens, new MessageCodec(), publicationData,
                Permissions.Shared.of(config.channels()), index, broker, broker.history(), metrics, clock, hooks, presence);
        BackendApi api = new BackendApi(config.admin().apiKeys(), broker, backendData, directory, revocations, metrics,
                localStats, clusterView, presence);
        long fileLimit = FileLimit.current();
        ConnectionSlots slots = new ConnectionSlots(limits, fileLimit);
        metrics.connections().maxConnections(slots.maxConnections());
        if (slots.maxConnections() != limits.maxConnections()) {
            // The default asks for more than most machines allow: say so quietly; a configured value loudly.
            boolean asDefault = String.valueOf(limits.maxConnections())
                    .equals(ConfigKeys.byName("limits.max-connections").defaultValue());
            log.atLevel(asDefault ? Level.INFO : Level.WARN).log("limits.max-connections {} is more than this process can hold"
                    + " with {} open files; capped at {} (raise the file limit, e.g. LimitNOFILE= or ulimit -n, to allow more)",
                    limits.maxConnections() == 0 ? "(unlimited)" : limits.maxConnections(), fileLimit, slots.maxConnections());
        }
        ConnectAttemptLimiter probes = new ConnectAttemptLimiter(limits.refusalProbesPerIpPerMinute());
        Services services = new Services(
                config, tokens, slots, attemptGate, probes, registry, connections, metrics, spikes, sessions, api, clock, devSite);
        housekeeping.scheduleAtFixedRate(spikes::tick, 1, 1, TimeUnit.SECONDS);
        housekeeping.scheduleAtFixedRate(rates::sample, 1, 1, TimeUnit.SECONDS);
        housekeeping.scheduleAtFixedRate(() -> {
            attempts.sweep();
            probes.sweep();
            localRevocations.sweep();
            if (broker instanceof LocalBroker local) {
                local.sweep();
            }
        }, 1, 1, TimeUnit.MINUTES);
        this.loops = sharedLoops != null ? sharedLoops
                : new EventLoops(config.server().ioThreadsOrCores(), EventLoops.Transport.parse(config.server().transport()));
        try {
            this.listeners = Listeners.bind(loops, services, ssl, adminSsl, () -> ready);
        } catch (RuntimeException e) {
            if (cluster != null) {
                cluster.close();
            }
            housekeeping.shutdownNow();
            if (ownsLoops) {
                loops.close();
            }
            verifier.close();
            hooks.close();
            throw e;
        }
        List<TlsReloader> reloaders = new ArrayList<>();
        if (ssl != null) {
            reloaders.add(ssl);
        }
        if (adminSsl != null) {
            reloaders.add(adminSsl);
        }
        this.certificates = reloaders.isEmpty() ? null : new CertificateWatcher(reloaders, CERTIFICATE_POLL);
        log.atLevel(throwaway ? Level.DEBUG : Level.INFO).log("listening: ws{}://{}:{}{} (transport {}, TLS {}), admin http{}://{}:{}{} (broker {}, instance {})",
                ssl != null ? "s" : "", config.server().host(), port(), config.server().path(), loops.transportName(),
                reloaders.isEmpty() ? "off" : TlsContexts.providerName(), adminSsl != null ? "s" : "", config.admin().host(), adminPort(),
                config.admin().tls().clientAuth() ? " (client certificates required)" : "", config.broker().type(),
                config.broker().instanceId());
    }

    /**
     * Builds from {@code config} what {@link #start} builds before it binds a port (the key source
     * and its algorithms, TLS, the namespace schemas, the hooks' signing key and breaker) and throws
     * as start would: the one validation
     * path of {@code serve} and {@code check-config}, so the two never disagree.
     *
     * @throws IllegalArgumentException or IllegalStateException naming the problem
     */
    public static void validate(GatewayConfig config) {
        JwtVerifier.create(config.auth(), Clock.systemUTC()).close();
        String unavailable = EventLoops.Transport.parse(config.server().transport()).unavailableReason();
        if (unavailable != null) {
            throw new IllegalStateException("server.transport: " + unavailable);
        }
        if (config.server().tls().enabled()) {
            TlsReloader.validate("server", config.server().tls());
        }
        if (config.admin().tls().enabled()) {
            TlsReloader.validate("admin", config.admin().tls());
        }
        NamespacePolicies.create(config.channels());
        Hooks.validate(config.hooks());
    }

    /** Starts a gateway on the system clock, ready at once: no warm-up (embedding, tests; {@code serve} uses {@link #serve}). */
    public static Gateway start(GatewayConfig config) {
        return start(config, Clock.systemUTC());
    }

    /** Starts a gateway whose token checks and timers read {@code clock} (tests), ready at once. */
    public static Gateway start(GatewayConfig config, Clock clock) {
        return ready(new Gateway(config, clock, null, false, null));
    }

    /**
     * Starts a gateway as {@code serve} does: both listeners bound, {@code /readyz} 503 while the
     * warm-up of {@code server.warmup} runs ({@link Warmup}), then ready. With {@code devSite} it also
     * serves those files on its public listener (the chat example in {@code ./portcullis dev}; never
     * in production).
     *
     * @param devSite null outside dev mode
     */
    public static Gateway serve(GatewayConfig config, DevSite devSite) {
        Gateway gateway = new Gateway(config, Clock.systemUTC(), devSite, false, null);
        if (config.server().warmup().isPositive()) {
            Warmup.run(config.server().warmup(), true, gateway);
        }
        return ready(gateway);
    }

    /**
     * The warm-up's target: ready at once, quiet about its start and stop.
     *
     * @param loops the real gateway's threads, which the throwaway runs on and leaves running; null
     *     for threads of its own (the AOT training run, which has no real gateway)
     */
    static Gateway startThrowaway(GatewayConfig config, EventLoops loops) {
        return ready(new Gateway(config, Clock.systemUTC(), null, true, loops));
    }

    private static Gateway ready(Gateway gateway) {
        gateway.ready = true;
        return gateway;
    }

    GatewayConfig config() {
        return config;
    }

    EventLoops loops() {
        return loops;
    }

    public int port() {
        return listeners.publicPort();
    }

    public int adminPort() {
        return listeners.adminPort();
    }

    public GatewayMetrics metrics() {
        return metrics;
    }

    public Connections connections() {
        return connections;
    }

    public boolean ready() {
        return ready;
    }

    /**
     * Checks the certificate files of both listeners now and loads those that changed (what SIGHUP
     * does; the files are also watched). Safe from any thread but an event loop.
     */
    public void reloadTls(String trigger) {
        if (certificates == null) {
            log.info("TLS ({}): no listener uses TLS; nothing to reload", trigger);
        } else {
            certificates.checkNow(trigger);
        }
    }

    /**
     * Graceful shutdown: readiness goes false, the listener stops accepting, every connection gets a
     * {@code disconnect} hint and close 1001 at a random moment within the first 60% of
     * {@code shutdown.drain-timeout} (waves, so that clients do not all reconnect elsewhere at once),
     * and close handshakes are awaited up to the drain timeout; what is left then is closed at once. Idempotent; safe from any thread but an event loop.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        ready = false;
        Duration drain = config.shutdown().drainTimeout();
        int open = connections.active();
        Level news = throwaway ? Level.DEBUG : Level.INFO;
        log.atLevel(news).log("shutting down: closing {} connections, draining for up to {}", open, drain);
        listeners.stopAccepting();
        // Close in waves over most of the drain window, leaving the rest for the close handshakes.
        connections.closeInWaves(Duration.ofMillis(drain.toMillis() * 6 / 10));
        boolean drained;
        try {
            drained = connections.awaitClosed(drain);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            drained = false;
        }
        if (!drained) {
            log.warn("drain timeout passed with {} sockets open; closing them now", connections.sockets());
            connections.forceCloseAll();
        }
        listeners.close();
        if (certificates != null) {
            certificates.close();
        }
        broker.close();
        if (cluster != null) {
            cluster.close();
        }
        housekeeping.shutdownNow();
        spikes.close();
        verifier.close();
        hooks.close();
        try {
            processMetrics.close();
        } catch (Exception e) {
            log.debug("process metrics did not close: {}", e.toString());
        }
        if (ownsLoops) {
            loops.shutdown(Duration.ofSeconds(2));
        }
        log.atLevel(news).log("shut down");
    }
}
