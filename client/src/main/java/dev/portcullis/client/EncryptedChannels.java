package dev.portcullis.client;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * A client's encrypted channels (names and {@code prefix*} patterns, the gateway's
 * {@code channels.encrypted} syntax) and the cipher for them: publications to these channels are
 * sealed before they are queued, and everything received on them is opened before the application
 * sees it. {@link #seal} and {@link #open} on the client thread only (the {@link EnvelopeCipher} is
 * not thread-safe); {@link #covers} from any thread (the patterns are fixed at construction).
 */
final class EncryptedChannels {
    private final Set<String> exact = new HashSet<>();
    private final List<String> prefixes = new ArrayList<>();
    private final EnvelopeCipher cipher;

    /** No channel is encrypted. */
    EncryptedChannels() {
        this.cipher = null;
    }

    /** {@code patterns} (validated by {@link #validate}) encrypted with {@code keys}. */
    EncryptedChannels(List<String> patterns, ChannelKeys keys) {
        for (String pattern : patterns) {
            if (pattern.endsWith("*")) {
                prefixes.add(pattern.substring(0, pattern.length() - 1));
            } else {
                exact.add(pattern);
            }
        }
        this.cipher = new EnvelopeCipher(keys);
    }

    /** A copy of {@code patterns}; throws {@link IllegalArgumentException} naming a bad one. */
    static List<String> validate(List<String> patterns) {
        Objects.requireNonNull(patterns, "channels");
        for (String pattern : patterns) {
            if (pattern == null || pattern.isEmpty() || pattern.indexOf('*') >= 0 && pattern.indexOf('*') != pattern.length() - 1) {
                throw new IllegalArgumentException("encrypted channels are channel names or prefix patterns ending in *; got "
                        + (pattern == null ? "null" : "'" + pattern + "'"));
            }
        }
        return List.copyOf(patterns);
    }

    boolean covers(String channel) {
        if (cipher == null) {
            return false;
        }
        if (exact.contains(channel)) {
            return true;
        }
        for (String prefix : prefixes) {
            if (channel.startsWith(prefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Replaces a publish request's data by its envelope when its channel is encrypted. False, with
     * the request failed, when it cannot be sealed (no kid or key): nothing is sent then.
     */
    boolean seal(Request request) {
        if (!covers(request.channel)) {
            return true;
        }
        try {
            request.data = cipher.seal(request.channel, request.data);
            return true;
        } catch (PortcullisException e) {
            request.fail(e);
            return false;
        }
    }

    /** The message with its data decrypted; throws {@link DecryptFailedException}. Only for covered channels. */
    Message open(Message message) {
        return new Message(message.channel(), message.offset(), message.epoch(), cipher.open(message.channel(), message.data()));
    }

    /** The page with its publications decrypted: those that fail are left out and listed in {@link HistoryPage#failed()}. */
    HistoryPage open(HistoryPage page) {
        if (!covers(page.channel())) {
            return page;
        }
        List<Message> opened = new ArrayList<>(page.publications().size());
        List<DecryptFailure> failed = new ArrayList<>();
        for (Message message : page.publications()) {
            try {
                opened.add(open(message));
            } catch (DecryptFailedException e) {
                failed.add(e.failure(message.channel(), message.offset()));
            }
        }
        return new HistoryPage(page.channel(), page.offset(), page.epoch(), page.complete(), opened, failed);
    }
}
