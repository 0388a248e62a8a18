package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;
import static org.quicktheories.generators.SourceDSL.strings;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.quicktheories.core.Gen;

class ByteTokenizerTest {
    private final ByteTokenizer tok = new ByteTokenizer(258);

    /** Well-formed strings: any code points but surrogates, BMP and beyond. */
    static Gen<String> wellFormed() {
        return lists().of(integers().between(0, 0x10FFFF - 0x800)).ofSizeBetween(0, 40).map(ByteTokenizerTest::string);
    }

    private static String string(List<Integer> cps) {
        StringBuilder sb = new StringBuilder();
        for (int cp : cps) {
            sb.appendCodePoint(cp >= 0xD800 ? cp + 0x800 : cp);
        }
        return sb.toString();
    }

    @Test
    void roundTripsAnyWellFormedString() {
        qt().forAll(wellFormed()).checkAssert(s -> assertThat(tok.decode(tok.encode(s))).isEqualTo(s));
    }

    @Test
    void oneIdPerUtf8Byte() {
        qt().forAll(wellFormed()).checkAssert(s -> {
            byte[] bytes = s.getBytes(StandardCharsets.UTF_8);
            int[] ids = tok.encode(s);
            assertThat(ids).hasSize(bytes.length);
            for (int i = 0; i < ids.length; i++) {
                assertThat(ids[i]).isEqualTo(bytes[i] & 0xFF);
            }
        });
    }

    @Test
    void unpairedSurrogatesBecomeReplacementCharacters() {
        // allPossible() includes lone surrogates; each comes back as U+FFFD, everything else unchanged.
        qt().forAll(strings().allPossible().ofLengthBetween(0, 30)).checkAssert(s -> {
            StringBuilder expected = new StringBuilder();
            s.codePoints().forEach(cp -> expected.appendCodePoint(cp >= 0xD800 && cp <= 0xDFFF ? 0xFFFD : cp));
            assertThat(tok.decode(tok.encode(s))).isEqualTo(expected.toString());
        });
        assertThat(tok.encode("a\uD800b")).containsExactly('a', 0xEF, 0xBF, 0xBD, 'b');
    }

    @Test
    void handValues() {
        assertThat(tok.encode("")).isEmpty();
        assertThat(tok.encode("Hi")).containsExactly(72, 105);
        assertThat(tok.encode("é€😀")).containsExactly(0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80);
        assertThat(tok.decode(new int[] {0xF0, 0x9F, 0x98, 0x80})).isEqualTo("😀");
    }

    /** A model text is BOS and the bytes, as moelab's models are trained and as generate and perplexity read it. */
    @Test
    void aModelTextIsBosThenTheBytes() {
        Tokenizer.Encoded e = tok.encodeWithSpecialTokens("Hi");
        assertThat(e.prefix()).containsExactly(256);
        assertThat(e.text()).containsExactly(72, 105);
        assertThat(e.suffix()).isEmpty();
        assertThat(e.all()).containsExactly(256, 72, 105);
        assertThat(new ByteTokenizer(257).encodeWithSpecialTokens("Hi").all()).containsExactly(72, 105);
    }

    @Test
    void specialIds() {
        assertThat(tok.bosId()).hasValue(256);
        assertThat(tok.eosId()).hasValue(257);
        assertThat(tok.vocabSize()).isEqualTo(258);
        assertThat(tok.name()).isEqualTo("byte(vocab=258)");
        ByteTokenizer plain = new ByteTokenizer(256);
        assertThat(plain.bosId()).isEmpty();
        assertThat(plain.eosId()).isEmpty();
        ByteTokenizer one = new ByteTokenizer(257);
        assertThat(one.bosId()).isEmpty();
        assertThat(one.eosId()).isEmpty();
        assertThat(new ByteTokenizer(512).eosId()).hasValue(257);
    }

    @Test
    void decodeSkipsSpecialAndOutOfVocabularyIds() {
        assertThat(tok.decode(new int[] {256, 'o', 300, 'k', 257, 1_000_000})).isEqualTo("ok");
        assertThat(tok.decode(new int[] {256, 257})).isEmpty();
        assertThatThrownBy(() -> tok.decode(new int[] {'a', -1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }

    @Test
    void malformedBytesAreReplaced() {
        assertThat(tok.decode(new int[] {'a', 0xFF, 'b'})).isEqualTo("a\uFFFDb");
        assertThat(tok.decode(new int[] {0xC3})).isEqualTo("\uFFFD"); // truncated sequence
        assertThat(tok.decode(new int[] {0x80, 'x'})).isEqualTo("\uFFFDx"); // stray continuation byte
        assertThat(tok.decode(new int[] {0xE2, 0x82, 'x'})).isEqualTo("\uFFFDx");
        assertThat(tok.decode(new int[] {0xED, 0xA0, 0x80})).doesNotContain("\uD800"); // encoded surrogate
    }

    @Test
    void randomIdsAlwaysDecode() {
        qt().forAll(lists().of(integers().between(0, 257)).ofSizeBetween(0, 50)).checkAssert(ids -> {
            int[] a = ids.stream().mapToInt(Integer::intValue).toArray();
            String s = tok.decode(a);
            assertThat(s.codePoints().filter(cp -> cp >= 0xD800 && cp <= 0xDFFF)).isEmpty();
        });
    }

    @Test
    void rejectsVocabularyBelow256() {
        assertThatThrownBy(() -> new ByteTokenizer(255))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("255");
        assertThatThrownBy(() -> new ByteTokenizer(0)).isInstanceOf(IllegalArgumentException.class);
        tok.close(); // a no-op
        assertThat(tok.encode("x")).containsExactly('x');
    }
}
