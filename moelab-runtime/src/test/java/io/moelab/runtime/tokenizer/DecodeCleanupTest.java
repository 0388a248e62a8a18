package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The text of ids as transformers' {@code tokenizer.decode(ids, skip_special_tokens=True)} gives it, worked out by
 * hand from its source: the fast tokenizer's {@code _decode} takes the tokenizers library's decode and then, when
 * {@code clean_up_tokenization_spaces} (tokenizer_config.json; default false since v4.45) is true, applies
 * {@code clean_up_tokenization}, which in this order replaces {@code " ."} by {@code "."}, {@code " ?"},
 * {@code " !"}, {@code " ,"}, {@code " ' "} by {@code "'"}, then {@code " n't"}, {@code " 'm"}, {@code " 's"},
 * {@code " 've"}, {@code " 're"} by the same without the space. The fixture is a WordLevel model without a
 * decoder, which the library decodes by joining the tokens with single spaces.
 */
class DecodeCleanupTest {
    private static final String JSON = """
            {
              "version": "1.0", "truncation": null, "padding": null,
              "added_tokens": [{"id": 0, "content": "[UNK]", "single_word": false, "lstrip": false,
                                "rstrip": false, "normalized": false, "special": true}],
              "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null,
              "decoder": null,
              "model": {"type": "WordLevel", "unk_token": "[UNK]",
                        "vocab": {"[UNK]": 0, "it": 1, "'s": 2, "n't": 3, "do": 4, ".": 5, "?": 6, "!": 7,
                                  ",": 8, "'": 9, "a": 10, "'m": 11, "'ve": 12, "'re": 13}}
            }
            """;

    /** it 's do n't , a ' a . a ? a ! 'm 've 're */
    private static final int[] IDS = {1, 2, 4, 3, 8, 10, 9, 10, 5, 10, 6, 10, 7, 11, 12, 13};
    private static final String RAW = "it 's do n't , a ' a . a ? a ! 'm 've 're";

    @TempDir
    Path dir;

    private int n;

    private String decode(String config) {
        Path d = dir.resolve("t" + n++);
        Path file = config == null ? TokenizerFixtures.write(d, JSON) : TokenizerFixtures.write(d, JSON, config);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
            return tok.decode(IDS);
        }
    }

    @Test
    void withoutTheKeyOrWithFalseTheLibrarysTextStands() {
        assertThat(decode(null)).isEqualTo(RAW);
        assertThat(decode("{}")).isEqualTo(RAW);
        assertThat(decode("{\"clean_up_tokenization_spaces\": false}")).isEqualTo(RAW);
        assertThat(decode("{\"clean_up_tokenization_spaces\": null}")).isEqualTo(RAW);
    }

    /**
     * " ." gives "a ' a.", " ," "n't,", " ' " "a'a", " n't" "don't", " 's" "it's", " 'm" "!'m", " 've" "'m've",
     * " 're" "'ve're".
     */
    @Test
    void trueCleansUpAsTransformersDoes() {
        assertThat(decode("{\"clean_up_tokenization_spaces\": true}"))
                .isEqualTo("it's don't, a'a. a? a!'m've're");
    }

    @Test
    void aValueThatIsNoBooleanIsRefusedNamingTheConfig() {
        Path file = TokenizerFixtures.write(dir.resolve("bad"), JSON, "{\"clean_up_tokenization_spaces\": \"yes\"}");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).isInstanceOf(ModelFormatException.class)
                .hasMessage(file.resolveSibling("tokenizer_config.json")
                        + ": clean_up_tokenization_spaces: expected true, false or null, got \"yes\"");
    }
}
