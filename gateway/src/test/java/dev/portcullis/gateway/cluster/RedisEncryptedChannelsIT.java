package dev.portcullis.gateway.cluster;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Level;
import dev.portcullis.gateway.testing.Envelopes;
import dev.portcullis.gateway.testing.LogCapture;
import dev.portcullis.gateway.testing.RedisServer;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Encrypted channels with the Redis broker: the envelope crosses instances, Redis Streams history,
 * recovery on another instance and idempotent publishing unchanged, and what Redis holds is the
 * ciphertext only (a plaintext publish was refused before it reached Redis).
 */
class RedisEncryptedChannelsIT {
    private static final String CHANNEL = "secret:vault-7";
    private static final String REFUSED_MARKER = "REFUSED-PLAINTEXT-7d2a";
    private static final String SECRET_MARKER = "ENCRYPTED-PLAINTEXT-b83e";

    private static Map<String, Object> config(RedisServer redis, String instance) {
        return Map.of("broker.type", "redis", "broker.redis-url", redis.url(), "broker.instance-id", instance,
                "broker.redis-timeout", "1s", "channels.encrypted", List.of("secret:*"), "history.channels", List.of("secret:*=100/1h"));
    }

    private static WsClient connected(TestGateway gateway, String user) {
        String token = Tokens.hs256(b -> b.subject(user).claim("channels", Map.of("secret:*", "rw"))
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
        WsClient client = WsClient.connect(gateway.uri(token));
        client.awaitMessage("connected");
        return client;
    }

    @Test
    void envelopesCrossInstancesThroughStreamsHistoryRecoveryAndIdempotencyAndRedisHoldsNoPlaintext() {
        byte[] key = Envelopes.key();
        try (LogCapture logs = LogCapture.of(Level.TRACE, "dev.portcullis");
                RedisServer redis = RedisServer.start();
                TestGateway a = TestGateway.start(config(redis, "a"));
                TestGateway b = TestGateway.start(config(redis, "b"))) {
            WsClient publisher = connected(a, "publisher");
            WsClient reader = connected(b, "reader");
            reader.send("{\"type\":\"subscribe\",\"channel\":\"" + CHANNEL + "\"}");
            String epoch = reader.awaitMessage("ack").path("epoch").asText();

            publisher.send("{\"type\":\"publish\",\"id\":\"plain\",\"channel\":\"" + CHANNEL + "\",\"data\":{\"text\":\"" + REFUSED_MARKER + "\"}}");
            assertThat(publisher.awaitMessage("error").path("code").asText()).isEqualTo("invalid_message");
            assertThat(a.api("POST", "/api/publish", "{\"channel\":\"" + CHANNEL + "\",\"data\":\"" + REFUSED_MARKER + "\"}").statusCode())
                    .isEqualTo(400);

            // the subscription reaches Redis asynchronously: the first envelope is published until it arrives
            String first = Envelopes.encrypt(key, "k1", CHANNEL, "{\"text\":\"" + SECRET_MARKER + " 1\"}");
            await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(100)).until(() -> {
                a.publish(CHANNEL, first);
                return reader.pollMessage("message", Duration.ofMillis(200)) != null;
            });
            reader.drainMessages(Duration.ofMillis(300));

            String keyed = Envelopes.encrypt(key, "k1", CHANNEL, "{\"text\":\"" + SECRET_MARKER + " 2\"}");
            String keyedPublish = "{\"type\":\"publish\",\"id\":\"k\",\"channel\":\"" + CHANNEL + "\",\"idempotencyKey\":\"vault-once\",\"data\":" + keyed + "}";
            publisher.send(keyedPublish);
            long keyedOffset = publisher.awaitMessage("ack").path("offset").asLong();
            publisher.send(keyedPublish);
            assertThat(publisher.awaitMessage("ack").path("offset").asLong()).as("the repeat publishes nothing").isEqualTo(keyedOffset);
            assertThat(reader.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, keyedOffset, epoch, keyed));
            assertThat(reader.staysQuiet(Duration.ofMillis(300))).as("the repeat was not delivered").isTrue();

            // history and recovery on the other instance, from Redis Streams: the same bytes
            reader.send("{\"type\":\"history\",\"channel\":\"" + CHANNEL + "\",\"since\":{\"offset\":" + (keyedOffset - 1) + ",\"epoch\":\"" + epoch + "\"}}");
            assertThat(reader.awaitText("history")).contains("{\"offset\":" + keyedOffset + ",\"data\":" + keyed + "}");
            WsClient late = connected(b, "late");
            late.send("{\"type\":\"subscribe\",\"channel\":\"" + CHANNEL + "\",\"since\":{\"offset\":" + (keyedOffset - 1) + ",\"epoch\":\"" + epoch + "\"}}");
            assertThat(late.awaitMessage("ack").path("recovered").asBoolean()).isTrue();
            assertThat(late.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, keyedOffset, epoch, keyed));

            // Redis holds the envelopes (ciphertext) and neither the refused plaintext nor the encrypted one
            Map<String, String> contents = redis.contentsUnder("portcullis:");
            assertThat(contents.values()).as("a stream entry holds the published envelope")
                    .anyMatch(text -> text.startsWith("stream: ") && text.contains(Envelopes.ct(keyed)));
            assertThat(contents).allSatisfy((redisKey, text) -> assertThat(text).as(redisKey)
                    .doesNotContain(REFUSED_MARKER).doesNotContain(SECRET_MARKER));
            List.of(publisher, reader, late).forEach(WsClient::close);

            assertThat(logs.lines()).as("log lines").isNotEmpty()
                    .noneMatch(line -> line.contains(REFUSED_MARKER) || line.contains(Envelopes.ct(first)) || line.contains(Envelopes.ct(keyed)));
        }
    }
}
