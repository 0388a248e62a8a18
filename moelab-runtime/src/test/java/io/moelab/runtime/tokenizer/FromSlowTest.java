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
 * it refuses a true value rather than silently tokenizing with tokenizer.json. v4 goes by the value's truth.
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
                            + "the key (or with a false value: false, null, 0, an empty string, list or object) "
                            + "tokenizer.json is used");
        }
    }

    /**
     * v4 goes by the value's truth ({@code fast_tokenizer_file is not None and not from_slow}), as Python's json
     * reads it: a non-empty string (even "false"), a non-zero number, a non-empty list or object build from the slow
     * files as true does, and are refused the same way.
     */
    @Test
    void aTrueValueOfAnotherTypeIsRefusedAsTrue() {
        for (String v : new String[] {"\"yes\"", "\"false\"", "1", "-2", "0.5", "1e400", "[0]", "{\"a\": 1}"}) {
            Path file = write("{\"from_slow\": " + v + "}");
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).as(v).isInstanceOf(ModelFormatException.class)
                    .hasMessageStartingWith(file.resolveSibling("tokenizer_config.json") + ": from_slow: transformers "
                            + "builds the tokenizer from the slow tokenizer's files");
        }
    }

    /**
     * False, null, a missing key and every false value of another type (0, 0.0, -0.0, 1e-400, which Python reads as
     * 0.0, "", [], {}) read tokenizer.json: "the &lt;|im_end|&gt; cat" is the=1, &lt;|im_end|&gt;=4, cat=2.
     */
    @Test
    void falseAndNullReadTokenizerJson() {
        for (String config : new String[] {"{\"from_slow\": false}", "{\"from_slow\": null}", "{}",
            "{\"from_slow\": 0}", "{\"from_slow\": 0.0}", "{\"from_slow\": -0.0}", "{\"from_slow\": 1e-400}",
            "{\"from_slow\": \"\"}", "{\"from_slow\": []}", "{\"from_slow\": {}}"}) {
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(write(config))) {
                assertThat(tok.encode("the <|im_end|> cat")).as(config).containsExactly(1, 4, 2);
            }
        }
    }
}
