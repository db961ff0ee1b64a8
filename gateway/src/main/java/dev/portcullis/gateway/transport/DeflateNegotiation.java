package dev.portcullis.gateway.transport;

import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The server's side of permessage-deflate negotiation (RFC 7692 section 5 and 7.1): reads a
 * request's {@code Sec-WebSocket-Extensions} offers and answers the first one the gateway can honour,
 * always as {@code permessage-deflate; server_no_context_takeover; client_no_context_takeover}.
 *
 * <p>Why exactly this answer: without context takeover on our side, each message is compressed on
 * its own, so one compressed frame per publication serves every subscriber; without it on the
 * client's side, each inbound message inflates on its own, with the event loop's inflater reset per
 * message. Neither keeps zlib state per connection. A server may add {@code client_no_context_takeover}
 * to its answer even when the offer did not carry it (7.1.1.2).
 *
 * <p>An offer is declined (and the next one considered) when it is malformed or asks for what we
 * cannot do: an unknown or repeated parameter, a parameter with a value it must not have or without
 * one it must have, a window size outside 8..15 (7.1), or {@code server_max_window_bits} below 15:
 * the JDK's deflater always uses a 32 KiB window, so a smaller one could not be promised. An offer of
 * {@code server_max_window_bits=15} is accepted and echoed, as 7.1.2.1 asks. We never send
 * {@code client_max_window_bits}: the inflater takes any window up to 15 bits.
 */
final class DeflateNegotiation {
    static final String EXTENSION = "permessage-deflate";
    static final String ANSWER = "permessage-deflate; server_no_context_takeover; client_no_context_takeover";

    private DeflateNegotiation() {}

    /**
     * The {@code Sec-WebSocket-Extensions} response value, or null when no offer is acceptable (the
     * connection then runs uncompressed). {@code headerValues} are the request's header lines; each may
     * hold several comma-separated offers.
     */
    static String answer(List<String> headerValues) {
        for (String value : headerValues) {
            for (String offer : splitOutsideQuotes(value, ',')) {
                String answer = answerOne(offer);
                if (answer != null) {
                    return answer;
                }
            }
        }
        return null;
    }

    private static String answerOne(String offer) {
        List<String> parts = splitOutsideQuotes(offer, ';');
        if (!parts.getFirst().trim().equalsIgnoreCase(EXTENSION)) {
            return null;
        }
        Set<String> seen = new HashSet<>();
        boolean serverWindowFifteen = false;
        for (String part : parts.subList(1, parts.size())) {
            int eq = part.indexOf('=');
            String name = (eq < 0 ? part : part.substring(0, eq)).trim().toLowerCase(Locale.ROOT);
            String value = eq < 0 ? null : unquote(part.substring(eq + 1).trim());
            if (!seen.add(name)) {
                return null; // 7.1: a repeated parameter declines the offer
            }
            switch (name) {
                case "server_no_context_takeover", "client_no_context_takeover" -> {
                    if (value != null) {
                        return null;
                    }
                }
                case "server_max_window_bits" -> {
                    int bits = windowBits(value);
                    if (bits != 15) {
                        return null; // invalid, absent or smaller than our deflater's window
                    }
                    serverWindowFifteen = true;
                }
                case "client_max_window_bits" -> {
                    if (value != null && windowBits(value) < 0) {
                        return null;
                    }
                }
                default -> {
                    return null; // unknown parameter
                }
            }
        }
        return serverWindowFifteen ? ANSWER + "; server_max_window_bits=15" : ANSWER;
    }

    /** 8..15 written as 1*DIGIT without a leading zero (7.1.2.1), else -1. */
    private static int windowBits(String value) {
        if (value == null || value.isEmpty() || value.length() > 2 || value.charAt(0) == '0') {
            return -1;
        }
        for (int i = 0; i < value.length(); i++) {
            if (value.charAt(i) < '0' || value.charAt(i) > '9') {
                return -1;
            }
        }
        int bits = Integer.parseInt(value);
        return bits >= 8 && bits <= 15 ? bits : -1;
    }

    /** A quoted-string value (RFC 7230) is allowed; its content must then be a token as well (RFC 6455 9.1). */
    private static String unquote(String value) {
        if (value.length() >= 2 && value.charAt(0) == '"' && value.charAt(value.length() - 1) == '"') {
            return value.substring(1, value.length() - 1);
        }
        return value;
    }

    private static List<String> splitOutsideQuotes(String text, char separator) {
        List<String> parts = new java.util.ArrayList<>();
        boolean quoted = false;
        int start = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') {
                quoted = !quoted;
            } else if (c == separator && !quoted) {
                parts.add(text.substring(start, i));
                start = i + 1;
            }
        }
        parts.add(text.substring(start));
        return parts;
    }
}
