package dev.portcullis.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * CPU time and resident memory of processes from {@code /proc} (Linux): {@code utime + stime} of
 * {@code /proc/PID/stat} in clock ticks, converted to milliseconds, and {@code VmRSS} of
 * {@code /proc/PID/status}. A process that is gone reads as zero.
 */
public final class ProcStats {
    private static final long TICKS_PER_SECOND = clockTicks();

    /**
     * @param cpuMs user + system CPU time
     * @param userMs the user part of it (the rest is the kernel's: syscalls, and on loopback the TCP stack)
     * @param rssKb resident set size
     */
    record Sample(long cpuMs, long userMs, long rssKb) {
        Sample plus(Sample other) {
            return new Sample(cpuMs + other.cpuMs, userMs + other.userMs, rssKb + other.rssKb);
        }
    }

    private ProcStats() {}

    static boolean exists(long pid) {
        return Files.isDirectory(Path.of("/proc/" + pid));
    }

    static Sample of(long pid) {
        long[] cpu = cpu(pid);
        return new Sample(cpu[0] + cpu[1], cpu[0], rssKb(pid));
    }

    static Sample sum(Collection<Long> pids) {
        Sample total = new Sample(0, 0, 0);
        for (long pid : pids) {
            total = total.plus(of(pid));
        }
        return total;
    }

    /** {user, system} CPU milliseconds. */
    public static long[] cpu(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            // The command name may hold spaces and parentheses: fields count from the last ')'.
            String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            long user = Long.parseLong(fields[11]); // utime and stime are fields 14 and 15 of the line
            long system = Long.parseLong(fields[12]);
            return new long[] {user * 1000 / TICKS_PER_SECOND, system * 1000 / TICKS_PER_SECOND};
        } catch (IOException | RuntimeException e) {
            return new long[2];
        }
    }

    /** Kernel TCP counters (this network namespace) that explain slow handshakes: SYNs dropped by a full accept queue, retransmitted. */
    static final List<String> TCP_COUNTERS = List.of("ListenOverflows", "ListenDrops", "TCPSynRetrans", "TCPTimeouts", "TCPAbortOnMemory");

    /** The {@link #TCP_COUNTERS} from {@code /proc/net/netstat}, empty when unreadable. */
    static Map<String, Long> tcp() {
        Map<String, Long> counters = new LinkedHashMap<>();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/net/netstat"));
            for (int i = 0; i + 1 < lines.size(); i += 2) {
                if (!lines.get(i).startsWith("TcpExt:")) {
                    continue;
                }
                String[] names = lines.get(i).split("\\s+");
                String[] values = lines.get(i + 1).split("\\s+");
                for (int j = 1; j < names.length && j < values.length; j++) {
                    if (TCP_COUNTERS.contains(names[j])) {
                        counters.put(names[j], Long.parseLong(values[j]));
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            counters.clear();
        }
        return counters;
    }

    static long rssKb(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    return Long.parseLong(line.substring(6).trim().split("\\s+")[0]);
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return 0;
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            p.waitFor();
            long ticks = Long.parseLong(out);
            return ticks > 0 ? ticks : 100;
        } catch (IOException | RuntimeException e) {
            return 100;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 100;
        }
    }
}
