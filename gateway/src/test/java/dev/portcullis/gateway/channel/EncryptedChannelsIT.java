package dev.portcullis.gateway.channel;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import dev.portcullis.gateway.testing.Envelopes;
import dev.portcullis.gateway.testing.HookBackend;
import dev.portcullis.gateway.testing.HookBackend.Answer;
import dev.portcullis.gateway.testing.LogCapture;
import dev.portcullis.gateway.testing.TestGateway;
import dev.portcullis.gateway.testing.Tokens;
import dev.portcullis.gateway.testing.WsClient;
import java.net.http.HttpResponse;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 acceptance 4 and the gateway's half of the rest: on a {@code channels.encrypted} channel
 * only the envelope is published (from a client, the backend API or a publish hook's replacement),
 * and it travels unchanged, byte for byte, through live delivery, history and recovery, where text
 * elsewhere in its namespace is sanitised. Nothing of it is logged, even at TRACE.
 */
class EncryptedChannelsIT {
    private static final String CHANNEL = "secret:room-1";
    /** What a careless client would have leaked: it must be refused, and appear in no log line. */
    private static final String MARKER = "PLAINTEXT-MARKER-4f1c9e";
    private static final byte[] KEY = Envelopes.key();

    private static Map<String, Object> config() {
        return Map.of("channels.encrypted", List.of("secret:*", "vault"), "history.channels", List.of("secret:*=100/1h", "secretary:*=100/1h"),
                // the backend's text is sanitised too here: an envelope still passes as sent
                "channels.sanitize-backend", "true");
    }

    private static WsClient connected(TestGateway gateway, String user) {
        String token = Tokens.hs256(b -> b.subject(user).claim("channels", Map.of("secret:*", "rw", "secretary:*", "rw"))
                .expirationTime(Date.from(Instant.now().plusSeconds(3600))));
        WsClient client = WsClient.connect(gateway.uri(token));
        client.awaitMessage("connected");
        return client;
    }

    private static String publish(String channel, String id, String data) {
        return "{\"type\":\"publish\",\"id\":\"" + id + "\",\"channel\":\"" + channel + "\",\"data\":" + data + "}";
    }

    @Test
    void plaintextIsRefusedEverywhereAndEnvelopesTravelByteForByteThroughLiveHistoryAndRecovery() {
        try (LogCapture logs = LogCapture.of(Level.TRACE, "dev.portcullis");
                TestGateway gateway = TestGateway.start(config())) {
            WsClient sender = connected(gateway, "sender");
            WsClient reader = connected(gateway, "reader");
            reader.send("{\"type\":\"subscribe\",\"channel\":\"" + CHANNEL + "\"}");
            String epoch = reader.awaitMessage("ack").path("epoch").asText();

            // acceptance 4, client: an error naming the field, with the request's id; nothing published
            sender.send(publish(CHANNEL, "p1", "{\"text\":\"" + MARKER + "\"}"));
            JsonNode refused = sender.awaitAnyOf("ack", "error");
            assertThat(refused.path("type").asText()).isEqualTo("error");
            assertThat(refused.path("id").asText()).isEqualTo("p1");
            assertThat(refused.path("code").asText()).isEqualTo("invalid_message");
            assertThat(refused.path("message").asText()).isEqualTo("$.data.v: v is required");
            sender.send(publish(CHANNEL, "p2", "\"" + MARKER + "\""));
            assertThat(sender.awaitAnyOf("ack", "error").path("message").asText()).startsWith("$.data: this channel is end-to-end encrypted");
            String badIv = Envelopes.encrypt(KEY, "k1", CHANNEL, "1").replaceFirst("\"iv\":\"[^\"]*\"", "\"iv\":\"AAAA\"");
            sender.send(publish(CHANNEL, "p3", badIv));
            assertThat(sender.awaitAnyOf("ack", "error").path("message").asText()).isEqualTo("$.data.iv: iv must be base64url (no padding) of 12 bytes");

            // acceptance 4, backend API: 400 with the same code and message; a broadcast that includes the channel publishes nowhere
            HttpResponse<String> api = gateway.api("POST", "/api/publish", "{\"channel\":\"" + CHANNEL + "\",\"data\":{\"text\":\"" + MARKER + "\"}}");
            assertThat(api.statusCode()).isEqualTo(400);
            assertThat(WsClient.json(api.body()).path("error").asText()).isEqualTo("invalid_message");
            assertThat(WsClient.json(api.body()).path("message").asText()).isEqualTo("$.data.v: v is required");
            HttpResponse<String> broadcast = gateway.api("POST", "/api/broadcast",
                    "{\"channels\":[\"secretary:desk\",\"" + CHANNEL + "\"],\"data\":{\"text\":\"" + MARKER + "\"}}");
            assertThat(broadcast.statusCode()).isEqualTo(400);
            // "lobby" and "vault" share the namespace "": the plain channel's prepared data must not stand in for the encrypted one's
            assertThat(gateway.api("POST", "/api/broadcast", "{\"channels\":[\"lobby\",\"vault\"],\"data\":{\"text\":\"" + MARKER + "\"}}")
                    .statusCode()).isEqualTo(400);
            assertThat(gateway.metric("portcullis_validation_failures_total{namespace=\"secret\"}")).isEqualTo(5);
            assertThat(gateway.metric("portcullis_validation_failures_total{namespace=\"default\"}")).isEqualTo(1);

            // a valid envelope, from a client and from the API: published, delivered exactly as sent, not sanitised
            // (the kid holds markup the text sanitiser would strip; the namespace "secretary" next door is sanitised)
            String fromClient = Envelopes.encrypt(KEY, "<b>k1</b>", CHANNEL, "{\"text\":\"hello\"}");
            sender.send(publish(CHANNEL, "p4", fromClient));
            JsonNode ack = sender.awaitAnyOf("ack", "error");
            assertThat(ack.path("type").asText()).as(ack.toString()).isEqualTo("ack");
            assertThat(ack.path("offset").asLong()).as("refused publications took no offset").isEqualTo(1);
            String fromApi = Envelopes.encrypt(KEY, "k2", CHANNEL, "{\"text\":\"from the backend\"}");
            assertThat(gateway.publish(CHANNEL, fromApi)).isEqualTo(2);
            assertThat(reader.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, 1, epoch, fromClient));
            assertThat(reader.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, 2, epoch, fromApi));
            sender.send(publish("secretary:desk", "p5", "{\"kid\":\"<b>k1</b>\"}"));
            sender.awaitMessage("ack");
            reader.send("{\"type\":\"history\",\"channel\":\"secretary:desk\"}");
            assertThat(reader.awaitMessage("history").path("publications").get(0).path("data").path("kid").asText())
                    .as("the same text on a plain channel is sanitised").isEqualTo("k1");

            // idempotent publishing is unchanged: the repeat gets the first one's offset and publishes nothing
            String keyed = Envelopes.encrypt(KEY, "k1", CHANNEL, "{\"text\":\"once\"}");
            String keyedPublish = "{\"type\":\"publish\",\"id\":\"k\",\"channel\":\"" + CHANNEL + "\",\"idempotencyKey\":\"once-1\",\"data\":" + keyed + "}";
            sender.send(keyedPublish);
            assertThat(sender.awaitMessage("ack").path("offset").asLong()).isEqualTo(3);
            sender.send(keyedPublish);
            assertThat(sender.awaitMessage("ack").path("offset").asLong()).isEqualTo(3);
            assertThat(reader.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, 3, epoch, keyed));

            // history: the stored bytes are the published bytes
            reader.send("{\"type\":\"history\",\"channel\":\"" + CHANNEL + "\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch + "\"}}");
            String history = reader.awaitText("history");
            assertThat(history).contains("{\"offset\":1,\"data\":" + fromClient + "}", "{\"offset\":2,\"data\":" + fromApi + "}",
                    "{\"offset\":3,\"data\":" + keyed + "}");

            // recovery: a client that saw nothing gets all three, byte for byte, after recovered: true
            WsClient late = connected(gateway, "late");
            late.send("{\"type\":\"subscribe\",\"channel\":\"" + CHANNEL + "\",\"since\":{\"offset\":0,\"epoch\":\"" + epoch + "\"}}");
            assertThat(late.awaitMessage("ack").path("recovered").asBoolean()).isTrue();
            assertThat(late.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, 1, epoch, fromClient));
            assertThat(late.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, 2, epoch, fromApi));
            assertThat(late.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, 3, epoch, keyed));
            List.of(sender, reader, late).forEach(WsClient::close);

            assertThat(logs.lines()).as("log lines").isNotEmpty()
                    .noneMatch(line -> line.contains(MARKER) || line.contains(Envelopes.ct(fromClient)) || line.contains(Envelopes.ct(fromApi)));
        }
    }

    @Test
    void aPublishHookSeesCiphertextAndItsReplacementMustBeAnEnvelope() {
        try (HookBackend backend = HookBackend.start();
                LogCapture logs = LogCapture.of(Level.TRACE, "dev.portcullis");
                TestGateway gateway = TestGateway.start(Map.of("channels.encrypted", List.of("secret:*"),
                        "hooks.publish", List.of("secret:*=" + backend.url("/publish")), "hooks.secret", "hook-secret-0123456789abcdef-0123"))) {
            WsClient sender = connected(gateway, "hooked-sender");
            WsClient reader = connected(gateway, "hooked-reader");
            reader.send("{\"type\":\"subscribe\",\"channel\":\"" + CHANNEL + "\"}");
            String epoch = reader.awaitMessage("ack").path("epoch").asText();

            // plaintext never reaches the backend: it is refused before the hook is called
            sender.send(publish(CHANNEL, "plain", "{\"text\":\"" + MARKER + "\"}"));
            assertThat(sender.awaitMessage("error").path("code").asText()).isEqualTo("invalid_message");
            assertThat(backend.count()).isZero();

            String original = Envelopes.encrypt(KEY, "k1", CHANNEL, "{\"text\":\"hi\"}");
            backend.answer(Answer.json("{\"result\":\"accept\",\"data\":{\"text\":\"" + MARKER + "\"}}"));
            sender.send(publish(CHANNEL, "replaced-by-plaintext", original));
            JsonNode refused = sender.awaitMessage("error");
            assertThat(refused.path("code").asText()).isEqualTo("unavailable");
            assertThat(refused.path("message").asText()).contains("nothing was published");
            assertThat(backend.next().json().path("data").toString()).as("the hook saw the envelope as sent").isEqualTo(original);

            String replacement = Envelopes.encrypt(KEY, "k2", CHANNEL, "{\"text\":\"moderated\"}");
            backend.answer(Answer.json("{\"result\":\"accept\",\"data\":" + replacement + "}"));
            sender.send(publish(CHANNEL, "replaced-by-envelope", original));
            assertThat(sender.awaitMessage("ack").path("offset").asLong()).as("the refused replacement took no offset").isEqualTo(1);
            assertThat(reader.awaitText("message")).isEqualTo(Envelopes.messageFrame(CHANNEL, 1, epoch, replacement));
            List.of(sender, reader).forEach(WsClient::close);

            assertThat(logs.lines()).as("the refused replacement is logged as refused, without its data")
                    .anyMatch(line -> line.contains("answered data the channel does not accept: $.data.v: v is required"))
                    .noneMatch(line -> line.contains(MARKER) || line.contains(Envelopes.ct(original)) || line.contains(Envelopes.ct(replacement)));
        }
    }
}
