package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ClosePolicyTest {

    @ParameterizedTest(name = "close {0}: reconnect {1}")
    @CsvSource({
        "1000, true",   // normal close by the server: to stop a client it uses 4500-4999
        "1001, true",   // going away (shutdown, redeploy): after the disconnect hint
        "1005, true",   // no status
        "1006, true",   // no close frame: network, heartbeat timeout
        "1009, true",   // too big: the publication that caused it has failed and is not resent
        "1011, true",   // server error
        "1012, true",   // service restart
        "1013, true",   // try again later
        "3000, true",
        "4000, true",
        "4001, true",   // token expired or re-auth failed: fresh token
        "4002, true",   // heartbeat timeout
        "4008, true",   // rate limited
        "4009, true",   // slow consumer
        "4499, true",
        "4500, false",  // replaced by a newer connection
        "4501, false",  // logged out
        "4503, false",  // protocol violations
        "4999, false",
        "1002, false",  // protocol error
        "1003, false",  // unsupported data
        "1007, false",  // invalid payload
        "1008, false",  // policy violation
        "1010, false",  // mandatory extension
    })
    void closeCodes(int code, boolean reconnect) {
        assertThat(ClosePolicy.reconnectAfterClose(code)).isEqualTo(reconnect);
    }

    @ParameterizedTest(name = "HTTP {0}: retry {1}")
    @CsvSource({
        "401, true",    // token refused: fresh token, backoff
        "408, true",
        "425, true",
        "429, true",    // too many attempts or connections: wait Retry-After
        "500, true",
        "502, true",
        "503, true",    // draining or full
        "504, true",
        "400, false",   // malformed request: retrying sends the same
        "403, false",   // origin not allowed
        "404, false",   // wrong path
        "426, false",   // wrong WebSocket version
        "302, false",
    })
    void handshakeRefusals(int status, boolean retry) {
        assertThat(ClosePolicy.reconnectAfterRefusal(status)).isEqualTo(retry);
    }
}
