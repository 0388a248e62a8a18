package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tokenizer_config.json's {@code from_slow}. {@code PreTrainedTokenizerFast.__init__} (transformers v4) reads
 * {@code tokenizer.json} only when it is false: true makes it build the slow tokenizer from its own files
 * ({@code tokenizer.model}, SentencePiece, for the Llama class; {@code vocab.json} and {@code merges.txt} for Qwen2)
 * and convert that, or raise where the class has no slow tokenizer (GPT-NeoX). moelab reads none of those files, so
 * it refuses the key rather than silently tokenizing with tokenizer.json.
 */
class FromSlowTest {
    @TempDir
    Path dir;

    private int n;

    private Path write(String config) {
        return TokenizerFixtures.write(dir.resolve("t" + n++), TokenizerFixtures.QWEN_STYLE, config);
    }

    @Test
    void fromSlowIsRefusedNamingTheFileAndKey() {
        String[][] refused = {{"{\"from_slow\": true}", null}, {"{\"from_slow\": true}", "qwen3_moe"},
            {"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"from_slow\": true}", null},
            {"{\"tokenizer_class\": \"GPTNeoXTokenizerFast\", \"from_slow\": true}", null}};
        for (String[] c : refused) {
            Path file = write(c[0]);
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(file, c[1])).as(c[0])
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(file.resolveSibling("tokenizer_config.json") + ": from_slow: transformers builds the "
                            + "tokenizer from the slow tokenizer's files (tokenizer.model, SentencePiece, for a "
                            + "Llama class) rather than tokenizer.json, and moelab reads only tokenizer.json; without "
                            + "the key (or with false or null) tokenizer.json is used");
        }
        Path bad = write("{\"from_slow\": \"yes\"}");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessage(bad.resolveSibling("tokenizer_config.json")
                        + ": from_slow: expected true, false or null, got \"yes\"");
    }

    @Test
    void falseAndNullReadTokenizerJson() {
        for (String config : new String[] {"{\"from_slow\": false}", "{\"from_slow\": null}", "{}"}) {
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(write(config))) {
                assertThat(tok.encode("the <|im_end|> cat")).as(config).containsExactly(1, 4, 2);
            }
        }
    }
}
