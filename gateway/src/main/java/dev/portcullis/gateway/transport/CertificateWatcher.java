package dev.portcullis.gateway.transport;

import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Notices certificate files changing and has the {@link TlsReloader}s check them, on one daemon thread.
 *
 * <p>It watches directories, not files: Kubernetes updates a mounted secret by swapping the
 * {@code ..data} symlink in the mount directory, cert-manager and ACME clients often write a new file
 * and rename it over the old one, and neither shows as a change of the old file. So the parent
 * directory of each configured path is watched, and where the path is a symlink, the directory of its
 * target too (re-resolved after each change). Any event there starts a quiet period of
 * {@link #DEBOUNCE}, so the check sees the writer's last file rather than the first; the reloaders
 * then compare file contents, so unrelated files in those directories cost one hash and nothing else.
 *
 * <p>Events can be missed (network file systems, a watch that could not be set), so every
 * {@code pollInterval} the files are checked anyway: the fallback bounds how long a rotation can go
 * unnoticed.
 */
public final class CertificateWatcher implements AutoCloseable {
    static final Duration DEBOUNCE = Duration.ofMillis(300);
    /** A directory that never stops changing (a busy /tmp) must not postpone the check for ever. */
    private static final int MAX_DEBOUNCE_ROUNDS = 10;
    private static final Logger log = LoggerFactory.getLogger(CertificateWatcher.class);

    private final List<TlsReloader> reloaders;
    private final Duration pollInterval;
    private final WatchService watch;
    private final Thread thread;
    /** Opens on close. Not an interrupt: that would abort a check's file reads and count a failure. */
    private final CountDownLatch stopped = new CountDownLatch(1);
    /** Directories that could not be watched, warned about once; confined to the watcher thread after start. */
    private final Set<Path> unwatchable = new LinkedHashSet<>();

    /** Starts watching; returns at once. */
    public CertificateWatcher(List<TlsReloader> reloaders, Duration pollInterval) {
        this(reloaders, pollInterval, true);
    }

    /** @param watchDirectories false: the poll alone, as where the platform has no watch service (tests of the fallback) */
    CertificateWatcher(List<TlsReloader> reloaders, Duration pollInterval, boolean watchDirectories) {
        this.reloaders = List.copyOf(reloaders);
        this.pollInterval = pollInterval;
        WatchService service = null;
        try {
            service = watchDirectories ? FileSystems.getDefault().newWatchService() : null;
        } catch (IOException e) {
            log.warn("cannot watch certificate directories ({}); checking certificate files every {} instead", e.toString(), pollInterval);
        }
        this.watch = service;
        registerDirectories();
        this.thread = new Thread(this::run, "portcullis-tls-watch");
        thread.setDaemon(true);
        thread.start();
    }

    /** Has every reloader check its files now, on the caller's thread (SIGHUP), and logs an unchanged pair too. */
    public void checkNow(String trigger) {
        for (TlsReloader reloader : reloaders) {
            if (reloader.check(trigger) == TlsReloader.Result.UNCHANGED) {
                log.info("TLS ({}): {} certificate files unchanged", trigger, reloader.listener());
            }
        }
    }

    private void run() {
        try {
            while (stopped.getCount() > 0) {
                if (awaitChange()) {
                    for (int round = 0; round < MAX_DEBOUNCE_ROUNDS && drain(DEBOUNCE); round++) {
                        // keep waiting until the writer is done
                    }
                    registerDirectories(); // a symlink may point somewhere new now
                    checkAll("file change");
                } else if (stopped.getCount() > 0) {
                    checkAll("poll");
                }
            }
        } catch (InterruptedException | ClosedWatchServiceException e) {
            // closed
        }
    }

    /** True when an event arrived within the poll interval, false when it passed quietly. */
    private boolean awaitChange() throws InterruptedException {
        if (watch == null) {
            stopped.await(pollInterval.toMillis(), TimeUnit.MILLISECONDS);
            return false;
        }
        return drain(pollInterval);
    }

    /** Waits up to {@code wait} for a watch event, consumes every pending one, and says whether there was any. */
    private boolean drain(Duration wait) throws InterruptedException {
        WatchKey key = watch.poll(wait.toMillis(), TimeUnit.MILLISECONDS);
        if (key == null) {
            return false;
        }
        while (key != null) {
            key.pollEvents();
            key.reset(); // false when the directory is gone (an old ..data target): nothing to do
            key = watch.poll();
        }
        return true;
    }

    private void checkAll(String trigger) {
        for (TlsReloader reloader : reloaders) {
            try {
                reloader.check(trigger);
            } catch (RuntimeException e) {
                log.warn("TLS ({}): checking the {} certificate files failed: {}", trigger, reloader.listener(), e.toString());
            }
        }
    }

    private void registerDirectories() {
        if (watch == null) {
            return;
        }
        for (TlsReloader reloader : reloaders) {
            var tls = reloader.config();
            for (Path file : new Path[] {tls.cert(), tls.key(), tls.clientCa()}) {
                if (file != null) {
                    register(file.toAbsolutePath().getParent());
                    try {
                        register(file.toRealPath().getParent());
                    } catch (IOException e) {
                        // mid-rotation; the next event re-resolves it
                    }
                }
            }
        }
    }

    /** Registering a directory already watched returns its key again, so this is safe to repeat after every change. */
    private void register(Path directory) {
        if (directory == null || !Files.isDirectory(directory)) {
            return;
        }
        try {
            directory.register(watch, StandardWatchEventKinds.ENTRY_CREATE, StandardWatchEventKinds.ENTRY_MODIFY,
                    StandardWatchEventKinds.ENTRY_DELETE);
        } catch (IOException e) {
            if (unwatchable.add(directory)) {
                log.warn("cannot watch {} for certificate changes ({}); it is checked every {}", directory, e.toString(), pollInterval);
            }
        }
    }

    /** Stops the thread; waits for it briefly (a check in progress reads a few small files). */
    @Override
    public void close() {
        stopped.countDown();
        if (watch != null) {
            try {
                watch.close();
            } catch (IOException e) {
                log.debug("closing the certificate watch: {}", e.toString());
            }
        }
        try {
            thread.join(2_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
