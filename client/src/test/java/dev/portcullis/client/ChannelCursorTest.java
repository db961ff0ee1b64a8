package dev.portcullis.client;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.IntNode;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;

class ChannelCursorTest {
    private static final String CHANNEL = "alerts";

    /** Records what the cursor delivers: "S<offset>/<epoch>/<resumed>/<recovered>" and "M<offset>". */
    private final List<String> out = new ArrayList<>();
    private final ChannelCursor.Sink sink = new ChannelCursor.Sink() {
        @Override
        public void subscribed(Subscribed s) {
            assertThat(s.channel()).isEqualTo(CHANNEL);
            out.add("S" + s.offset() + "/" + s.epoch() + "/" + s.resumed() + "/" + s.recovered());
        }

        @Override
        public void message(Message m) {
            out.add("M" + m.offset());
        }
    };

    private static Message message(long offset, String epoch) {
        return new Message(CHANNEL, offset, epoch, IntNode.valueOf((int) offset));
    }

    private void receive(ChannelCursor cursor, String epoch, long... offsets) {
        for (long offset : offsets) {
            cursor.onMessage(message(offset, epoch), sink);
        }
    }

    private static String[] messages(long from, long to) {
        return LongStream.rangeClosed(from, to).mapToObj(o -> "M" + o).toArray(String[]::new);
    }

