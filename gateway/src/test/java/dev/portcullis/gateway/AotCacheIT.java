package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.portcullis.gateway.testing.GatewayProcess;
import dev.portcullis.gateway.testing.Tokens;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The AOT cache (JDK 25+): {@code train} under {@code -XX:AOTCacheOutput} writes one, the gateway
 * starts with it, and a cache that does not fit (garbage, missing) never stops a start.
 */
class AotCacheIT {
    private static final String YAML = """
            server: { host: 127.0.0.1, port: 0 }
            admin: { port: 0 }
            auth: { hmac-secret: %s }
            """.formatted(Tokens.SECRET);

    @TempDir
    static Path dir;
    private static Path cache;

    @BeforeAll
    static void train() throws IOException, InterruptedException {
        assumeTrue(Runtime.version().feature() >= 25, "the AOT cache's one-step training needs JDK 25");
        cache = dir.resolve("portcullis.aot");
        Path log = dir.resolve("train.log");
        Process training = new ProcessBuilder(java(), "--enable-native-access=ALL-UNNAMED", "-XX:AOTCacheOutput=" + cache,
                "-jar", Path.of("target", "portcullis.jar").toAbsolutePath().toString(), "train", "--duration", "6s")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        assertThat(training.waitFor(3, TimeUnit.MINUTES)).as("training ends").isTrue();
        assertThat(training.exitValue()).as(Files.readString(log)).isZero();
        assertThat(Files.readString(log)).contains("warm-up: ");
        assertThat(cache).isNotEmptyFile();
    }

    @Test
    void startsWithTheCacheAndUsesIt() throws Exception {
        String output = startAndStop(List.of("-XX:AOTCache=" + cache, "-Xlog:aot=info"));
        assertThat(output).contains("Using AOT-linked classes: true");
    }

    @Test
    void startsWithoutACache() throws Exception {
        startAndStop(List.of());
    }

    @Test
    void aCacheThatDoesNotFitDoesNotStopTheStart() throws Exception {
        Path garbage = Files.write(dir.resolve("garbage.aot"), new byte[4096]);
        assertThat(startAndStop(List.of("-XX:AOTCache=" + garbage))).contains("AOT cache");
        startAndStop(List.of("-XX:AOTCache=" + dir.resolve("missing.aot")));
    }

    /** Starts the jar with {@code options}, waits for /readyz 200, stops it (exit 0); returns its output. */
    private static String startAndStop(List<String> options) throws Exception {
        try (GatewayProcess gateway = GatewayProcess.start(Files.createTempDirectory(dir, "run"), YAML, "", options, Map.of())) {
            assertThat(gateway.admin().get("/readyz").statusCode()).isEqualTo(200);
            assertThat(gateway.terminate(Duration.ofSeconds(20))).isZero();
            return String.join("\n", gateway.output());
        }
    }

    private static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }
}
