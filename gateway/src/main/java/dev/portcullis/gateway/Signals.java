package dev.portcullis.gateway;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT ask for a graceful shutdown, after which {@code serve} returns and the process
 * exits 0 (a JVM shutdown hook alone would exit 143 on SIGTERM, which orchestrators read as a
 * failure). A second signal means "now": the process halts at once with status 130.
 *
 * <p>SIGHUP asks for the TLS certificate files to be checked and reloaded ({@link #onHangup}); it is
 * handled from start-up on, so an early SIGHUP is ignored instead of ending the process (the JVM's
 * default). {@code sun.misc.Signal} is the JDK's only signal API; it is in the {@code jdk.unsupported}
 * module, which every JDK and our jlink image carry. Where a signal cannot be handled (a JVM started
 * with {@code -Xrs}) the file watch still reloads certificates.
 */
final class Signals {
    private static final Logger log = LoggerFactory.getLogger(Signals.class);
    private static final Runnable IGNORE = () -> log.info("SIGHUP while not serving (starting or stopping); ignored");
    private static final AtomicReference<Runnable> HANGUP = new AtomicReference<>(IGNORE);

    private Signals() {}

    /** What SIGHUP does from now on (runs on the JVM's signal thread). */
    static void onHangup(Runnable action) {
        HANGUP.set(action);
    }

    /** SIGHUP is logged and otherwise ignored again (shutting down). */
    static void ignoreHangup() {
        HANGUP.set(IGNORE);
    }

    /** Installs the handlers; the returned latch opens at the first signal. Install before starting anything. */
    static CountDownLatch install() {
        CountDownLatch requested = new CountDownLatch(1);
        AtomicInteger received = new AtomicInteger();
        SignalHandler handler = signal -> {
            if (received.incrementAndGet() == 1) {
                requested.countDown();
            } else {
                Runtime.getRuntime().halt(130);
            }
        };
        Signal.handle(new Signal("TERM"), handler);
        Signal.handle(new Signal("INT"), handler);
        try {
            Signal.handle(new Signal("HUP"), signal -> HANGUP.get().run());
        } catch (IllegalArgumentException e) {
            log.warn("cannot handle SIGHUP ({}); certificate files are still watched", e.getMessage());
        }
        return requested;
    }
}