    @Test
    void aFirstSubscriptionStartsAtTheAckAndDropsDuplicates() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        assertThat(cursor.since()).isNull();
        cursor.onAck(5L, "e1", null, false, sink);
        receive(cursor, "e1", 6, 7, 7, 5, 8);
        assertThat(out).containsExactly("S5/e1/false/false", "M6", "M7", "M8");
        assertThat(cursor.position()).isEqualTo(new Position(8, "e1"));
    }

    @Test
    void aRecoveredResubscriptionContinuesWithoutGapOrDuplicate() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        cursor.onAck(0L, "e1", null, false, sink);
        receive(cursor, "e1", 1, 2, 3);
        cursor.connectionLost();
        assertThat(cursor.since()).isEqualTo(new Position(3, "e1"));
        cursor.awaitAck();
        cursor.onAck(9L, "e1", true, true, sink);
        receive(cursor, "e1", 3, 4, 5, 6, 7, 8, 9, 9, 10);
        assertThat(out).containsExactly("S0/e1/false/false", "M1", "M2", "M3", "S3/e1/true/true",
                "M4", "M5", "M6", "M7", "M8", "M9", "M10");
    }

    @Test
    void anUnrecoveredResubscriptionJumpsToTheServersPosition() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        cursor.onAck(0L, "e1", null, false, sink);
        receive(cursor, "e1", 1, 2);
        cursor.connectionLost();
        cursor.onAck(20L, "e2", false, true, sink);
        receive(cursor, "e2", 15, 21);
        assertThat(out).containsExactly("S0/e1/false/false", "M1", "M2", "S20/e2/true/false", "M21");
    }

    @Test
    void aRecoveredAckInAnotherEpochIsNotTrusted() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, new Position(50, "e1"));
        cursor.onAck(3L, "e2", true, true, sink);
        assertThat(out).containsExactly("S3/e2/true/false");
    }

    @Test
    void aMessageInANewEpochIsReportedAsAGapThenDelivered() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        cursor.onAck(40L, "e1", null, false, sink);
        receive(cursor, "e1", 41);
        receive(cursor, "e2", 1, 2);
        receive(cursor, "e1", 42); // epochs have no order: any change is reported the same way
        assertThat(out).containsExactly("S40/e1/false/false", "M41", "S0/e2/true/false", "M1", "M2", "S41/e1/true/false", "M42");
    }

    @Test
    void aSavedPositionResumesOnTheFirstAck() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, new Position(7, "e1"));
        assertThat(cursor.since()).isEqualTo(new Position(7, "e1"));
        cursor.onAck(8L, "e1", true, true, sink);
        receive(cursor, "e1", 8);
        assertThat(out).containsExactly("S7/e1/true/true", "M8");
    }

    @Test
    void liveMessagesThatOvertakeARecoveredAckWaitForTheReplay() {
        // an auto-subscribed channel: live publications flow before the resubscription's ack
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        cursor.onAck(100L, "e1", null, false, sink);
        cursor.connectionLost();
        cursor.awaitAck();
        receive(cursor, "e1", 105, 106);
        assertThat(out).containsExactly("S100/e1/false/false");
        cursor.onAck(106L, "e1", true, true, sink);
        receive(cursor, "e1", 101, 102, 103, 104, 105, 106, 107);
        List<String> expected = new ArrayList<>(List.of("S100/e1/false/false", "S100/e1/true/true"));
        expected.addAll(List.of(messages(101, 107)));
        assertThat(out).containsExactlyElementsOf(expected);
    }

    @Test
    void waitingMessagesAreReleasedByALaterOneIfTheReplayNeverComes() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, new Position(10, "e1"));
        receive(cursor, "e1", 13, 12);
        cursor.onAck(13L, "e1", true, true, sink);
        assertThat(out).containsExactly("S10/e1/true/true");
        receive(cursor, "e1", 14);
        // offset 11 never came: the application is told (a gap) before 12 is delivered
        assertThat(out).containsExactly("S10/e1/true/true", "S11/e1/true/false", "M12", "M13", "M14");
    }

    @Test
    void messagesBeforeAnUnrecoveredAckAreFilteredByItsPosition() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        receive(cursor, "e1", 103, 105);
        cursor.onAck(104L, "e1", null, false, sink);
        receive(cursor, "e1", 106);
        assertThat(out).containsExactly("S104/e1/false/false", "M105", "M106");
    }

    @Test
    void withoutEpochsOrAckPositionsEverythingAfterAResubscriptionIsDelivered() {
        // a server without history: acks carry no position, messages no epoch
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        cursor.onAck(null, null, null, false, sink);
        receive(cursor, null, 1, 2, 2, 3);
        assertThat(cursor.since()).isNull(); // nothing to recover from without an epoch
        assertThat(cursor.position()).isEqualTo(new Position(3, null));
        cursor.connectionLost();
        cursor.onAck(null, null, null, false, sink);
        receive(cursor, null, 1, 2); // the gateway restarted: offsets begin again
        assertThat(out).containsExactly("S-1/null/false/false", "M1", "M2", "M3", "S-1/null/true/false", "M1", "M2");
    }

    @Test
    void theHeldBacklogIsBounded() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        for (long offset = 1; offset <= ChannelCursor.MAX_HELD + 5; offset++) {
            cursor.onMessage(message(offset, "e1"), sink);
        }
        cursor.onAck(0L, "e1", null, false, sink);
        // the dropped 1..5 are reported as a gap before 6
        assertThat(out).hasSize(2 + ChannelCursor.MAX_HELD);
        assertThat(out.get(1)).isEqualTo("S5/e1/true/false");
        assertThat(out.get(2)).isEqualTo("M6");
    }

    /** Issue 16: the server's gap notice is the same signal as recovered: false, and messages continue after it. */
    @Test
    void aGapNoticeIsReportedAsNotRecoveredAndMessagesContinueAfterIt() {
        ChannelCursor cursor = new ChannelCursor(CHANNEL, null);
        cursor.onAck(0L, "e1", null, false, sink);
        receive(cursor, "e1", 1, 2);
        cursor.onGap(0, "e2", sink);
        receive(cursor, "e2", 1, 2);
        assertThat(out).containsExactly("S0/e1/false/false", "M1", "M2", "S0/e2/true/false", "M1", "M2");
        assertThat(cursor.position()).isEqualTo(new Position(2, "e2"));
    }
}
