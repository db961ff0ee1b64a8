package dev.portcullis.gateway.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * SIGSTOP and SIGCONT for a test's child process (a redis-server, a gateway): the process freezes
 * with its sockets open, so its peers see silence and timeouts, not resets, as with a long GC pause
 * or a frozen VM. Each call returns once the kernel shows the process (not) stopped, since signal
 * delivery is asynchronous.
 */
public final class ProcessSignals {
    private ProcessSignals() {}

    /** SIGSTOP. */
    public static void stop(long pid) {
        signal(pid, "STOP", true);
    }

    /** SIGCONT. */
    public static void resume(long pid) {
        signal(pid, "CONT", false);
    }

    /** Sends the signal, then polls /proc until the kernel shows the process (not) stopped. */
    private static void signal(long pid, String name, boolean wantStopped) {
        try {
            Process kill = new ProcessBuilder("kill", "-" + name, Long.toString(pid)).redirectErrorStream(true).start();
            String output = new String(kill.getInputStream().readAllBytes());
            if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
                throw new IllegalStateException("kill -" + name + " " + pid + " failed: " + output);
            }
            Path stat = Path.of("/proc", Long.toString(pid), "stat");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (System.nanoTime() < deadline) {
                String content;
                try {
                    content = Files.readString(stat);
                } catch (IOException gone) {
                    return; // no /proc (not Linux) or the process died meanwhile: nothing left to wait for
                }
                boolean isStopped = content.charAt(content.lastIndexOf(')') + 2) == 'T';
                if (isStopped == wantStopped) {
                    return;
                }
                Thread.sleep(5);
            }
            throw new IllegalStateException("process " + pid + " still " + (wantStopped ? "running" : "stopped") + " after SIG" + name);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
