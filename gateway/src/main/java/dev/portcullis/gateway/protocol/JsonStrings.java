package dev.portcullis.gateway.protocol;

/**
 * A JSON string literal for text written by hand rather than through Jackson (small fixed answers,
 * event texts built once per fan-out): the quote and the backslash escaped, control characters as
 * six-character escapes (backslash, u, four hex digits), everything else as is (JSON text is
 * UTF-8, so no other escape is needed).
 */
public final class JsonStrings {
    private JsonStrings() {}

    /** {@code text} escaped, without the surrounding quotes. */
    public static String escape(String text) {
        StringBuilder out = new StringBuilder(text.length() + 8);
        appendEscaped(out, text);
        return out.toString();
    }

    /** Appends {@code text} as a quoted JSON string. */
    public static void quote(StringBuilder out, String text) {
        out.append('"');
        appendEscaped(out, text);
        out.append('"');
    }

    private static void appendEscaped(StringBuilder out, String text) {
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
    }
}
