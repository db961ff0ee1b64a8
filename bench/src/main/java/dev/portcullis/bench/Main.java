package dev.portcullis.bench;

import dev.portcullis.bench.floor.FloorCommand;
import dev.portcullis.bench.load.LoadCommand;
import java.util.Arrays;

/**
 * Entry point of {@code bench/target/portcullis-bench.jar}. The first argument picks the tool:
 * <ul>
 *   <li>{@code load <scenario> [options]}: the load generator ({@code portcullis-bench load --help});
 *       see {@link LoadCommand}.
 *   <li>{@code floor [--port P --admin-port A]}: the fan-out floor, a bare WebSocket server to
 *       measure the gateway against ({@code portcullis-bench floor --help}); see {@link FloorCommand}.
 *   <li>{@code load-worker}: one of the load generator's worker processes (started by {@code load}
 *       itself, never by hand).
 *   <li>{@code hooks [--connections N --warmup S --seconds S]}: what a publish hook adds (latency
 *       and gateway CPU), the gateway jar run with and without one; see {@link HookCost}.
 *   <li>{@code jmh [JMH options]}: JMH's own command line ({@code org.openjdk.jmh.Main}), e.g.
 *       {@code java -jar bench/target/portcullis-bench.jar jmh FanoutBenchmark -f 1 -wi 3 -i 5}.
 *   <li>anything else: JMH too, so {@code java -jar portcullis-bench.jar FanoutBenchmark -f 1},
 *       {@code -l} (list) and {@code -h} work as with any JMH jar.
 * </ul>
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("load")) {
            System.exit(LoadCommand.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        if (args.length > 0 && args[0].equals("floor")) {
            System.exit(FloorCommand.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        if (args.length > 0 && args[0].equals("load-worker")) {
            LoadCommand.worker();
            return;
        }
        if (args.length > 0 && args[0].equals("hooks")) {
            System.exit(HookCost.run(Arrays.copyOfRange(args, 1, args.length)));
        }
        if (args.length > 0 && args[0].equals("jmh")) {
            args = Arrays.copyOfRange(args, 1, args.length);
        }
        org.openjdk.jmh.Main.main(args);
    }
}
