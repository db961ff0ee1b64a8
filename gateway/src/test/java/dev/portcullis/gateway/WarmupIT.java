package dev.portcullis.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import dev.portcullis.gateway.transport.WarmupTraffic;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.netty.util.concurrent.EventExecutor;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code server.warmup}: real traffic before readiness, on a throwaway gateway that leaves no trace on the real one. */
class WarmupIT {

    @Test
    void drivesHandshakesFanOutAndTheBackendApi() {
        WarmupTraffic.Result result = Warmup.run(Duration.ofSeconds(3), false, null);

        assertThat(result).isNotNull();
        assertThat(result.stoppedBy()).isEqualTo("deadline");
        assertThat(result.handshakes()).as("holders and at least one cycle").isGreaterThan(WarmupTraffic.tokensNeeded());
        assertThat(result.deliveries()).as("publications fanned out to the holders").isPositive();
        assertThat(result.adminRequests()).as("backend API publish and /metrics answered 2xx").isPositive();
    }

    @Test
    void aServedGatewayIsReadyAfterItsWarmupWithNothingToShowForIt() {
        try (TestGateway gateway = TestGateway.serve(Map.of("server.warmup", "2s", "channels.presence", "warmup"))) {
            assertThat(gateway.gateway().ready()).isTrue();
            assertThat(gateway.gateway().connections().active()).isZero();
            assertThat(countedMeters(gateway)).as("no counter or timer of the real gateway moved").isEmpty();
            HttpResponse<String> presence = gateway.api("GET", "/api/channels/warmup/presence", null);
            assertThat(presence.statusCode()).isEqualTo(200);
            assertThat(WsClient.json(presence.body()).path("members").size()).isZero();
            // The warm-up's channel has no history here: the first publication on it gets offset 1.
            HttpResponse<String> published = gateway.api("POST", "/api/publish", "{\"channel\":\"warmup\",\"data\":{\"n\":1}}");
            assertThat(published.statusCode()).isEqualTo(200);
            assertThat(published.body()).contains("\"offset\":1,");
        }
    }

    @Test
    void runsOnTheRealGatewaysEventLoopsAndLeavesThemServing() throws Exception {
        try (TestGateway real = TestGateway.start(Map.of("server.io-threads", "2"))) {
            Set<Thread> realLoops = new HashSet<>();
            for (EventExecutor loop : real.gateway().loops().workers()) {
                realLoops.add(loop.submit(Thread::currentThread).get(5, TimeUnit.SECONDS));
            }
            CompletableFuture<WarmupTraffic.Result> warmup =
                    CompletableFuture.supplyAsync(() -> Warmup.run(Duration.ofSeconds(2), false, real.gateway()));
            // Loops of the throwaway's own would be I/O threads besides the real gateway's, alive for the whole run.
            Set<String> otherLoops = new TreeSet<>();
            while (!warmup.isDone()) {
                for (Thread thread : Thread.getAllStackTraces().keySet()) {
                    if (thread.getName().startsWith("portcullis-io") && !realLoops.contains(thread)) {
                        otherLoops.add(thread.getName());
                    }
                }
                Thread.sleep(10);
            }
            WarmupTraffic.Result result = warmup.get();
            assertThat(result.handshakes()).as("traffic ran").isGreaterThan(WarmupTraffic.tokensNeeded());
            assertThat(otherLoops).as("I/O threads other than the real gateway's").isEmpty();
            try (WsClient client = WsClient.connect(real.uri(Tokens.hs256("after-warmup")))) {
                assertThat(client.awaitMessage("connected").path("user").asText())
                        .as("the throwaway's close left the shared loops running").isEqualTo("after-warmup");
            }
        }
    }

    @Test
    void everyCycleCompletesUnderTheRealTokenRulesTheBareTokensToo() {
        // An issuer and an audience make both claims required: a bare token without them would be
        // refused, its slot failing each pass (as one with a permission it lacks would).
        try (TestGateway real = TestGateway.start(Map.of("auth.issuer", "https://id.example/", "auth.audience", "chat"))) {
            WarmupTraffic.Result result = Warmup.run(Duration.ofSeconds(2), false, real.gateway());

            assertThat(result.handshakes()).as("traffic ran").isGreaterThan(WarmupTraffic.tokensNeeded());
            assertThat(result.failures()).as("connections that did not complete their cycle").isZero();
        }
    }

    @Test
    void offMeansReadyAtOnce() {
        try (TestGateway gateway = TestGateway.serve(Map.of("server.warmup", "off"))) {
            assertThat(gateway.gateway().ready()).isTrue();
            assertThat(gateway.config().server().warmup()).isZero();
        }
    }

    /** Counters and timers (the JVM's own meters aside) whose count is not zero, by name. */
    private static List<String> countedMeters(TestGateway gateway) {
        List<String> moved = new ArrayList<>();
        for (Meter meter : gateway.gateway().metrics().registry().getMeters()) {
            String name = meter.getId().getName();
            if (!name.startsWith("portcullis.")) {
                continue;
            }
            double count = switch (meter) {
                case Counter c -> c.count();
                case FunctionCounter c -> c.count();
                case Timer t -> t.count();
                default -> 0;
            };
            if (count != 0) {
                moved.add(name + meter.getId().getTags() + "=" + count);
            }
        }
        return moved;
    }
}
