package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestGateway;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code portcullis healthcheck}: the container image's HEALTHCHECK, without curl or a shell. */
class HealthcheckIT {
    @Test
    void zeroWhileReadyOneOnceDrainingOrGone() {
        String url;
        try (TestGateway gateway = TestGateway.start()) {
            url = "http://127.0.0.1:" + gateway.gateway().adminPort() + "/readyz";
            assertThat(run("--url", url)).isZero();
            assertThat(run("--url", "http://127.0.0.1:" + gateway.gateway().adminPort() + "/nope")).as("not 200").isEqualTo(1);
        }
        assertThat(run("--url", url, "--timeout", "1s")).as("nothing listens").isEqualTo(1);
        assertThat(run("--url", "not a url")).isEqualTo(1);
    }

    private static int run(String... args) {
        String[] all = new String[args.length + 1];
        all[0] = "healthcheck";
        System.arraycopy(args, 0, all, 1, args.length);
        return new CommandLine(new Main()).execute(all);
    }
}
