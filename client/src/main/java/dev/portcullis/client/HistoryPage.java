package dev.portcullis.client;

import java.util.List;

/**
 * An answer to {@link PortcullisClient#history}.
 *
 * @param channel      the channel
 * @param offset       the channel's latest offset when the server answered
 * @param epoch        the channel's history epoch
 * @param complete     true when {@code publications} are every publication after the requested
 *                     position (up to the limit); false when the history no longer reaches back that
 *                     far or the requested epoch is not the channel's (then reload state instead)
 * @param publications publications after the requested position, in offset order
 */
public record HistoryPage(String channel, long offset, String epoch, boolean complete, List<Message> publications) {
    public HistoryPage {
        publications = List.copyOf(publications);
    }
}
