package dev.portcullis.gateway.history;

/**
 * Where a channel stands: its latest offset and the epoch of its history. Offsets increase by one
 * per publication within an epoch; a new epoch means the history before it is gone (restart
 * without persistence, eviction), so offsets of different epochs cannot be compared.
 */
public record Position(long offset, String epoch) {}
