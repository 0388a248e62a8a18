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
            assertThat(tok).isInstanceOf(HuggingFaceTokenizer.class);
            assertThat(tok.encode("the cat")).containsExactly(3, 4);
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
                    .hasMessage(dir + ": no tokenizer.json; give token ids directly");
        }
    }

    @Test
    void brokenTokenizerJsonIsReportedNotSkipped() {
        Path json = TokenizerFixtures.write(dir, "not json");
        assertThatThrownBy(() -> Tokenizers.forModel(dir, 258))
                .isInstanceOf(ModelFormatException.class).hasMessageStartingWith(json.toString());
    }
}
