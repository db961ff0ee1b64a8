package dev.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Any bytes as the YAML configuration file: the loader yields a config, or a {@link ConfigException}
 * whose every problem names what it is about (a configuration key, an environment variable or the
 * file) and says something. Never another exception: a ClassCastException or a parser's own error
 * would reach the operator as a stack trace instead of the key to fix.
 */
class ConfigLoaderFuzzTest {
    private static final Path FILE;
    /** {@code <subject>: <what is wrong>}, neither part blank. */
    private static final Pattern NAMED = Pattern.compile("\\S.*?: \\S.*", Pattern.DOTALL);

    static {
        try {
            FILE = Files.createTempFile("portcullis-fuzz", ".yaml");
            FILE.toFile().deleteOnExit();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @FuzzTest(maxDuration = "10m")
    void load(byte[] yaml) throws IOException {
        Files.write(FILE, yaml);
        GatewayConfig config;
        try {
            config = ConfigLoader.load(FILE, Map.of(), Map.of());
        } catch (ConfigException e) {
            assertThat(e.problems()).as("a ConfigException says what is wrong").isNotEmpty();
            for (String problem : e.problems()) {
                assertThat(problem).as("a problem names its subject, then says what is wrong").matches(NAMED);
                assertThat(ConfigKeys.ALL.stream().anyMatch(key -> problem.startsWith(key.name() + ": "))
                                || problem.startsWith(FILE + ": ") || problem.startsWith("auth: ")
                                || problem.contains(": no such configuration key (in " + FILE + ")"))
                        .as("names a configuration key or the file: %s", problem).isTrue();
            }
            return;
        }
        assertThat(config.server().path()).startsWith("/");
        assertThat(config.server().port()).isBetween(0, 65535);
        assertThat(config.limits().maxMessageBytes()).isPositive();
        assertThat(config.auth().clockSkew().isNegative()).isFalse();
    }
}
