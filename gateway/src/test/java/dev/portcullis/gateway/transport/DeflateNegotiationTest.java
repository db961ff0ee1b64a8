package dev.portcullis.gateway.transport;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 7692's negotiation rules, as the server applies them to offers. */
class DeflateNegotiationTest {
    private static final String ANSWER = DeflateNegotiation.ANSWER;

    private static String answer(String... headerValues) {
        return DeflateNegotiation.answer(List.of(headerValues));
    }

    @Test
    void noOfferNoCompression() {
        assertThat(answer()).isNull();
        assertThat(answer("x-webkit-deflate-frame")).isNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "permessage-deflate",
        "permessage-deflate; client_max_window_bits", // what Chromium and Firefox offer
        "Permessage-Deflate ; Client_Max_Window_Bits",
        "permessage-deflate; client_max_window_bits=10",
        "permessage-deflate; client_max_window_bits=\"12\"",
        "permessage-deflate; server_no_context_takeover; client_no_context_takeover",
        "permessage-deflate;client_no_context_takeover",
    })
    void acceptedOffersGetNoContextTakeoverBothWays(String offer) {
        assertThat(answer(offer)).isEqualTo(ANSWER);
    }

    @Test
    void serverMaxWindowBitsOf15IsAcceptedAndEchoed() {
        assertThat(answer("permessage-deflate; server_max_window_bits=15")).isEqualTo(ANSWER + "; server_max_window_bits=15");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "permessage-deflate; server_max_window_bits=10", // our deflater's window is 15 bits, always
        "permessage-deflate; server_max_window_bits", // needs a value
        "permessage-deflate; client_max_window_bits=7",
        "permessage-deflate; client_max_window_bits=16",
        "permessage-deflate; client_max_window_bits=015",
        "permessage-deflate; client_max_window_bits=x",
        "permessage-deflate; server_no_context_takeover=1",
        "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
        "permessage-deflate; mystery",
    })
    void offersItCannotHonourAreDeclined(String offer) {
        assertThat(answer(offer)).isNull();
    }

    @Test
    void aDeclinedOfferFallsBackToTheNextOne() {
        assertThat(answer("permessage-deflate; server_max_window_bits=10, permessage-deflate; client_max_window_bits")).isEqualTo(ANSWER);
        assertThat(answer("x-custom; a=\"1,2\"", "permessage-deflate")).isEqualTo(ANSWER);
    }
}
