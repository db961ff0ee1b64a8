package dev.portcullis.gateway.session;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** A close frame has 125 bytes of payload: 2 for the code, at most 123 of UTF-8 for the reason. */
class DisconnectTest {

    @Test
    void aLongAsciiReasonIsCutTo123Bytes() {
        String reason = "r".repeat(300);
        Disconnect disconnect = new Disconnect(4001, reason);
        assertThat(utf8Length(disconnect.reason())).isEqualTo(123);
        assertThat(reason).startsWith(disconnect.reason());
    }

    @Test
    void aLongMultiByteReasonIsCutWithoutSplittingACharacter() {
        for (String unit : new String[] {"\u00e9", "\u20ac", "\uD83D\uDE00"}) { // 2, 3 and 4 bytes of UTF-8
            String reason = unit.repeat(300 / unit.length());
            String cut = new Disconnect(4001, reason).reason();
            assertThat(utf8Length(cut)).as("bytes of %s", unit).isLessThanOrEqualTo(123).isGreaterThan(123 - 4);
            assertThat(reason).startsWith(cut);
            assertThat(new String(cut.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8))
                    .as("no half of a surrogate pair").isEqualTo(cut);
        }
    }

    @Test
    void aShortReasonIsKept() {
        assertThat(new Disconnect(4001, "token expired").reason()).isEqualTo("token expired");
        String exactly123 = "x".repeat(123);
        assertThat(new Disconnect(4001, exactly123).reason()).isEqualTo(exactly123);
    }

    private static int utf8Length(String text) {
        return text.getBytes(StandardCharsets.UTF_8).length;
    }
}
