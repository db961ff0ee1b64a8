package dev.portcullis.gateway;

import sun.misc.Signal;

/**
 * SIGTERM and SIGINT start a graceful shutdown, after which {@code serve} returns and the process
 * exits 0. A JVM shutdown hook alone would exit 143 on SIGTERM, which orchestrators read as a
 * failure; so the signals are handled directly, once, on a thread of their own.
 */
final class Signals {
    private Signals() {}

    static void onTermination(Runnable shutdown) {
        Runnable once = new Runnable() {
            private boolean ran;

            @Override
            public synchronized void run() {
                if (!ran) {
                    ran = true;
                    Thread thread = new Thread(shutdown, "portcullis-shutdown");
                    thread.start();
                }
            }
        };
        Signal.handle(new Signal("TERM"), signal -> once.run());
        Signal.handle(new Signal("INT"), signal -> once.run());
    }
}
