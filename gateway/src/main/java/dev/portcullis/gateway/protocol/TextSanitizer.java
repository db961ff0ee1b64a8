package dev.portcullis.gateway.protocol;

import java.text.Normalizer;
import org.owasp.html.HtmlPolicyBuilder;
import org.owasp.html.PolicyFactory;

/**
 * The {@code text} sanitising of one string. Contract of the result, which clients should rely on:
 * <ul>
 *   <li>It is plain text, meant for {@code textContent} (or any API that does not parse markup). As
 *       a safety net it contains no HTML tag: inserted as element content even through
 *       {@code innerHTML} it shows as text. It is not escaped for any other context (attribute
 *       values, URLs, scripts, CSS): escape it there as for any text.
 *   <li>HTML tags, comments and the content of {@code script}, {@code style} and similar elements
 *       are removed (OWASP Java HTML Sanitizer with a policy that allows nothing). As in HTML, a
 *       {@code <} directly followed by a letter, {@code !} or {@code ?}, or {@code </} followed by
 *       a letter, starts markup: {@code x<y} becomes {@code x}, while {@code a < b},
 *       {@code I <3 it} and {@code </ b>} stay as they are.
 *   <li>{@code &} is an ordinary character: character references are not decoded, so
 *       {@code &lt;b&gt;} stays exactly that (it cannot turn into a tag) and {@code AT&T} stays too.
 *   <li>Control characters are removed: C0 except tab, line feed and carriage return; DEL; C1; and
 *       unpaired surrogates. Line and paragraph separators (U+2028, U+2029) become line feeds.
 *   <li>Bidirectional embeddings, overrides and isolates (U+202A-U+202E, U+2066-U+2069) are
 *       removed: they make text display differently from what it says ("Trojan Source"). The
 *       implicit marks (U+200E, U+200F, U+061C) and other format characters (zero-width) are
 *       kept: this is not a defence against look-alike text.
 *   <li>The result is in Unicode NFC.
 * </ul>
 * Sanitising is idempotent. Thread-safe; the common string (no {@code <}, no control character,
 * already NFC) is returned as is after one scan, without allocating.
 */
final class TextSanitizer {
    private static final PolicyFactory NO_MARKUP = new HtmlPolicyBuilder().toFactory();
    /** Removing markup can join text into new markup ({@code <<b>x}); bounded so input cannot loop us. */
    private static final int MAX_MARKUP_PASSES = 4;
    private static final String EMPTY_COMMENT = "<!-- -->";

    private TextSanitizer() {}

    static String sanitize(String text) {
        if (isClean(text)) {
            return text;
        }
        // Order matters: NFC before markup removal so that, e.g., "<\u212A" (Kelvin sign) becomes
        // "<K" and is seen as a tag, not left to turn into one after the fact.
        String result = Normalizer.normalize(withoutControls(text), Normalizer.Form.NFC);
        if (result.indexOf('<') >= 0) {
            result = withoutMarkup(result);
            // Removing a tag can put a combining mark next to a new base character.
            if (!Normalizer.isNormalized(result, Normalizer.Form.NFC)) {
                result = Normalizer.normalize(result, Normalizer.Form.NFC);
            }
        }
        return result;
    }

