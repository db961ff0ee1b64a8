package dev.portcullis.gateway;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * SIGTERM and SIGINT ask for a graceful shutdown, after which {@code serve} returns and the process
 * exits 0 (a JVM shutdown hook alone would exit 143 on SIGTERM, which orchestrators read as a
 * failure). A second signal means "now": the process halts at once with status 130.
 */
final class Signals {
    private Signals() {}

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
        return requested;
    }
}
