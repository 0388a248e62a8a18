package io.moelab.runtime.generate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;
import static org.quicktheories.generators.SourceDSL.lists;

import io.moelab.runtime.tokenizer.ByteTokenizer;
import io.moelab.runtime.tokenizer.Tokenizer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class TextStreamTest {
    /** The pieces {@code add} gives out for each id, then {@code finish}'s. */
    private static List<String> pieces(Tokenizer tokenizer, int... ids) {
        TextStream stream = new TextStream(tokenizer);
        List<String> out = new ArrayList<>();
        for (int id : ids) {
            out.add(stream.add(id));
        }
        out.add(stream.finish());
        return out;
    }

    private static int[] bytes(String text) {
        byte[] b = text.getBytes(StandardCharsets.UTF_8);
        int[] ids = new int[b.length];
        for (int i = 0; i < b.length; i++) {
            ids[i] = b[i] & 0xFF;
        }
        return ids;
    }

    @Test
    void wordsComeTwoWhitespacesBehindAndTheRestAtTheEnd() {
        // Byte tokens of "ab cd ef": nothing until a second space exists; then the text before the earlier one.
        List<String> out = pieces(new ByteTokenizer(258), bytes("ab cd ef"));
        assertThat(out).containsExactly("", "", "", "", "", "ab", "", "", " cd ef");
        assertThat(String.join("", out)).isEqualTo("ab cd ef");
    }

    @Test
    void aCharacterWhoseBytesSpanTokensWaitsForItsLastByte() {
        // "é" is C3 A9 and "😀" F0 9F 98 80: "a" comes out with the space after "b", " b" with the one after the
        // emoji, and no piece is ever a half character (U+FFFD) although the decoding shows one while the
        // character is incomplete.
        String text = "a b é😀 c d";
        List<String> out = pieces(new ByteTokenizer(258), bytes(text));
        assertThat(String.join("", out)).isEqualTo(text);
        assertThat(out).noneMatch(p -> p.indexOf('\uFFFD') >= 0);
        assertThat(out).containsSubsequence("a", " b", " é😀", " c d");
    }

    @Test
    void theTextOfSpecialTokensIsLeftOutAsDecodeLeavesIt() {
        // Ids 256 and 257 are the byte tokenizer's special ones: decode skips them, so does the stream.
        List<String> out = pieces(new ByteTokenizer(258), 104, 256, 105, 32, 257, 32, 33);
        assertThat(String.join("", out)).isEqualTo("hi  !");
    }

    /**
     * Words joined as transformers' clean-up joins them (clean_up_tokenization): the space before punctuation and
     * contractions dropped, and " ' " made "'": text already given out can change by what follows.
     */
    private static class CleanUpTokenizer implements Tokenizer {
        static final String[] WORDS = {"a", " b", " .", " '", " ", "c", " n't", " ,", " 's", "\n", "d", " ?", " !",
            " 're", " 've", " 'm", "  "};

        @Override
        public int[] encode(String text) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long bytesThroughFirstToken(String text) {
            throw new UnsupportedOperationException();
        }

        @Override
        public String decode(int[] ids) {
            StringBuilder text = new StringBuilder();
            for (int id : ids) {
                text.append(WORDS[id]);
            }
            return text.toString().replace(" .", ".").replace(" ?", "?").replace(" !", "!").replace(" ,", ",")
                    .replace(" ' ", "'").replace(" n't", "n't").replace(" 'm", "'m").replace(" 's", "'s")
                    .replace(" 've", "'ve").replace(" 're", "'re");
        }

        @Override
        public int vocabSize() {
            return WORDS.length;
        }

        @Override
        public OptionalInt eosId() {
            return OptionalInt.empty();
        }

        @Override
        public OptionalInt bosId() {
            return OptionalInt.empty();
        }

        @Override
        public String name() {
            return "clean-up";
        }
    }

    @Test
    void cleanUpNeverChangesWhatWasGivenOut() {
        // "a b ' c": given out word by word, "a b" would have printed " '" before " c" turned "b ' c" into "b'c".
        List<String> out = pieces(new CleanUpTokenizer(), 0, 1, 3, 4, 5);
        assertThat(String.join("", out)).isEqualTo("a b'c").isEqualTo(new CleanUpTokenizer().decode(
                new int[] {0, 1, 3, 4, 5}));
        // Every sequence of such words: the pieces add up to the decoding at once, with no second copy.
        qt().withExamples(3000).withFixedSeed(5)
                .forAll(lists().of(integers().between(0, CleanUpTokenizer.WORDS.length - 1)).ofSizeBetween(0, 14))
                .checkAssert(ids -> {
                    int[] array = ids.stream().mapToInt(Integer::intValue).toArray();
                    assertThat(String.join("", pieces(new CleanUpTokenizer(), array)))
                            .isEqualTo(new CleanUpTokenizer().decode(array));
                });
    }

    @Test
    void aDecoderThatRewritesEarlierTextGetsTheWholeTextOnALineOfItsOwn() {
        // A made-up decoder that upper-cases everything once a fourth token comes: the first word was given out
        // lower-case, so finish gives the whole decoding after a line break rather than a wrong tail.
        Tokenizer shouting = new CleanUpTokenizer() {
            @Override
            public String decode(int[] ids) {
                String text = super.decode(ids);
                return ids.length >= 4 ? text.toUpperCase(java.util.Locale.ROOT) : text;
            }
        };
        TextStream stream = new TextStream(shouting);
        assertThat(stream.add(0) + stream.add(1) + stream.add(4)).isEqualTo("a");
        assertThat(stream.add(5)).isEmpty();
        assertThat(stream.add(1)).isEmpty();
        assertThat(stream.finish()).isEqualTo(System.lineSeparator() + "A B C B");
    }

    @Test
    void aStreamLongerThanItsFirstArrayGivesTheWholeText() {
        // 300 byte tokens, past the 16 ids the stream starts with and several doublings after.
        StringBuilder text = new StringBuilder();
        for (int i = 0; text.length() < 200; i++) {
            text.append(i % 3 == 0 ? "wörd " : i % 3 == 1 ? "日本 " : "x\n");
        }
        int[] ids = bytes(text.toString());
        assertThat(ids.length).isGreaterThan(256);
        List<String> out = pieces(new ByteTokenizer(258), ids);
        assertThat(String.join("", out)).isEqualTo(text.toString());
        assertThat(out).noneMatch(p -> p.indexOf('\uFFFD') >= 0);
        // Words came out while the stream ran, not all at the end.
        assertThat(out.get(out.size() - 1).length()).isLessThan(20);
    }

    @Test
    void nothingIsStableInATextOfNoCharactersOrOnlyHalfCharacters() {
        assertThat(TextStream.stableEnd("")).isZero();
        assertThat(TextStream.stableEnd("\uFFFD")).isZero();
        assertThat(TextStream.stableEnd("\uFFFD\uFFFD\uFFFD")).isZero();
        assertThat(TextStream.stableEnd("a b \uFFFD")).isEqualTo(1);
        // The first byte of a three-byte character alone decodes to U+FFFD: nothing to give out yet.
        TextStream stream = new TextStream(new ByteTokenizer(258));
        assertThat(stream.add(0xE2)).isEmpty();
        assertThat(stream.add(0x82)).isEmpty();
        assertThat(stream.add(0xAC)).isEmpty();
        assertThat(stream.finish()).isEqualTo("\u20AC");
    }

    @Test
    void negativeIdsAreRefusedAsDecodeRefusesThem() {
        assertThatThrownBy(() -> new TextStream(new ByteTokenizer(258)).add(-1))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }

    @Test
    void noTokensFinishEmpty() {
        assertThat(new TextStream(new ByteTokenizer(258)).finish()).isEmpty();
    }
}