    /**
     * True when sanitising would not change {@code text}. Every string of characters below U+0300 is
     * NFC, so the normaliser's own check runs only for text beyond that.
     */
    static boolean isClean(String text) {
        boolean beyondLatin = false;
        int length = text.length();
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c < 0x20) {
                if (c != '\t' && c != '\n' && c != '\r') {
                    return false;
                }
            } else if (c == '<') {
                return false;
            } else if (c >= 0x7F) {
                if (c <= 0x9F || c == '\u2028' || c == '\u2029' || isBidiControl(c)) {
                    return false;
                }
                if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
                    i++;
                } else if (Character.isSurrogate(c)) {
                    return false;
                }
                beyondLatin |= c >= 0x300;
            }
        }
        return !beyondLatin || Normalizer.isNormalized(text, Normalizer.Form.NFC);
    }

    /** The explicit directional formatting characters: embeddings and overrides (LRE..RLO, PDF) and isolates (LRI..PDI). */
    private static boolean isBidiControl(char c) {
        return c >= '\u202A' && c <= '\u202E' || c >= '\u2066' && c <= '\u2069';
    }

    private static String withoutControls(String text) {
        int length = text.length();
        StringBuilder out = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            char c = text.charAt(i);
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c >= 0x7F && c <= 0x9F || isBidiControl(c)) {
                continue;
            }
            if (c == '\u2028' || c == '\u2029') {
                out.append('\n');
            } else if (Character.isHighSurrogate(c) && i + 1 < length && Character.isLowSurrogate(text.charAt(i + 1))) {
                out.append(c).append(text.charAt(++i));
            } else if (!Character.isSurrogate(c)) {
                out.append(c);
            }
        }
        return out.toString();
    }

    /**
     * Removes markup until nothing more changes. {@code &} is escaped on the way in so the
     * sanitiser keeps it literal, and its output (HTML) is turned back into text.
     */
    private static String withoutMarkup(String text) {
        String current = text;
        for (int pass = 0; pass < MAX_MARKUP_PASSES; pass++) {
            String next = htmlToText(NO_MARKUP.sanitize(current.replace("&", "&amp;")));
            if (next.equals(current) || next.indexOf('<') < 0) {
                return withoutMarkupStarts(next);
            }
            current = next;
        }
        // Input built to keep producing new markup: drop what could still start any.
        return current.replace("<", "");
    }

    /**
     * Removes every {@code <} that would still start markup by the rule of the class comment. The
     * OWASP sanitiser leaves an unfinished construct at the end as text ({@code a<!-}, found by
     * SanitizerFuzzTest), which a browser's {@code innerHTML} would still read as the start of a
     * comment. A removal can bring a new {@code <} next to a letter ({@code <<b}, {@code </<b}), so
     * the end of the output is checked again after each one.
     */
    static String withoutMarkupStarts(String text) {
        if (text.indexOf('<') < 0) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            out.append(text.charAt(i));
            for (int start = markupStartAtEnd(out); start >= 0; start = markupStartAtEnd(out)) {
                out.deleteCharAt(start);
            }
        }
        return out.toString();
    }

    /** The index of a {@code <} that starts markup with the last one or two characters of {@code out}, or -1. */
    private static int markupStartAtEnd(StringBuilder out) {
        int n = out.length();
        char last = n == 0 ? 0 : out.charAt(n - 1);
        if (n >= 2 && out.charAt(n - 2) == '<' && (isAsciiLetter(last) || last == '!' || last == '?')) {
            return n - 2;
        }
        if (n >= 3 && out.charAt(n - 3) == '<' && out.charAt(n - 2) == '/' && isAsciiLetter(last)) {
            return n - 3;
        }
        return -1;
    }

    private static boolean isAsciiLetter(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z';
    }

    /**
     * Decodes the HTML the sanitiser writes for text: the character references it emits
     * ({@code &lt;}, {@code &#34;}, {@code &#x1f600;}, ...) and the empty comment it puts between
     * two {@code {} (against template injection). Nothing else in its output is markup.
     */
    static String htmlToText(String html) {
        if (html.indexOf('&') < 0 && html.indexOf('<') < 0) {
            return html;
        }
        int length = html.length();
        StringBuilder out = new StringBuilder(length);
        int i = 0;
        while (i < length) {
            char c = html.charAt(i);
            if (c == '<' && html.startsWith(EMPTY_COMMENT, i)) {
                i += EMPTY_COMMENT.length();
            } else if (c == '&') {
                int end = html.indexOf(';', i);
                int codePoint = end < 0 ? -1 : reference(html, i + 1, end);
                if (codePoint < 0) {
                    out.append(c);
                    i++;
                } else {
                    out.appendCodePoint(codePoint);
                    i = end + 1;
                }
            } else {
                out.append(c);
                i++;
            }
        }
        return out.toString();
    }

    /** The code point of the reference between {@code &} and {@code ;}, or -1. */
    private static int reference(String html, int start, int end) {
        int length = end - start;
        if (length < 2 || length > 8) {
            return -1;
        }
        if (html.charAt(start) == '#') {
            boolean hex = html.charAt(start + 1) == 'x' || html.charAt(start + 1) == 'X';
            try {
                int codePoint = Integer.parseInt(html, hex ? start + 2 : start + 1, end, hex ? 16 : 10);
                return Character.isValidCodePoint(codePoint) ? codePoint : -1;
            } catch (NumberFormatException e) {
                return -1;
            }
        }
        return switch (html.substring(start, end)) {
            case "lt" -> '<';
            case "gt" -> '>';
            case "amp" -> '&';
            case "quot" -> '"';
            case "apos" -> '\'';
            default -> -1;
        };
    }
}
