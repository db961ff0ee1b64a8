package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestGateway;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The shipped Prometheus rules (deploy/prometheus): valid, each alert's unit tests pass under
 * {@code promtool} (Debian package {@code prometheus}, installed by .ci/run), and every metric they
 * name exists on a real gateway's {@code /metrics}, so no alert watches a series that is never there.
 */
class DeployFilesIT {
    private static final Path PROMETHEUS = Path.of("..", "deploy", "prometheus");
    private static final Pattern METRIC = Pattern.compile("\\b((?:portcullis|process|jvm)_[a-z_]+)");
    /** Named by the rules but not on a single local gateway, and why. */
    private static final Map<String, String> ELSEWHERE = Map.of(
            "portcullis_broker_shard_degraded", "Redis Cluster mode only (ClusterFailoverIT asserts it)");

    @Test
    void theAlertRulesAreValidAndTheirUnitTestsPass() throws Exception {
        assertThat(promtool("check", "rules", "alerts.yml")).contains("SUCCESS");
        assertThat(promtool("test", "rules", "alerts.test.yml")).contains("SUCCESS");
    }

    @Test
    void everyMetricTheRulesNameExistsOnARealGateway() throws IOException {
        String rules = Files.readString(PROMETHEUS.resolve("alerts.yml"));
        Set<String> named = new TreeSet<>();
        Matcher matcher = METRIC.matcher(rules.replaceAll("(?m)^\\s*#.*$", ""));
        while (matcher.find()) {
            named.add(matcher.group(1).replaceAll("_(bucket|count|sum)$", ""));
        }
        assertThat(named).contains("portcullis_connections_active", "process_files_open_files");
        named.removeAll(ELSEWHERE.keySet());
        try (TestGateway gateway = TestGateway.start()) {
            String scrape = gateway.adminGet("/metrics").body();
            for (String metric : named) {
                assertThat(scrape).as("%s is named by alerts.yml", metric).containsPattern("(?m)^" + metric + "(_bucket|_total)?[{ ]");
            }
        }
    }

    private static String promtool(String... args) throws Exception {
        String[] command = new String[args.length + 1];
        command[0] = "promtool";
        System.arraycopy(args, 0, command, 1, args.length);
        Process process;
        try {
            process = new ProcessBuilder(command).directory(PROMETHEUS.toFile()).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("promtool is needed (Debian package prometheus; .ci/run installs it): " + e.getMessage(), e);
        }
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.exitValue()).as(output).isZero();
        return output;
    }
}
