package dev.portcullis.gateway.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * Any text frame through {@link MessageCodec#decode}: a message of a known type whose fields hold
 * what the schema promises, or a {@link ProtocolException} with one of its documented codes. Any
 * other throwable (NullPointerException, ClassCastException, IndexOutOfBounds, StackOverflowError)
 * fails: it would close the connection as an internal error instead of answering the client.
 */
class MessageCodecFuzzTest {
    private static final Set<String> CODES = Set.of(
            ProtocolException.BAD_JSON, ProtocolException.UNKNOWN_TYPE, ProtocolException.INVALID_MESSAGE, ProtocolException.BAD_CHANNEL);
    private static final MessageCodec CODEC = new MessageCodec();

    @FuzzTest(maxDuration = "10m")
    void decode(byte[] frame) {
        String text = new String(frame, StandardCharsets.UTF_8);
        ClientMessage message;
        try {
            message = CODEC.decode(text);
        } catch (ProtocolException e) {
            assertThat(CODES).contains(e.code());
            assertThat(e.getMessage()).isNotBlank();
            if (e.id() != null) {
                assertThat(e.id().text()).hasSizeLessThanOrEqualTo(64);
            }
            return;
        }
        assertThat(message).isNotNull();
        if (message.id() != null) {
            assertThat(message.id().text()).hasSizeLessThanOrEqualTo(64);
        }
        switch (message) {
            case ClientMessage.Auth auth -> assertThat(auth.token()).isNotEmpty();
            case ClientMessage.Subscribe subscribe -> {
                assertThat(subscribe.channel()).matches("[A-Za-z0-9_.:-]{1,128}");
                if (subscribe.since() != null) {
                    assertThat(subscribe.since().offset()).isNotNegative();
                    assertThat(subscribe.since().epoch()).isNotNull();
                }
            }
            case ClientMessage.History history -> {
                assertThat(history.channel()).matches("[A-Za-z0-9_.:-]{1,128}");
                assertThat(history.limit()).isPositive();
            }
            case ClientMessage.Unsubscribe unsubscribe -> assertThat(unsubscribe.channel()).matches("[A-Za-z0-9_.:-]{1,128}");
            case ClientMessage.Publish publish -> {
                assertThat(publish.channel()).matches("[A-Za-z0-9_.:-]{1,128}");
                assertThat(publish.data()).as("data is required").isNotNull();
            }
            case ClientMessage.Presence presence -> assertThat(presence.channel()).matches("[A-Za-z0-9_.:-]{1,128}");
            case ClientMessage.Ping ping -> {}
        }
        // Decoding what was decoded again gives the same message: nothing depends on hidden state.
        assertThat(CODEC.decode(text)).isEqualTo(message);
    }
}
