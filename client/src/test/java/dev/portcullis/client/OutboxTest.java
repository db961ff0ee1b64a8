package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class OutboxTest {
    private final Outbox outbox = new Outbox();

    private static Request publish(int n) {
        return Request.publish("room:" + n, IntNode.valueOf(n), new CompletableFuture<>());
    }

    private List<String> drain(long now) {
        List<String> channels = new ArrayList<>();
        for (Request r = outbox.poll(now); r != null; r = outbox.poll(now)) {
            outbox.sent(r);
            channels.add(r.kind + " " + r.channel);
        }
        return channels;
    }

    @Test
    void subscriptionsGoBeforeQueuedPublicationsWhichKeepTheirOrder() {
        outbox.enqueue(publish(1));
        outbox.enqueue(publish(2));
        outbox.enqueue(Request.unsubscribe("news", new CompletableFuture<>()));
        outbox.enqueue(publish(3));
        assertThat(drain(0)).containsExactly("UNSUBSCRIBE news", "PUBLISH room:1", "PUBLISH room:2", "PUBLISH room:3");
    }

    @Test
    void aRateLimitedRequestReturnsToItsPlaceAfterThePause() {
        Request first = publish(1);
        outbox.enqueue(first);
        outbox.enqueue(publish(2));
        String id = outbox.sent(outbox.poll(0));
        assertThat(outbox.answered(id)).isSameAs(first);
        long pauseEnd = outbox.retryLater(first, 500, 0);
        assertThat(pauseEnd).isEqualTo(TimeUnit.MILLISECONDS.toNanos(500));
        assertThat(outbox.poll(TimeUnit.MILLISECONDS.toNanos(499))).isNull();
        assertThat(outbox.pausedForNanos(TimeUnit.MILLISECONDS.toNanos(400))).isEqualTo(TimeUnit.MILLISECONDS.toNanos(100));
        assertThat(drain(pauseEnd)).containsExactly("PUBLISH room:1", "PUBLISH room:2");
    }

    @Test
    void aLostConnectionReturnsWhatWasInFlightAndKeepsQueuedPublications() {
        outbox.enqueue(publish(1));
        outbox.sent(outbox.poll(0));
        outbox.enqueue(publish(2));
        outbox.enqueue(Request.history("alerts", null, 10, new CompletableFuture<>()));
        List<Request> lost = outbox.connectionLost();
        assertThat(lost).extracting(r -> r.kind + " " + r.channel).containsExactly("PUBLISH room:1", "HISTORY alerts");
        assertThat(drain(0)).containsExactly("PUBLISH room:2");
    }

    @Test
    void answersToUnknownIdsAreIgnored() {
        assertThat(outbox.answered("42")).isNull();
        assertThat(outbox.answered(null)).isNull();
    }
}
