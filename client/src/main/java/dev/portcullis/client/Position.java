package dev.portcullis.client;

/**
 * A place in a channel's history: the offset of a publication and the epoch of the history it
 * belongs to. Offsets increase by one per publication in a channel; they only compare within one
 * epoch, and a new epoch means the server lost the channel's history.
 *
 * @param offset the offset of the last publication seen (0 when none was published yet)
 * @param epoch  the channel's history epoch; null when the server does not report one, in which case
 *               the position cannot be used to recover
 */
public record Position(long offset, String epoch) {
    public Position {
        if (offset < 0) {
            throw new IllegalArgumentException("offset must not be negative: " + offset);
        }
    }
}
