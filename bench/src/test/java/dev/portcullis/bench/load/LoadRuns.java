package dev.portcullis.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The smoke tests' one way to run {@code load ...}: through the real command line, its JSON result read back. */
final class LoadRuns {
    private static final ObjectMapper JSON = new ObjectMapper();

    private LoadRuns() {}

    /** The WebSocket URL of a server on loopback {@code port}. */
    static String wsUrl(int port) {
        return "ws://127.0.0.1:" + port + "/ws";
    }

    /**
     * Runs {@code load args... --url url --out dir/result.json --server-pid <this JVM>} and returns the
     * result, after checking that the run passed its own checks (exit code 0, {@code ok}).
     */
    static JsonNode run(Path dir, String url, String... args) throws IOException {
        Path out = dir.resolve("result.json");
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--url", url, "--out", out.toString(), "--server-pid", Long.toString(ProcessHandle.current().pid())));
        int code = LoadCommand.run(all.toArray(String[]::new));
        assertThat(out).as("the JSON result file").exists();
        JsonNode result = JSON.readTree(Files.readString(out));
        assertThat(code).as("exit code; problems: %s", result.path("problems")).isZero();
        assertThat(result.path("ok").asBoolean()).isTrue();
        return result;
    }
}
