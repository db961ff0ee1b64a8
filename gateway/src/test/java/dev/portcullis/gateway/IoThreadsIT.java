package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import io.netty.channel.EventLoopGroup;
import java.net.URI;
import java.util.Map;
import java.util.stream.StreamSupport;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code server.io-threads} reaches the event loop group the connections run on: one loop per
 * core by default ({@code 0}), else exactly as many as asked, and the gateway serves on them.
 */
class IoThreadsIT {

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3})
    void theGatewayRunsOnTheAskedNumberOfEventLoops(int ioThreads) throws Exception {
        int expected = ioThreads == 0 ? Runtime.getRuntime().availableProcessors() : ioThreads;
        try (TestGateway gateway = TestGateway.start(Map.of("server.io-threads", ioThreads))) {
            EventLoopGroup workers = gateway.gateway().loops().workers();
            assertThat(StreamSupport.stream(workers.spliterator(), false).count()).isEqualTo(expected);

            // and the gateway serves on them (with one loop, every connection shares it).
            for (int i = 0; i < expected + 2; i++) {
                try (WsClient client = WsClient.connect(URI.create("ws://127.0.0.1:" + gateway.gateway().port() + "/ws?token=" + Tokens.hs256("io-" + i)))) {
                    assertThat(client.awaitMessage("connected").path("user").asText()).isEqualTo("io-" + i);
                }
            }
        }
    }
}
