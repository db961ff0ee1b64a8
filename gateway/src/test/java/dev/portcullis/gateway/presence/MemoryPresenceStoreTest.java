package dev.portcullis.gateway.presence;

import static org.assertj.core.api.Assertions.assertThat;

import dev.portcullis.gateway.channel.Publication;
import dev.portcullis.gateway.channel.Subscriber;
import dev.portcullis.gateway.channel.SubscriptionIndex;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledByteBufAllocator;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import org.junit.jupiter.api.Test;

class MemoryPresenceStoreTest {
    /** Records the text of every event frame it gets, on the calling thread. */
    static final class Recorder implements Subscriber {
        final List<String> texts = new ArrayList<>();

        @Override
        public Executor executor() {
            return Runnable::run;
        }

        @Override
        public void deliver(Publication publication) {
            ByteBuf payload = publication.retainedFrame();
            try {
                texts.add(payload.toString(StandardCharsets.UTF_8));
            } finally {
                payload.release();
            }
        }

        @Override
        public void flush() {}
    }

    private final SubscriptionIndex index = new SubscriptionIndex();
    private final MemoryPresenceStore store = new MemoryPresenceStore(index, UnpooledByteBufAllocator.DEFAULT);

    @Test
    void aCutListKeepsTheLongestPresentAndSaysItIsIncomplete() {
        for (int i = 0; i < 5; i++) {
            store.join("room:1", new Member("u" + i, "c" + i, Instant.ofEpochMilli(1000 - i)), false);
        }
        Members two = store.members("room:1", 2).join();
        assertThat(two.members()).extracting(Member::connection).containsExactly("c4", "c3");
        assertThat(two.complete()).isFalse();
        Members all = store.members("room:1", 5).join();
        assertThat(all.members()).hasSize(5);
        assertThat(all.complete()).isTrue();
        assertThat(store.members("room:2", 5).join()).isEqualTo(new Members(List.of(), true));
    }

    @Test
    void eachJoinAndLeaveIsAnnouncedOnceAndEmptiedChannelsAreForgotten() {
        Recorder recorder = new Recorder();
        index.subscribe("room:1", recorder);
        Member bob = new Member("b\"o\nb", "c2", Instant.ofEpochMilli(5));
        store.join("room:1", bob, true);
        store.join("room:1", bob, true);
        store.leave("room:1", bob, true);
        store.leave("room:1", bob, true);
        assertThat(recorder.texts).containsExactly(
                "{\"type\":\"join\",\"channel\":\"room:1\",\"user\":\"b\\\"o\\u000ab\",\"connection\":\"c2\"}",
                "{\"type\":\"leave\",\"channel\":\"room:1\",\"user\":\"b\\\"o\\u000ab\",\"connection\":\"c2\"}");
        assertThat(store.localMembers()).isZero();
        assertThat(store.members("room:1", 10).join().members()).isEmpty();
    }

    /** A leave knows only the connection (its since is EPOCH): the listing's ordered view must lose the stored member too. */
    @Test
    void aLeaveRemovesTheMemberFromTheOrderedListing() {
        for (int i = 0; i < 3; i++) {
            store.join("room:1", new Member("u" + i, "c" + i, Instant.ofEpochMilli(100 + i)), false);
        }
        store.leave("room:1", new Member("u1", "c1", Instant.EPOCH), false);
        Members two = store.members("room:1", 2).join();
        assertThat(two.members()).extracting(Member::connection).containsExactly("c0", "c2");
        assertThat(two.complete()).as("exactly max members is the whole channel").isTrue();
        store.join("room:1", new Member("u1", "c1", Instant.ofEpochMilli(1)), false);
        assertThat(store.members("room:1", 2).join().members()).extracting(Member::connection).containsExactly("c1", "c0");
        assertThat(store.localMembers()).isEqualTo(3);
    }
}
