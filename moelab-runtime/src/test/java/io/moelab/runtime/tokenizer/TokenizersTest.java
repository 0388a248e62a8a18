package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TokenizersTest {
    @TempDir
    Path dir;

    @Test
    void tokenizerJsonWins() {
        TokenizerFixtures.write(dir, TokenizerFixtures.WORD_LEVEL);
        try (Tokenizer tok = Tokenizers.forModel(dir, 300)) {
            assertThat(tok).isNotInstanceOf(ByteTokenizer.class);
            assertThat(tok.encode("the cat")).containsExactly(3, 4);
            assertThat(tok.decode(new int[] {3, 4})).isEqualTo("the cat");
            assertThat(tok.bosId()).hasValue(1);
            assertThat(tok.eosId()).hasValue(2);
        }
    }

    /**
     * A tokenizer.json whose ids reach past the model's vocabulary: the text's ids are refused naming the file, not
     * handed to the model (which refused them as an internal error, exit code 1); so are BOS or EOS ids beyond it.
     */
    @Test
    void idsBeyondTheModelsVocabularyAreRefusedNamingTheFile() {
        Path json = TokenizerFixtures.write(dir, TokenizerFixtures.WORD_LEVEL);
        // The fixture's ids run to 11: a model of 10 ids cannot take "." (11), one of 2 not its EOS (2).
        try (Tokenizer tok = Tokenizers.forModel(dir, 10)) {
            assertThat(tok.encode("the cat sat")).containsExactly(3, 4, 5);
            assertThatThrownBy(() -> tok.encode("the cat ."))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(json + ": a text's token id 11 is outside the model's vocabulary [0, 10) "
                            + "(config.json vocab_size)");
        }
        assertThatThrownBy(() -> Tokenizers.forModel(dir, 2))
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(json + ": its EOS id 2 is outside the model's vocabulary [0, 2) (config.json "
                        + "vocab_size)");
    }

    /**
     * The model type reaches the tokenizer: a Mixtral directory's tokenizer gets LlamaTokenizerFast's BOS-only
     * template, as transformers' AutoTokenizer picks that class for mixtral (the file's template would add EOS too).
     * A special id the tokenizer adds beyond the model's vocabulary is refused as a text's would be.
     */
    @Test
    void theModelTypeDecidesTheAddedTokensAndTheyAreChecked() throws Exception {
        Path json = TokenizerFixtures.write(dir, TokenizerFixtures.WORD_LEVEL);
        try (Tokenizer tok = Tokenizers.forModel(dir, 300, "mixtral")) {
            assertThat(tok.encodeWithSpecialTokens("the cat").all()).containsExactly(1, 3, 4);
        }
        try (Tokenizer tok = Tokenizers.forModel(dir, 300)) {
            assertThat(tok.encodeWithSpecialTokens("the cat").all()).containsExactly(1, 3, 4, 2);
        }
        java.nio.file.Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "."}""");
        // The config's bos_token is a special token (transformers adds it as one), so it is the BOS, checked at load.
        assertThatThrownBy(() -> Tokenizers.forModel(dir, 10, "mixtral"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(json + ": its BOS id 11 is outside the model's vocabulary [0, 10) (config.json "
                        + "vocab_size)");
        // A class default the config does not name is a special token too (GPTNeoXTokenizerFast's bos_token
        // <|endoftext|>, 8 in the vocabulary), so it is the BOS, checked at load.
        java.nio.file.Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"tokenizer_class": "GPTNeoXTokenizerFast", "add_bos_token": true}""");
        String withEot = TokenizerFixtures.WORD_LEVEL.replace("\"a\": 8", "\"<|endoftext|>\": 8");
        TokenizerFixtures.write(dir, withEot);
        assertThatThrownBy(() -> Tokenizers.forModel(dir, 8))
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(json + ": its BOS id 8 is outside the model's vocabulary [0, 8) (config.json "
                        + "vocab_size)");
        // The file's own template adding a token that is neither BOS nor EOS (".", 11): checked when a text gets it.
        java.nio.file.Files.delete(dir.resolve("tokenizer_config.json"));
        TokenizerFixtures.write(dir, TokenizerFixtures.wordLevel("""
                {"type": "TemplateProcessing",
                 "single": [{"Sequence": {"id": "A", "type_id": 0}}, {"SpecialToken": {"id": ".", "type_id": 0}}],
                 "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                 "special_tokens": {".": {"id": ".", "ids": [11], "tokens": ["."]}}}"""));
        try (Tokenizer tok = Tokenizers.forModel(dir, 10)) {
            assertThatThrownBy(() -> tok.encodeWithSpecialTokens("the cat"))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(json + ": the special token id it adds to a text 11 is outside the model's "
                            + "vocabulary [0, 10) (config.json vocab_size)");
        }
    }

    @Test
    void smallVocabulariesWithoutTokenizerJsonAreByteLevel() {
        for (int vocab : new int[] {256, 258, 512}) {
            try (Tokenizer tok = Tokenizers.forModel(dir, vocab)) {
                assertThat(tok).isInstanceOf(ByteTokenizer.class);
                assertThat(tok.vocabSize()).isEqualTo(vocab);
            }
        }
    }

    @Test
    void otherVocabulariesWithoutTokenizerJsonAreRefused() {
        for (int vocab : new int[] {0, 255, 513, 32_000}) {
            assertThatThrownBy(() -> Tokenizers.forModel(dir, vocab))
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(dir + ": no tokenizer.json to read text with ('moelab logits --token-ids' runs "
                            + "without one)");
        }
    }

    @Test
    void brokenTokenizerJsonIsReportedNotSkipped() {
        Path json = TokenizerFixtures.write(dir, "not json");
        assertThatThrownBy(() -> Tokenizers.forModel(dir, 258))
                .isInstanceOf(ModelFormatException.class).hasMessageStartingWith(json.toString());
    }

    /**
     * The model-vocabulary wrapper passes the rest through (the tokenizer's own vocabulary size, name, byte counts,
     * close) and checks the text's ids from {@code encodeWithSpecialTokens} as {@code encode}'s; id 0 is in range.
     */
    @Test
    void theWrapperPassesTheRestThroughAndChecksEveryTextId() {
        Path json = TokenizerFixtures.write(dir, TokenizerFixtures.WORD_LEVEL);
        Tokenizer tok = Tokenizers.forModel(dir, 10);
        assertThat(tok.encode("zebra the")).containsExactly(0, 3);
        assertThat(tok.vocabSize()).isEqualTo(12);
        assertThat(tok.name()).isEqualTo("hf(" + dir.getFileName() + "/tokenizer.json, WordLevel, vocab=12)");
        assertThat(tok.bytesThroughFirstToken("  cat sat")).isEqualTo(5);
        assertThat(tok.encodeWithSpecialTokens("the cat").all()).containsExactly(1, 3, 4, 2);
        assertThatThrownBy(() -> tok.encodeWithSpecialTokens("the cat ."))
                .isInstanceOf(ModelFormatException.class)
                .hasMessage(json + ": a text's token id 11 is outside the model's vocabulary [0, 10) "
                        + "(config.json vocab_size)");
        tok.close();
        assertThatThrownBy(() -> tok.decode(new int[] {3})).isInstanceOf(IllegalStateException.class);
    }
}
