package dev.portcullis.gateway.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.text.Normalizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class TextSanitizerTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '~', value = {
        "<script>alert(1)</script>hello              | hello",
        "<b>bold</b>                                 | bold",
        "<a href='https://x'>link</a> text           | link text",
        "<img src=x onerror=alert(1)>                | ~~",
        "<style>p{}</style>styled                    | styled",
        "<svg><script>alert(1)</script></svg>ok      | ok",
        "before<!-- comment -->after                 | beforeafter",
        "x<y                                         | x",
        "<xmp><b>raw</b></xmp>                       | raw",
        "<<b>x                                       | ~~",
        "<<script>script>alert(1)<</script>/script>  | ~~",
        "<p>\"quoted\" 'single' = @ ` + {{tpl}}</p>  | \"quoted\" 'single' = @ ` + {{tpl}}",
        "<i>emoji \uD83D\uDE00</i>                   | emoji \uD83D\uDE00",
        "AT&T <b>x</b> &lt;i&gt; &amp;lt;            | AT&T x &lt;i&gt; &amp;lt;",
        "a < b &#60;c&#62; <u>d</u>                  | a < b &#60;c&#62; d",
        // an unfinished construct the HTML sanitiser leaves as text loses its '<' (SanitizerFuzzTest)
        "a<!-                                        | a!-",
    })
    void removesMarkup(String input, String expected) {
        assertThat(TextSanitizer.sanitize(input)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"a < b && c > d", "I <3 it", "1 <= 2", "AT&T", "&lt;b&gt; stays escaped", "&amp; &#60;", "</ b>",
        "x < y > z", "plain text", "tab\tline\nreturn\r", ""})
    void keepsTextThatIsNotMarkup(String text) {
        assertThat(TextSanitizer.sanitize(text)).isEqualTo(text);
    }

    @Test
    void textWithoutAnythingToDoIsReturnedAsIs() {
        String text = "plain, text: caf\u00e9 \uD83D\uDE00 \u4e2d\u6587";
        assertThat(TextSanitizer.sanitize(text)).isSameAs(text);
    }

    @Test
    void removesControlCharacters() {
        assertThat(TextSanitizer.sanitize("a\u0000b\u0001c\u001bd\u007fe\u0085f\u009fg")).isEqualTo("abcdefg");
        assertThat(TextSanitizer.sanitize("keep\ttab\nnewline\rreturn")).isEqualTo("keep\ttab\nnewline\rreturn");
        assertThat(TextSanitizer.sanitize("line\u2028para\u2029end")).isEqualTo("line\npara\nend");
        assertThat(TextSanitizer.sanitize("lone\uD800 low\uDC00 pair\uD83D\uDE00")).isEqualTo("lone low pair\uD83D\uDE00");
    }

    @Test
    void removesBidirectionalOverridesAndIsolatesButKeepsTheImplicitMarks() {
        // "Trojan Source": RLO makes "txt.exe" display as "exe.txt"
        assertThat(TextSanitizer.sanitize("invoice\u202Etxt.exe")).isEqualTo("invoicetxt.exe");
        assertThat(TextSanitizer.sanitize("a\u202Ab\u202Bc\u202Cd\u202De\u2066f\u2067g\u2068h\u2069i")).isEqualTo("abcdefghi");
        assertThat(TextSanitizer.sanitize("\u05e9\u05dc\u05d5\u05dd\u200F!")).isEqualTo("\u05e9\u05dc\u05d5\u05dd\u200F!");
        assertThat(TextSanitizer.isClean("plain\u202Eevil")).isFalse();
    }

    @Test
    void normalisesToNfc() {
        assertThat(TextSanitizer.sanitize("e\u0301")).isEqualTo("\u00e9");
        assertThat(TextSanitizer.sanitize("\u212b")).isEqualTo("\u00c5");
        assertThat(TextSanitizer.sanitize("e<b></b>\u0301")).isEqualTo("\u00e9");
    }

    @Test
    void normalisesBeforeLookingForMarkup() {
        // The Kelvin sign is not a letter to HTML, but NFC makes it "K": "<K>" must not survive.
        assertThat(TextSanitizer.sanitize("<\u212a>x")).isEqualTo("x");
    }

    @ParameterizedTest
    @ValueSource(strings = {"<script>alert(1)</script>hello", "<<b>x", "&lt;b&gt;", "a < b", "<xmp><b>x</b></xmp>",
        "e\u0301<i>\u0301</i>", "<\u212a>", "a\u0000<b>c\u2028", "<<<<<<<<b>b>b>b>b>b>b>b>x"})
    void isIdempotentAndLeavesNoTag(String input) {
        String once = TextSanitizer.sanitize(input);
        assertThat(TextSanitizer.sanitize(once)).isEqualTo(once);
        assertThat(once).doesNotContainPattern("<[A-Za-z/!?]");
    }

    @Test
    void everyStringBelowCombiningMarksIsNfc() {
        // The fast path skips the normaliser for text made only of characters below U+0300.
        StringBuilder pair = new StringBuilder("xx");
        int notNfc = 0;
        for (char a = 0; a < 0x300; a++) {
            for (char b = 0; b < 0x300; b++) {
                pair.setCharAt(0, a);
                pair.setCharAt(1, b);
                notNfc += Normalizer.isNormalized(pair, Normalizer.Form.NFC) ? 0 : 1;
            }
        }
        assertThat(notNfc).isZero();
    }

    @Test
    void decodesTheReferencesTheHtmlSanitizerWrites() {
        assertThat(TextSanitizer.htmlToText("&lt;&gt;&amp;&#34;&#39;&#x1f600;{<!-- -->{")).isEqualTo("<>&\"'\uD83D\uDE00{{");
        assertThat(TextSanitizer.htmlToText("&unknown; & &#xZZ;")).isEqualTo("&unknown; & &#xZZ;");
    }
}
