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
    /** One stored publication: its offset and the JSON text of its data. */
    public record Entry(long offset, String dataJson) {}

    public HistoryPage {
        publications = List.copyOf(publications);
    }
}
