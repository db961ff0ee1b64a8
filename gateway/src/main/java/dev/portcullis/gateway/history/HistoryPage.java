package dev.portcullis.gateway.history;

import java.util.List;

/**
 * An answer to "what came after offset N?".
 *
 * @param position the channel's latest offset and its epoch
 * @param complete true when {@code publications} are every publication after the asked offset
 *     (up to the limit): the history still reaches back that far
 * @param publications oldest first
 */
public record HistoryPage(Position position, boolean complete, List<Entry> publications) {
    /**
     * One stored publication: its offset, the JSON text of its data, and when it was published
     * (epoch ms by the publisher's clock; 0 when the store does not keep it). The publish time tells
     * two publications at one offset apart after a failover that reused offsets.
     */
    public record Entry(long offset, String dataJson, long publishedAt) {
        public Entry(long offset, String dataJson) {
            this(offset, dataJson, 0);
        }
    }

    public HistoryPage {
        publications = List.copyOf(publications);
    }
}
