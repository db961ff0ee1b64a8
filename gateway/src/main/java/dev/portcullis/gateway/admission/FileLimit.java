package dev.portcullis.gateway.admission;

import java.lang.management.ManagementFactory;

/**
 * The process's open-file limit, which bounds its sockets whatever {@code limits.max-connections}
 * says. A gateway that accepted up to the limit would fail with EMFILE in the accept loop, and
 * clients would see resets and timeouts instead of a clean 503; so the connection cap is held below
 * the limit, with room for the files a gateway needs besides client sockets (listeners, Redis,
 * logs, the JDK's own) and for refused sockets that are still being answered.
 */
public final class FileLimit {
    /** Files kept back from client connections: 5% of the limit, at least this many. */
    static final int MIN_RESERVE = 256;

    private FileLimit() {}

    /** The soft limit on open files of this process (after the JVM raised it), or -1 when unknown. */
    public static long current() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /** Client connections a process with {@code fileLimit} open files can hold while it keeps working. */
    public static int usableConnections(long fileLimit) {
        long reserve = Math.max(MIN_RESERVE, fileLimit / 20);
        return (int) Math.clamp(fileLimit - reserve, 1, Integer.MAX_VALUE);
    }

    /**
     * The connection cap to enforce: {@code configured} (0 = no cap of its own), but never above what
     * {@code fileLimit} allows. An unknown limit ({@code <= 0}) leaves {@code configured} as it is.
     */
    public static int capConnections(int configured, long fileLimit) {
        if (fileLimit <= 0) {
            return configured;
        }
        int usable = usableConnections(fileLimit);
        return configured == 0 || configured > usable ? usable : configured;
    }
}
