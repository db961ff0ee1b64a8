package dev.portcullis.gateway.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's configuration table lists every key with its default and meaning: docs cannot drift from code. */
class ReadmeConfigTableTest {

    @Test
    void everyKeyAndDefaultIsInTheReadme() throws Exception {
        String readme = Files.readString(Path.of("..", "README.md"));
        for (ConfigKeys.Key key : ConfigKeys.ALL) {
            String def = key.defaultValue().isEmpty() ? "" : "`" + key.defaultValue() + "`";
            assertThat(readme).as("README row for %s", key.name())
                    .contains("| `" + key.name() + "` | `" + key.envName() + "` | " + def + " | " + key.meaning() + " |");
        }
    }
}
