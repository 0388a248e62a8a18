package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ids of a text under transformers' GPT-NeoX tokenizer class (OLMoE's), worked out by hand from its source:
 * {@code GPTNeoXTokenizerFast.__init__} (v4) takes {@code add_prefix_space} from tokenizer_config.json (default
 * false) and, where the file's pre-tokenizer holds an {@code add_prefix_space} of another value, rebuilds the
 * pre-tokenizer with the config's. Other classes keep the file's pre-tokenizer.
 *
 * <p>The fixture is a byte-level BPE: h=0, i=1, Ġ=2, Ġh=3, hi=4, Ġhi=5, merges "Ġ h", "Ġh i", "h i" in that rank.
 * "hi" without a prefix space is h i, merged to hi (4); with one it is Ġ h i, merged to Ġh (rank 0) then Ġhi (5).
 */
class PrefixSpaceTest {
    private static String json(boolean filePrefixSpace) {
        return """
                {
                  "version": "1.0", "truncation": null, "padding": null, "added_tokens": [], "normalizer": null,
                  "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": %s, "trim_offsets": true,
                                    "use_regex": true},
                  "post_processor": null,
                  "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
                  "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
                            "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false,
                            "vocab": {"h": 0, "i": 1, "Ġ": 2, "Ġh": 3, "hi": 4, "Ġhi": 5},
                            "merges": ["Ġ h", "Ġh i", "h i"]}
                }
                """.formatted(filePrefixSpace);
    }

    @TempDir
    Path dir;

    private int n;

    private int[] encode(boolean filePrefixSpace, String config, String modelType) {
        Path d = dir.resolve("t" + n++);
        String json = json(filePrefixSpace);
        Path file = config == null ? TokenizerFixtures.write(d, json) : TokenizerFixtures.write(d, json, config);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file, modelType)) {
            return tok.encode("hi");
        }
    }

    @Test
    void theFilesPrefixSpaceStandsForOtherClasses() {
        assertThat(encode(false, null, null)).containsExactly(4);
        assertThat(encode(true, null, null)).containsExactly(5);
        assertThat(encode(true, "{\"tokenizer_class\": \"Qwen2Tokenizer\"}", null)).containsExactly(5);
        assertThat(encode(true, null, "qwen3_moe")).containsExactly(5);
    }

    /** The class's default, false, replaces a file's true; a config's true replaces a file's false. */
    @Test
    void theGptNeoXClassTakesTheConfigsPrefixSpace() {
        assertThat(encode(true, "{\"tokenizer_class\": \"GPTNeoXTokenizer\"}", null)).containsExactly(4);
        assertThat(encode(true, null, "olmoe")).containsExactly(4);
        assertThat(encode(true, "{\"tokenizer_class\": \"GPTNeoXTokenizerFast\", \"add_prefix_space\": false}",
                null)).containsExactly(4);
        assertThat(encode(false, "{\"tokenizer_class\": \"GPTNeoXTokenizer\", \"add_prefix_space\": true}", null))
                .containsExactly(5);
        assertThat(encode(false, "{\"tokenizer_class\": \"GPTNeoXTokenizer\"}", null)).containsExactly(4);
    }

    @Test
    void aPrefixSpaceThatIsNoBooleanIsRefusedNamingTheConfig() {
        Path file = TokenizerFixtures.write(dir.resolve("bad"), json(true),
                "{\"tokenizer_class\": \"GPTNeoXTokenizer\", \"add_prefix_space\": 1}");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).isInstanceOf(ModelFormatException.class)
                .hasMessage(file.resolveSibling("tokenizer_config.json")
                        + ": add_prefix_space: expected true, false or null, got 1");
    }
}
