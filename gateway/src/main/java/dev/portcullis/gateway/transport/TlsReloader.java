package dev.portcullis.gateway.transport;

import dev.portcullis.gateway.config.TlsConfig;
import dev.portcullis.gateway.metrics.TlsMetrics;
import io.netty.handler.ssl.SslContext;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The TLS context one listener hands to new connections, replaced when its certificate files change
 * on disk (cert-manager, ACME clients, Kubernetes secret updates). The pipeline initializer calls
 * {@link #get} once per accepted connection, so a new handshake gets the newest pair while every
 * connection already open keeps the engine it was built with: a rotation drops nothing. A retired
 * context is freed by the garbage collector once its last engine is gone (Netty's non-reference-
 * counted OpenSSL and JDK contexts).
 *
 * <p>A changed pair is taken only whole and consistent ({@link TlsMaterial}: both files parse, the key
 * belongs to the certificate, the provider accepts them). Anything else, such as a half-written file
 * or a key that does not match, keeps the old pair, is logged and counted as a failure once per
 * distinct content of the files (so a watcher or poll seeing the same broken files again stays quiet),
 * and is retried as soon as the files change again.
 *
 * <p>Threads: {@link #get} from any thread (event loops), lock-free on a volatile field.
 * {@link #check} is synchronized: the watcher thread and a SIGHUP may call it at once.
 */
public final class TlsReloader implements Supplier<SslContext> {
    private static final Logger log = LoggerFactory.getLogger(TlsReloader.class);

    /** What a {@link #check} found. */
    public enum Result {
        /** The files are as last loaded, or as last refused. */
        UNCHANGED,
        RELOADED,
        FAILED
    }

    private final String listener;
    private final TlsConfig tls;
    private final TlsMetrics metrics;
    private volatile SslContext current;
    /** Guarded by this: the state of the files last served, and last refused (null: none refused since). */
    private String loaded;
    private String refused;

    private TlsReloader(String listener, TlsConfig tls, TlsMetrics metrics, TlsMaterial material) {
        this.listener = listener;
        this.tls = tls;
        this.metrics = metrics;
        this.current = TlsContexts.server(listener, material);
        this.loaded = material.fingerprint();
        metrics.served(listener, material.leaf().getNotAfter().toInstant().getEpochSecond());
    }

    /**
     * Loads the listener's files for the first time.
     *
     * @param listener {@code server} or {@code admin}: the key prefix ({@code server.tls.cert}) and metric tag
     * @throws IllegalArgumentException naming the key when the files cannot serve (start-up stops)
     */
    public static TlsReloader load(String listener, TlsConfig tls, TlsMetrics metrics) {
        return new TlsReloader(listener, tls, metrics, TlsMaterial.read(listener, tls));
    }

    /** Checks that the files could serve, as {@link #load} would, without keeping anything (check-config). */
    public static void validate(String listener, TlsConfig tls) {
        TlsContexts.server(listener, TlsMaterial.read(listener, tls));
    }

    /** The context for a connection being accepted now. */
    @Override
    public SslContext get() {
        return current;
    }

    public String listener() {
        return listener;
    }

    TlsConfig config() {
        return tls;
    }

    /**
     * Reads the files and, if they changed since the last load or refusal, loads them.
     *
     * @param trigger what asked ({@code file change}, {@code poll}, {@code SIGHUP}), for the log
     */
    public synchronized Result check(String trigger) {
        String state;
        try {
            state = TlsMaterial.fingerprintOnDisk(listener, tls);
        } catch (IllegalArgumentException e) {
            state = "unreadable: " + e.getMessage(); // e.g. a file moved away mid-rotation
        }
        if (state.equals(loaded)) {
            refused = null; // back as served: the same broken files later are news again
            return Result.UNCHANGED;
        }
        if (state.equals(refused)) {
            return Result.UNCHANGED;
        }
        try {
            TlsMaterial material = TlsMaterial.read(listener, tls);
            current = TlsContexts.server(listener, material);
            loaded = material.fingerprint();
            refused = null;
            metrics.reloaded(listener, material.leaf().getNotAfter().toInstant().getEpochSecond());
            log.info("TLS ({}): {} certificate reloaded for new connections: {}, valid until {}, SHA-256 {}", trigger, listener,
                    material.leaf().getSubjectX500Principal().getName(), material.leaf().getNotAfter().toInstant(),
                    material.leafFingerprint());
            return Result.RELOADED;
        } catch (IllegalArgumentException e) {
            refused = state;
            metrics.reloadFailed(listener);
            log.warn("TLS ({}): {} certificate files changed but cannot be used; still serving the previous certificate: {}",
                    trigger, listener, e.getMessage());
            return Result.FAILED;
        }
    }
}
