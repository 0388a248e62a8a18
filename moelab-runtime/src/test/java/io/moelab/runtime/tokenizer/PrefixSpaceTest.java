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

    /**
     * A Llama-class config that sets add_prefix_space (true or false): LlamaTokenizerFast.__init__ (v4) then sets
     * from_slow, so transformers builds the tokenizer from tokenizer.model (SentencePiece: its vocabulary, merges
     * and control tokens, with a Prepend normalizer or Metaspace prepend_scheme and a decoder Strip chosen by the
     * key and legacy), not from tokenizer.json. moelab does not read tokenizer.model, so it refuses the config,
     * naming the file and key, where it used to tokenize with tokenizer.json as it is. Null (v4's None) or no key
     * leaves tokenizer.json standing; other classes ignore the key.
     */
    @Test
    void aLlamaClassConfigThatSetsPrefixSpaceIsRefused() {
        String[][] refused = {{"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_prefix_space\": true}", null},
                {"{\"tokenizer_class\": \"LlamaTokenizer\", \"add_prefix_space\": false}", null},
                {"{\"add_prefix_space\": true}", "mixtral"}};
        for (String[] c : refused) {
            Path file = TokenizerFixtures.write(dir.resolve("llama" + n++), json(true), c[0]);
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(file, c[1])).as(c[0])
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(file.resolveSibling("tokenizer_config.json") + ": add_prefix_space: transformers "
                            + "builds a Llama-class tokenizer that sets it from tokenizer.model (SentencePiece), "
                            + "which moelab does not read; without the key (or with null) tokenizer.json is used as "
                            + "it is");
        }
        Path bad = TokenizerFixtures.write(dir.resolve("llama" + n++), json(true),
                "{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_prefix_space\": \"yes\"}");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(bad)).isInstanceOf(ModelFormatException.class)
                .hasMessage(bad.resolveSibling("tokenizer_config.json")
                        + ": add_prefix_space: expected true, false or null, got \"yes\"");
        assertThat(encode(true, "{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_prefix_space\": null}", null))
                .containsExactly(5);
        assertThat(encode(false, "{\"add_prefix_space\": null}", "mixtral")).containsExactly(4);
        assertThat(encode(false, "{\"tokenizer_class\": \"Qwen2Tokenizer\", \"add_prefix_space\": true}", null))
                .containsExactly(4);
        assertThat(encode(true, "{\"add_prefix_space\": false}", null)).containsExactly(5);
    }

    /**
     * The GPT-NeoX class's prefix space applies where it is the only change to the file: a file that already holds
     * the class's special token (its bos, eos and unk, {@code <|endoftext|>}) as an added token, so that none is added.
     */
    @Test
    void thePrefixSpaceAloneRewritesTheFile() {
        String json = json(false).replace("\"added_tokens\": []", "\"added_tokens\": [{\"id\": 6, \"content\": "
                + "\"<|endoftext|>\", \"single_word\": false, \"lstrip\": false, \"rstrip\": false, "
                + "\"normalized\": false, \"special\": true}]")
                .replace("\"Ġhi\": 5}", "\"Ġhi\": 5, \"<|endoftext|>\": 6}");
        Path file = TokenizerFixtures.write(dir.resolve("alone"), json,
                "{\"tokenizer_class\": \"GPTNeoXTokenizerFast\", \"add_prefix_space\": true}");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
            assertThat(tok.encode("hi")).containsExactly(5);
            assertThat(tok.eosId()).hasValue(6);
            assertThat(tok.vocabSize()).isEqualTo(7);
        }
    }
}
