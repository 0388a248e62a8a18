package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HuggingFaceTokenizerTest {
    @TempDir
    Path dir;

    private HuggingFaceTokenizer wordLevel() {
        return HuggingFaceTokenizer.open(TokenizerFixtures.write(dir, TokenizerFixtures.WORD_LEVEL));
    }

    @Test
    void encodesExactIdsWithoutSpecialTokens() {
        try (HuggingFaceTokenizer tok = wordLevel()) {
            // The post-processor would add <s> and </s>; encode leaves them out.
            assertThat(tok.encode("the cat sat on the mat.")).containsExactly(3, 4, 5, 6, 3, 7, 11);
            assertThat(tok.encode("a dog ran")).containsExactly(8, 9, 10);
            assertThat(tok.encode("")).isEmpty();
        }
    }

    /**
     * The bytes through the first token, counted in UTF-8 from the library's code-point span (not UTF-16 units,
     * not the token's length): whitespace before it counts, a character outside the BMP is four bytes.
     */
    @Test
    void bytesThroughTheFirstTokenAreUtf8BytesToItsEnd() {
        String json = TokenizerFixtures.WORD_LEVEL.replace("\"a\": 8", "\"h\u00e9llo\": 8");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(TokenizerFixtures.write(dir, json))) {
            assertThat(tok.bytesThroughFirstToken("h\u00e9llo the")).isEqualTo(6);
            assertThat(tok.bytesThroughFirstToken("  h\u00e9llo the")).isEqualTo(8);
            assertThat(tok.bytesThroughFirstToken("\uD83D\uDE00 the")).isEqualTo(4); // [UNK]
            assertThat(tok.bytesThroughFirstToken("the \uD83D\uDE00")).isEqualTo(3);
            assertThat(tok.bytesThroughFirstToken("")).isZero();
            assertThat(tok.bytesThroughFirstToken("   ")).isZero();
        }
        assertThat(new ByteTokenizer(258).bytesThroughFirstToken("\u00e9")).isEqualTo(1);
        assertThat(new ByteTokenizer(258).bytesThroughFirstToken("")).isZero();
    }

    @Test
    void unknownWordsGetTheUnkId() {
        try (HuggingFaceTokenizer tok = wordLevel()) {
            assertThat(tok.encode("the bird sat")).containsExactly(3, 0, 5);
        }
    }

    /**
     * The library accepts a WordLevel model whose {@code unk_token} is not in its vocabulary, and fails only when a
     * text holds an unknown word: that used to end the command in a bare RuntimeException (exit 1, no file named).
     */
    @Test
    void aTextTheFileCannotEncodeIsBlamedOnTheFile() {
        Path file = TokenizerFixtures.write(dir.resolve("unk"), TokenizerFixtures.WORD_LEVEL
                .replace("\"unk_token\": \"[UNK]\"", "\"unk_token\": \"[NONE]\""));
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
            assertThat(tok.encode("the cat")).containsExactly(3, 4);
            assertThatThrownBy(() -> tok.encode("the bird")).isInstanceOf(ModelFormatException.class)
                    .hasMessage(file + ": cannot encode a text: WordLevel error: Missing [UNK] token from the "
                            + "vocabulary");
        }
    }

    @Test
    void decodesAndSkipsSpecialTokens() {
        try (HuggingFaceTokenizer tok = wordLevel()) {
            // No decoder: WordLevel tokens joined by spaces.
            assertThat(tok.decode(new int[] {3, 4, 5, 6, 3, 7, 11})).isEqualTo("the cat sat on the mat .");
            assertThat(tok.decode(new int[] {1, 8, 9, 10, 2})).isEqualTo("a dog ran");
            assertThat(tok.decode(tok.encode("a dog sat on the cat"))).isEqualTo("a dog sat on the cat");
            assertThat(tok.decode(new int[] {3, 12, 4, 99_999})).isEqualTo("the cat"); // beyond the vocabulary
            assertThat(tok.decode(new int[0])).isEmpty();
            assertThatThrownBy(() -> tok.decode(new int[] {3, -2}))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-2");
        }
    }

    @Test
    void longTextIsNotTruncated() {
        try (HuggingFaceTokenizer tok = wordLevel()) {
            String text = IntStream.range(0, 3000).mapToObj(i -> i % 2 == 0 ? "cat" : "dog")
                    .collect(Collectors.joining(" "));
            int[] ids = tok.encode(text);
            assertThat(ids).hasSize(3000);
            assertThat(Arrays.stream(ids).distinct().sorted().toArray()).containsExactly(4, 9);
        }
    }

    @Test
    void vocabularyAndSpecialIds() {
        try (HuggingFaceTokenizer tok = wordLevel()) {
            assertThat(tok.vocabSize()).isEqualTo(12);
            assertThat(tok.bosId()).hasValue(1);
            assertThat(tok.eosId()).hasValue(2);
            assertThat(tok.name()).contains("tokenizer.json").contains("WordLevel").contains("vocab=12");
        }
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(
                TokenizerFixtures.write(dir.resolve("qwen"), TokenizerFixtures.QWEN_STYLE))) {
            assertThat(tok.vocabSize()).isEqualTo(5); // added tokens beyond the model's vocabulary count
            assertThat(tok.eosId()).hasValue(3); // <|endoftext|> before <|im_end|>
            assertThat(tok.bosId()).isEmpty();
            assertThat(tok.encode("the cat")).containsExactly(1, 2);
        }
    }

    @Test
    void tokenizerConfigNamesTheEosToken() throws Exception {
        Path json = TokenizerFixtures.write(dir.resolve("chat"), TokenizerFixtures.QWEN_STYLE);
        Files.writeString(json.resolveSibling("tokenizer_config.json"),
                "{\"eos_token\": {\"__type\": \"AddedToken\", \"content\": \"<|im_end|>\"}, \"bos_token\": null}");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(json)) {
            assertThat(tok.eosId()).hasValue(4);
            assertThat(tok.bosId()).isEmpty();
        }
        Files.writeString(json.resolveSibling("tokenizer_config.json"), "{\"eos_token\": \"<|endoftext|>\"}");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(json)) {
            assertThat(tok.eosId()).hasValue(3);
        }
        // Optional, but one that is there must be read: it decides which special tokens a text gets (transformers
        // fails on it too). A malformed one used to be skipped silently.
        Files.writeString(json.resolveSibling("tokenizer_config.json"), "{not json");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(json)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(json.resolveSibling("tokenizer_config.json") + ": not valid JSON");
        Files.delete(json.resolveSibling("tokenizer_config.json"));
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(json)) {
            assertThat(tok.eosId()).hasValue(3);
        }
    }

    @Test
    void closedTokenizerRefusesWorkAndClosesTwice() {
        HuggingFaceTokenizer tok = wordLevel();
        tok.close();
        tok.close();
        assertThatThrownBy(() -> tok.encode("the")).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> tok.decode(new int[] {3})).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void missingFileNamesTheFile() {
        Path missing = dir.resolve("nowhere").resolve("tokenizer.json");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(missing))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(missing.toString())
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void malformedJsonNamesTheFile() {
        Path bad = TokenizerFixtures.write(dir.resolve("bad"), "{\"version\": \"1.0\", \"model\": {");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(bad))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(bad + ": not valid JSON")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Path notTokenizer = TokenizerFixtures.write(dir.resolve("array"), "[1, 2, 3]");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(notTokenizer))
                .isInstanceOf(ModelFormatException.class).hasMessageStartingWith(notTokenizer.toString());
    }

    @Test
    void schemaErrorsFromTheNativeLibraryNameTheFile() {
        // Valid JSON, but not a model type the tokenizers library knows.
        Path odd = TokenizerFixtures.write(dir.resolve("odd"),
                TokenizerFixtures.WORD_LEVEL.replace("\"type\": \"WordLevel\"", "\"type\": \"NoSuchModel\""));
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(odd))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(odd + ": the tokenizers library rejected it")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
        Path badPreTokenizer = TokenizerFixtures.write(dir.resolve("nounk"),
                TokenizerFixtures.WORD_LEVEL.replace("\"pre_tokenizer\": {\"type\": \"Whitespace\"}",
                        "\"pre_tokenizer\": {\"type\": \"NoSuchPreTokenizer\"}"));
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(badPreTokenizer))
                .isInstanceOf(ModelFormatException.class).hasMessageStartingWith(badPreTokenizer.toString());
    }

    @Test
    void nativeLibraryComesFromTheJarIntoTheCacheWithoutDownloading() {
        try (HuggingFaceTokenizer tok = wordLevel()) {
            assertThat(tok.encode("cat")).containsExactly(4);
        }
        // DJL reads these; with the flavor forced to cpu its download branch (CUDA flavors only) is unreachable.
        assertThat(ai.djl.util.Utils.isOfflineMode()).isTrue();
        if (System.getenv("RUST_FLAVOR") == null) {
            assertThat(ai.djl.util.Utils.getEnvOrSystemProperty("RUST_FLAVOR")).isEqualTo("cpu");
        }
        String arch = System.getProperty("os.arch");
        if (System.getProperty("os.name").startsWith("Linux") && (arch.equals("amd64") || arch.equals("x86_64"))
                && System.getenv("DJL_CACHE_DIR") == null && System.getenv("ENGINE_CACHE_DIR") == null
                && System.getProperty("ENGINE_CACHE_DIR") == null) {
            Path cache = Path.of(System.getProperty("DJL_CACHE_DIR"), "tokenizers");
            assertThat(cache.resolve("0.21.0-0.35.1-cpu-linux-x86_64").resolve("libtokenizers.so")).isRegularFile();
        }
    }

    @Test
    void defaultCacheDirIsUnderTheUsersCache() {
        Path d = DjlNative.defaultCacheDir();
        assertThat(d.endsWith(Path.of("moelab", "djl"))).isTrue();
        if (System.getenv("XDG_CACHE_HOME") == null) {
            assertThat(d).isEqualTo(Path.of(System.getProperty("user.home"), ".cache", "moelab", "djl"));
        }
    }

    @Test
    void idZeroDecodesAsAnyOtherId() {
        // [UNK] (0) is special in the fixture, so skipped; in a file where it is not, it is its text.
        try (HuggingFaceTokenizer tok = wordLevel()) {
            assertThat(tok.decode(new int[] {0, 3})).isEqualTo("the");
        }
        String plain = TokenizerFixtures.WORD_LEVEL.replace("\"content\":\"[UNK]\",\"single_word\":false,"
                + "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true", "\"content\":\"[UNK]\","
                + "\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":false");
        assertThat(plain).isNotEqualTo(TokenizerFixtures.WORD_LEVEL);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(TokenizerFixtures.write(dir.resolve("p"), plain))) {
            assertThat(tok.decode(new int[] {0, 3})).isEqualTo("[UNK] the");
        }
    }

    /**
     * A CUDA flavor of DJL's native library, which DJL would download, is refused before DJL is touched, naming the
     * file, unless a local library is named. (Set as system properties: the environment, which wins, is left alone
     * and must not set them.)
     */
    @Test
    void aCudaFlavorWithoutALocalLibraryIsRefused() {
        org.junit.jupiter.api.Assumptions.assumeTrue(System.getenv("RUST_FLAVOR") == null
                && System.getenv("RUST_LIBRARY_PATH") == null);
        assertThat(DjlNative.prepare()).isNull(); // prepared once, the flavor now cpu
        String flavor = System.getProperty("RUST_FLAVOR");
        Path json = TokenizerFixtures.write(dir, TokenizerFixtures.WORD_LEVEL);
        try {
            System.setProperty("RUST_FLAVOR", "cu121");
            String refusal = "RUST_FLAVOR=cu121 would make DJL download its tokenizers library; unset it or set "
                    + "RUST_LIBRARY_PATH to a local libtokenizers";
            assertThat(DjlNative.prepare()).isEqualTo(refusal);
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(json)).isInstanceOf(ModelFormatException.class)
                    .hasMessage(json + ": " + refusal);
            System.setProperty("RUST_LIBRARY_PATH", "/nonexistent/libtokenizers.so");
            assertThat(DjlNative.prepare()).isNull();
        } finally {
            System.clearProperty("RUST_LIBRARY_PATH");
            if (flavor == null) {
                System.clearProperty("RUST_FLAVOR");
            } else {
                System.setProperty("RUST_FLAVOR", flavor);
            }
        }
        assertThat(DjlNative.prepare()).isNull();
    }
}
