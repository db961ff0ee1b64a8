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
 * @param publications publications after the requested position, in offset order (on an encrypted
 *                     channel: those that decrypted, with their plaintext data)
 * @param failed       on an encrypted channel, the publications of the page that did not decrypt, in
 *                     offset order (left out of {@code publications}); empty elsewhere
 */
public record HistoryPage(String channel, long offset, String epoch, boolean complete, List<Message> publications,
        List<DecryptFailure> failed) {
    public HistoryPage {
        publications = List.copyOf(publications);
        failed = List.copyOf(failed);
    }

    /** A page without decryption failures. */
    public HistoryPage(String channel, long offset, String epoch, boolean complete, List<Message> publications) {
        this(channel, offset, epoch, complete, publications, List.of());
    }
}
