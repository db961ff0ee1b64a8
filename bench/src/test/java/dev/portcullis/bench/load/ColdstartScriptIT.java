package dev.portcullis.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A smoke run of {@code bench/scripts/coldstart.sh}: the gateway jar without and with its warm-up, and
 * fully warm ({@code steady}: three rounds served before the measured one),
 * a few hundred handshakes each, one run; the summary has a row for every figure. Only that the
 * figures are there is asserted, never what they are.
 */
class ColdstartScriptIT {
    @TempDir
    Path out;

    @Test
    void measuresTheTimeToReadyAndTheCpuOfTheFirstHandshakesPerVariant() throws Exception {
        Path log = out.resolve("coldstart.out");
        ProcessBuilder script = new ProcessBuilder("bash", Path.of("scripts", "coldstart.sh").toString(), out.resolve("runs").toString(),
                "jit", "warm", "steady").redirectErrorStream(true).redirectOutput(log.toFile());
        script.environment().put("RUNS", "1");
        script.environment().put("HANDSHAKES", "300");
        script.environment().put("WARMUP", "2s");
        script.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process process = script.start();
        assertThat(process.waitFor(5, TimeUnit.MINUTES)).as("the script ends").isTrue();
        String output = Files.readString(log);
        assertThat(process.exitValue()).as(output).isZero();
        for (String variant : new String[] {"jit", "warm", "steady"}) {
            String measured = variant.equals("steady") ? "the 300 after 3 x 300 served" : "first 300";
            assertThat(output).contains("| cold start: " + variant + " | process start to ready (ms) |")
                    .contains("| cold start: " + variant + " | server CPU per 1,000 handshakes, " + measured + " (ms) |")
                    .contains("| cold start: " + variant + " | of which system (ms) |");
            assertThat(out.resolve("runs").resolve(variant + "-1.json").toFile()).isFile();
        }
        for (int round = 1; round <= 3; round++) {
            assertThat(out.resolve("runs").resolve("steady-1-before-" + round + ".json").toFile()).as("steady's unmeasured round %d", round).isFile();
        }
        assertThat(new File(out.toFile(), "runs/warm-1.log")).isFile();
    }
}
