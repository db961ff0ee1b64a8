package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Publications made while disconnected wait in a bounded queue; one over the bound fails at once. */
class OfflineQueueIT {

    @Test
    void publicationsWaitForTheConnectionAndTheBoundRefusesAtOnce() throws Exception {
        try (GatewayFixture gateway = GatewayFixture.start();
                PortcullisClient client = PortcullisClient.builder(gateway.uri())
                        .token(() -> GatewayFixture.token("ola", Duration.ofHours(1), Map.of("room:q", "rw")))
                        .offlineQueue(3)
                        .sendRate(0, 1)
                        .build()) {
            List<CompletableFuture<Long>> queued = IntStream.rangeClosed(1, 3)
                    .mapToObj(n -> client.publish("room:q", "{\"n\":" + n + "}"))
                    .toList();
            CompletableFuture<Long> overflow = client.publish("room:q", "{\"n\":4}");
            assertThat(overflow).isCompletedExceptionally(); // at once, before publish returned
            assertThatThrownBy(overflow::join).cause().isInstanceOf(OfflineQueueFullException.class)
                    .hasMessageContaining("3");
            assertThat(queued).noneMatch(CompletableFuture::isDone);

            client.connect().get(10, TimeUnit.SECONDS);
            List<Long> offsets = queued.stream().map(f -> f.orTimeout(10, TimeUnit.SECONDS).join()).toList();
            assertThat(offsets).containsExactly(offsets.get(0), offsets.get(0) + 1, offsets.get(0) + 2); // sent in order

            // the bound counts pending publications only: room again
            assertThat(client.publish("room:q", "{\"n\":5}").get(10, TimeUnit.SECONDS)).isEqualTo(offsets.get(0) + 3);
        }
    }

    @Test
    void closingFailsWhatIsStillQueued() {
        try (GatewayFixture gateway = GatewayFixture.start()) {
            PortcullisClient client = PortcullisClient.builder(gateway.uri())
                    .token(() -> GatewayFixture.token("pia", Duration.ofHours(1), Map.of("room:q", "rw")))
                    .build();
            CompletableFuture<Long> queued = client.publish("room:q", "1");
            client.close();
            assertThatThrownBy(() -> queued.get(10, TimeUnit.SECONDS)).cause().isInstanceOf(ClientClosedException.class);
            assertThatThrownBy(() -> client.publish("room:q", "2").join()).cause().isInstanceOf(ClientClosedException.class);
        }
    }
}
