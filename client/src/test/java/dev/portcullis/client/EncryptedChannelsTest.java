package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** Which channels a client encrypts, sealing a queued publish, and decrypting history pages. */
class EncryptedChannelsTest {
    private static final MapKeys KEYS = MapKeys.of("k1", 0);
    private final EncryptedChannels encrypted = new EncryptedChannels(List.of("secret:*", "vault"), KEYS);

    @Test
    void namesAndPrefixPatternsAreCovered() {
        assertThat(encrypted.covers("secret:room-1")).isTrue();
        assertThat(encrypted.covers("secret:")).isTrue();
        assertThat(encrypted.covers("vault")).isTrue();
        assertThat(encrypted.covers("vault:2")).isFalse();
        assertThat(encrypted.covers("alerts")).isFalse();
        assertThat(new EncryptedChannels().covers("secret:room-1")).isFalse();
    }

    @Test
    void aPatternWithAStarInsideIsRefusedByTheBuilder() {
        PortcullisClient.Builder builder = PortcullisClient.builder(URI.create("ws://127.0.0.1:1/ws"));
        assertThatThrownBy(() -> builder.encryption(List.of("sec*ret"), KEYS))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("'sec*ret'");
        assertThatThrownBy(() -> builder.encryption(List.of(""), KEYS)).isInstanceOf(IllegalArgumentException.class);
        assertThat(builder.encryption(List.of("*"), KEYS)).isSameAs(builder);
    }

    @Test
    void aPublishToAnEncryptedChannelIsSealedAndOthersAreLeftAlone() {
        JsonNode data = Frames.data("{\"text\":\"hi\"}");
        Request secret = Request.publish("secret:a", data, new CompletableFuture<>());
        Request plain = Request.publish("alerts", data, new CompletableFuture<>());
        assertThat(encrypted.seal(secret)).isTrue();
        assertThat(encrypted.seal(plain)).isTrue();
        assertThat(plain.data).isSameAs(data);
        assertThat(secret.data.has("ct")).isTrue();
        assertThat(new EnvelopeCipher(KEYS).open("secret:a", secret.data)).isEqualTo(data);
    }

    @Test
    void aPublishThatCannotBeSealedFailsItsFuture() {
        CompletableFuture<Long> result = new CompletableFuture<>();
        Request request = Request.publish("secret:a", Frames.data("1"), result);
        assertThat(new EncryptedChannels(List.of("secret:*"), MapKeys.of("k1", 0).withCurrent("k2")).seal(request)).isFalse();
        assertThat(result).isCompletedExceptionally();
    }

    @Test
    void aHistoryPageListsWhatDidNotDecryptAndKeepsTheRest() {
        EnvelopeCipher cipher = new EnvelopeCipher(KEYS);
        List<Message> publications = List.of(
                new Message("secret:a", 5, "e", cipher.seal("secret:a", Frames.data("{\"n\":5}"))),
                new Message("secret:a", 6, "e", cipher.seal("secret:b", Frames.data("{\"n\":6}"))),
                new Message("secret:a", 7, "e", Frames.data("{\"n\":7}")),
                new Message("secret:a", 8, "e", cipher.seal("secret:a", Frames.data("{\"n\":8}"))));
        HistoryPage page = encrypted.open(new HistoryPage("secret:a", 9, "e", true, publications));
        assertThat(page.publications()).extracting(Message::offset).containsExactly(5L, 8L);
        assertThat(page.publications()).extracting(m -> m.data().path("n").asInt()).containsExactly(5, 8);
        assertThat(page.failed()).containsExactly(new DecryptFailure("secret:a", 6, "k1", DecryptFailure.AUTHENTICATION_FAILED),
                new DecryptFailure("secret:a", 7, null, DecryptFailure.MALFORMED));
        assertThat(page.offset()).isEqualTo(9);
        assertThat(page.complete()).isTrue();

        HistoryPage plain = new HistoryPage("alerts", 1, "e", true, List.of(new Message("alerts", 1, "e", Frames.data("1"))));
        assertThat(encrypted.open(plain)).isSameAs(plain);
        assertThat(plain.failed()).isEmpty();
    }
}
