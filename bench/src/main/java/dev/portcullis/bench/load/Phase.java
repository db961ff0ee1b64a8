package dev.portcullis.bench.load;

import java.util.Map;

/**
 * One stretch of the run with the same activity, and what it cost: the workers' counters, the
 * server's and the generator's CPU and memory, and the host's TCP counters before and after it.
 * Recorded by {@link PhaseRunner}; the scenarios in {@link Coordinator} turn phases into results,
 * {@link Report} lists them. Immutable.
 */
record Phase(String name, double seconds, ProcStats.Sample serverBefore, ProcStats.Sample serverAfter,
        ProcStats.Sample generatorBefore, ProcStats.Sample generatorAfter, Map<String, Long> before, Map<String, Long> after,
        Map<String, Long> tcp) {
    long generatorCpuMs() {
        return generatorAfter.cpuMs() - generatorBefore.cpuMs();
    }

    long generatorUserMs() {
        return generatorAfter.userMs() - generatorBefore.userMs();
    }

    long serverUserMs() {
        return serverAfter.userMs() - serverBefore.userMs();
    }

    long delta(String key) {
        return after.getOrDefault(key, 0L) - before.getOrDefault(key, 0L);
    }

    long serverCpuMs() {
        return serverAfter.cpuMs() - serverBefore.cpuMs();
    }

    /** The kernel's part of {@link #serverCpuMs()}: system calls, and on loopback the TCP stack of both ends' sends. */
    long serverSystemMs() {
        return serverCpuMs() - serverUserMs();
    }
}
