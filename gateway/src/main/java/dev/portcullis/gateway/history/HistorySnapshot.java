package dev.portcullis.gateway.history;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UTFDataFormatException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code history.snapshot-file} of the local broker: a {@link MemoryHistory} written on graceful
 * shutdown and read at the next start, so that a restart of a single instance keeps every channel's
 * epoch, offsets and stored publications.
 *
 * <p>Only a clean shutdown produces a loadable snapshot: loading consumes the file (it is deleted,
 * and the deletion made durable, before the history is used), so after a crash the next start finds
 * none, or an older one that a successful load has already removed, and every channel starts a new
 * epoch: clients are told {@code recovered: false} rather than given publications that a stale file
 * says are the latest. A snapshot that cannot be removed is not used, for the same reason.
 *
 * <p>A file that is corrupt (bad magic, unknown version, truncated, a field out of range, a wrong
 * checksum) or unreadable is never used and never stops the start: it is logged, counted
 * ({@code portcullis_history_snapshot_loads_total{outcome}}), moved aside to {@code <file>.corrupt}
 * for inspection, and the gateway starts with empty history (new epochs). Nothing of it is installed
 * before the whole file has been read and its checksum verified.
 *
 * <p>Writing is atomic: into {@code .<file>.tmp} in the same directory, flushed to disk, then renamed
 * over the file, and the directory synced; a crash while writing leaves the old state (no file).
 *
 * <p>Format, version {@value #VERSION}, big-endian ({@link DataOutputStream}): the magic
 * {@code PCHS}, the version (int), the time written (epoch ms, long), the channel count (int); per
 * channel, most recently used first: its name and epoch (modified UTF-8), its last offset (long),
 * its entry count (int), and per entry its offset and publish time (longs) and its data (int length,
 * UTF-8 JSON bytes); then the CRC-32 of everything before it (int). A reader refuses versions it does
 * not know.
 */
public final class HistorySnapshot {
    private static final Logger log = LoggerFactory.getLogger(HistorySnapshot.class);
    static final int MAGIC = 0x50434853; // "PCHS"
    static final int VERSION = 1;
    private static final Pattern CHANNEL = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    private static final Pattern EPOCH = Pattern.compile("[0-9a-f]{8}");
    /** Smallest encoding of one entry: two longs and a length. */
    private static final int MIN_ENTRY_BYTES = 20;
    /** Smallest encoding of one channel: two one-character strings, a long and an int. */
    private static final int MIN_CHANNEL_BYTES = 18;

    /** How a start went with the snapshot file; the lower-case name is the metric's {@code outcome}. */
    public enum Outcome {
        /** No file: the first start, or the last run did not end cleanly. */
        NONE,
        RESTORED,
        CORRUPT,
        /** Could not be read, or could not be removed after reading (so it is not used). */
        FAILED;

        public String tag() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public record Loaded(Outcome outcome, int channels) {}

    /** One channel as written: name, epoch, last offset and its stored entries, oldest first. */
    record Channel(String name, String epoch, long last, List<ChannelLog.Entry> entries) {}

    /** The snapshot is not a sound file of a version this reader knows. */
    static final class CorruptException extends Exception {
        CorruptException(String message) {
            super(message);
        }
    }

    private HistorySnapshot() {}

    /**
     * Loads {@code file} into {@code history} (before its first append) and removes it; see the class
     * comment for what happens when it is absent, corrupt or cannot be removed. Never throws.
     */
    public static Loaded load(Path file, MemoryHistory history) {
        if (!Files.exists(file)) {
            log.info("no history snapshot at {}: channels start new epochs", file);
            return new Loaded(Outcome.NONE, 0);
        }
        MemoryHistory.Restore restore = history.restore();
        long writtenAt;
        try {
            writtenAt = read(file, restore::offer);
        } catch (NoSuchFileException gone) {
            return new Loaded(Outcome.NONE, 0);
        } catch (CorruptException | IOException e) {
            boolean corrupt = e instanceof CorruptException;
            log.error("history snapshot {} is {} ({}); starting with empty history, every channel in a new epoch; the file is moved to {}",
                    file, corrupt ? "corrupt" : "unreadable", e.getMessage(), aside(file));
            moveAside(file);
            return new Loaded(corrupt ? Outcome.CORRUPT : Outcome.FAILED, 0);
        }
        try {
            Files.delete(file);
            syncDirectory(file);
        } catch (IOException e) {
            log.error("history snapshot {} could not be removed after reading it ({}); not using it, since after a crash it would"
                    + " come back stale: starting with empty history", file, e.toString());
            return new Loaded(Outcome.FAILED, 0);
        }
        int channels = restore.commit();
        log.info("restored the history of {} channels from {} (written {} ms before)", channels, file,
                System.currentTimeMillis() - writtenAt);
        return new Loaded(Outcome.RESTORED, channels);
    }

    /** Seals {@code history} (later appends fail) and writes it to {@code file} atomically. */
    public static void save(Path file, MemoryHistory history) throws IOException {
        List<Channel> channels = history.seal();
        write(file, System.currentTimeMillis(), channels);
        log.info("wrote the history of {} channels to {}", channels.size(), file);
    }

    static void write(Path file, long writtenAtMillis, List<Channel> all) throws IOException {
        // Names are validated before they get here; one that is not would make the reader refuse the whole file.
        List<Channel> channels = all.stream().filter(c -> CHANNEL.matcher(c.name()).matches()).toList();
        Path temporary = temporary(file);
        CRC32 crc = new CRC32();
        try (FileChannel channel = FileChannel.open(temporary, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            DataOutputStream out = new DataOutputStream(
                    new BufferedOutputStream(new CheckedOutputStream(Channels.newOutputStream(channel), crc), 1 << 16));
            out.writeInt(MAGIC);
            out.writeInt(VERSION);
            out.writeLong(writtenAtMillis);
            out.writeInt(channels.size());
            for (Channel c : channels) {
                out.writeUTF(c.name());
                out.writeUTF(c.epoch());
                out.writeLong(c.last());
                out.writeInt(c.entries().size());
                for (ChannelLog.Entry entry : c.entries()) {
                    out.writeLong(entry.offset());
                    out.writeLong(entry.atMillis());
                    out.writeInt(entry.data().length);
                    out.write(entry.data());
                }
            }
            out.flush();
            out.writeInt((int) crc.getValue());
            out.flush();
            channel.force(true);
        }
        Files.move(temporary, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        syncDirectory(file);
    }

    /**
     * Reads and checks {@code file}, handing each channel to {@code sink} as it is read (the sink keeps
     * what fits and must not install anything before this returns).
     *
     * @return the time the snapshot was written
     */
    static long read(Path file, Consumer<Channel> sink) throws IOException, CorruptException {
        long size = Files.size(file);
        CRC32 crc = new CRC32();
        try (Counting counting = new Counting(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
            DataInputStream in = new DataInputStream(new CheckedInputStream(counting, crc));
            if (in.readInt() != MAGIC) {
                throw new CorruptException("not a history snapshot");
            }
            int version = in.readInt();
            if (version != VERSION) {
                throw new CorruptException("format version " + version + ", this gateway reads version " + VERSION);
            }
            long writtenAt = in.readLong();
            int count = in.readInt();
            check(count >= 0 && count <= (size - counting.read) / MIN_CHANNEL_BYTES, "channel count " + count);
            Set<String> names = new HashSet<>();
            for (int i = 0; i < count; i++) {
                sink.accept(channel(in, counting, size, names));
            }
            int expected = (int) crc.getValue();
            int stored = in.readInt();
            check(stored == expected, "checksum mismatch");
            check(in.read() == -1, "bytes after the checksum");
            return writtenAt;
        } catch (EOFException e) {
            throw new CorruptException("truncated");
        } catch (UTFDataFormatException e) {
            throw new CorruptException("bad text");
        }
    }

    private static Channel channel(DataInputStream in, Counting counting, long size, Set<String> names) throws IOException, CorruptException {
        String name = in.readUTF();
        check(CHANNEL.matcher(name).matches(), "bad channel name");
        check(names.add(name), "channel listed twice");
        String epoch = in.readUTF();
        check(EPOCH.matcher(epoch).matches(), "bad epoch of " + name);
        long last = in.readLong();
        check(last >= 0, "negative offset in " + name);
        int count = in.readInt();
        check(count >= 0 && count <= last && count <= (size - counting.read) / MIN_ENTRY_BYTES, "entry count " + count + " of " + name);
        List<ChannelLog.Entry> entries = new ArrayList<>(Math.min(count, 1024));
        for (int i = 0; i < count; i++) {
            long offset = in.readLong();
            check(offset == last - count + 1 + i, "offsets of " + name + " not consecutive up to its last");
            long at = in.readLong();
            int length = in.readInt();
            check(length >= 0 && length <= size - counting.read, "entry length " + length + " in " + name);
            byte[] data = in.readNBytes(length);
            if (data.length != length) {
                throw new EOFException();
            }
            entries.add(new ChannelLog.Entry(offset, at, data));
        }
        return new Channel(name, epoch, last, entries);
    }

    private static void check(boolean sound, String problem) throws CorruptException {
        if (!sound) {
            throw new CorruptException(problem);
        }
    }

    private static Path temporary(Path file) {
        return file.resolveSibling("." + file.getFileName() + ".tmp");
    }

    private static Path aside(Path file) {
        return file.resolveSibling(file.getFileName() + ".corrupt");
    }

    /** Out of the way, so that it is neither read again nor lost to inspection; removed if it cannot be moved. */
    private static void moveAside(Path file) {
        try {
            Files.move(file, aside(file), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException again) {
                log.warn("could not move or remove {}: {}", file, again.toString());
            }
        }
    }

    /** Makes a rename or deletion in the file's directory durable. */
    private static void syncDirectory(Path file) throws IOException {
        Path directory = file.toAbsolutePath().getParent();
        try (FileChannel channel = FileChannel.open(directory, StandardOpenOption.READ)) {
            channel.force(true);
        }
    }

    /** Counts the bytes read, so that lengths in the file can be checked against what is left of it. */
    private static final class Counting extends FilterInputStream {
        long read;

        Counting(InputStream in) {
            super(in);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                read++;
            }
            return b;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) throws IOException {
            int n = super.read(buffer, offset, length);
            if (n > 0) {
                read += n;
            }
            return n;
        }

        @Override
        public long skip(long n) throws IOException {
            long skipped = super.skip(n);
            read += skipped;
            return skipped;
        }
    }
}
