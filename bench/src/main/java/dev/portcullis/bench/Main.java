package dev.portcullis.bench;

import java.util.Arrays;

/**
 * Entry point of {@code bench/target/portcullis-bench.jar}. The jar holds the JMH benchmarks now and
 * will also hold the load generator ({@code portcullis-bench}); the first argument picks the tool:
 * <ul>
 *   <li>{@code jmh [JMH options]}: JMH's own command line ({@code org.openjdk.jmh.Main}), e.g.
 *       {@code java -jar bench/target/portcullis-bench.jar jmh FanoutBenchmark -f 1 -wi 3 -i 5}.
 *   <li>anything else: JMH too, so {@code java -jar portcullis-bench.jar FanoutBenchmark -f 1},
 *       {@code -l} (list) and {@code -h} work as with any JMH jar. A load generator subcommand will
 *       take a name of its own (e.g. {@code load}) that no benchmark pattern needs.
 * </ul>
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("jmh")) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        org.openjdk.jmh.Main.main(args);
    }
}
