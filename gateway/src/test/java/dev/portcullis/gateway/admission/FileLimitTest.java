package dev.portcullis.gateway.admission;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class FileLimitTest {
    @Test
    void keepsFivePercentOrAtLeast256FilesForEverythingElse() {
        assertThat(FileLimit.usableConnections(20_000)).isEqualTo(19_000);
        assertThat(FileLimit.usableConnections(1_048_576)).isEqualTo(1_048_576 - 52_428);
        assertThat(FileLimit.usableConnections(1_024)).isEqualTo(768);
        assertThat(FileLimit.usableConnections(100)).isEqualTo(1);
    }

    @Test
    void capsTheConfiguredLimitAndAnUnlimitedOne() {
        assertThat(FileLimit.capConnections(100_000, 20_000)).isEqualTo(19_000);
        assertThat(FileLimit.capConnections(0, 20_000)).isEqualTo(19_000);
        assertThat(FileLimit.capConnections(5_000, 20_000)).isEqualTo(5_000);
        assertThat(FileLimit.capConnections(100_000, -1)).as("unknown limit").isEqualTo(100_000);
    }

    @Test
    void thisProcessHasAKnownLimit() {
        assertThat(FileLimit.current()).isPositive();
    }
}
