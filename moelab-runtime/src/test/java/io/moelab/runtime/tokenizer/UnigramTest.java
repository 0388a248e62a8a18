package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Unigram {@code tokenizer.json} (T5's, ALBERT's kind), whose vocabulary is a list of [piece, score] pairs with ids
 * by position rather than a map: &lt;unk&gt;=0, &lt;s&gt;=1, &lt;/s&gt;=2, then the pieces U+2581 "the"=3, U+2581
 * "cat"=4, U+2581=5, t=6, h=7, e=8, c=9, a=10, with a Metaspace pre-tokenizer and decoder (U+2581 marks a word's
 * start); &lt;unk&gt; and &lt;/s&gt; are added special tokens.
 */
class UnigramTest {
    @TempDir
    Path dir;

    static final String JSON = """
            {
              "version": "1.0", "truncation": null, "padding": null,
              "added_tokens": [
                {"id": 0, "content": "<unk>", "single_word": false, "lstrip": false, "rstrip": false,
                 "normalized": false, "special": true},
                {"id": 2, "content": "</s>", "single_word": false, "lstrip": false, "rstrip": false,
                 "normalized": false, "special": true}],
              "normalizer": null,
              "pre_tokenizer": {"type": "Metaspace", "replacement": "\\u2581", "prepend_scheme": "always",
                                "split": true},
              "post_processor": null,
              "decoder": {"type": "Metaspace", "replacement": "\\u2581", "prepend_scheme": "always", "split": true},
              "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
                        "vocab": [["<unk>", 0.0], ["<s>", 0.0], ["</s>", 0.0], ["\\u2581the", -1.0],
                                  ["\\u2581cat", -1.5], ["\\u2581", -3.0], ["t", -4.0], ["h", -4.0], ["e", -4.0],
                                  ["c", -4.0], ["a", -4.0]]}
            }
            """;

    /** The file as it is: ids by position in the list, EOS by its name, "<s>" ordinary text (not added). */
    @Test
    void idsAreListPositionsAndTheVocabularyIsTheWholeList() {
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(TokenizerFixtures.write(dir, JSON))) {
            assertThat(tok.vocabSize()).isEqualTo(11);
            assertThat(tok.name()).endsWith(", Unigram, vocab=11)");
            // "the" and "cat" are pieces; "tea" is U+2581, t, e, a: pieces 5, 6, 8, 10.
            assertThat(tok.encode("the cat tea")).containsExactly(3, 4, 5, 6, 8, 10);
            assertThat(tok.eosId()).hasValue(2);
            assertThat(tok.bosId()).isEmpty();
            // The last piece (10) is in the vocabulary; 11 is past it; </s> is special.
            assertThat(tok.decode(new int[] {3, 4, 2, 10, 11})).isEqualTo("the cata");
            assertThat(tok.decode(new int[] {1, 3})).isEqualTo("<s> the");
        }
    }

    /**
     * Special tokens the config names: "<s>", a piece of the list, becomes the Llama class's BOS with its list id
     * (1) and is skipped in decode; "<|im_end|>", in neither, is added after the list (11).
     */
    @Test
    void namedSpecialTokensTakeTheirListIdsOrComeAfterTheList() {
        Path llama = TokenizerFixtures.write(dir.resolve("llama"), JSON,
                "{\"tokenizer_class\": \"LlamaTokenizerFast\"}");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(llama)) {
            assertThat(tok.vocabSize()).isEqualTo(11);
            assertThat(tok.bosId()).hasValue(1);
            assertThat(tok.encodeWithSpecialTokens("the cat").all()).containsExactly(1, 3, 4);
            assertThat(tok.decode(new int[] {1, 3})).isEqualTo("the");
        }
        Path chat = TokenizerFixtures.write(dir.resolve("chat"), JSON, "{\"eos_token\": \"<|im_end|>\"}");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(chat)) {
            assertThat(tok.vocabSize()).isEqualTo(12);
            assertThat(tok.eosId()).hasValue(11);
            assertThat(tok.encode("the <|im_end|>")).containsExactly(3, 5, 11);
        }
    }
}
