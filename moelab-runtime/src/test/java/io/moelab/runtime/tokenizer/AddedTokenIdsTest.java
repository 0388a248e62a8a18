package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The ids of {@code tokenizer.json}'s added tokens are those the tokenizers library gives them when it loads the
 * file, whatever ids the file lists: its deserializer adds them in file order with {@code add_tokens} (v0.21, the
 * version DJL 0.35 bundles), which takes a token's id from the added tokens so far, else from the model's
 * vocabulary, else the next free one (the vocabulary's size while every added id is below it, then one past the
 * largest), only logging "was expected to have ID". moelab's BOS, EOS, template ids and vocabulary size must agree
 * with what {@code encode} returns.
 */
class AddedTokenIdsTest {
    @TempDir
    Path dir;

    private int n;

    private static String added(int id, String content, boolean normalized) {
        return "{\"id\":" + id + ",\"content\":\"" + content + "\",\"single_word\":false,\"lstrip\":false,"
                + "\"rstrip\":false,\"normalized\":" + normalized + ",\"special\":" + !normalized + "}";
    }

    /** A 3-word WordLevel model ([UNK]=0, the=1, cat=2) with {@code added} as its added_tokens. */
    private static String qwenStyle(String... added) {
        return """
                {
                  "version": "1.0", "truncation": null, "padding": null,
                  "added_tokens": [%s],
                  "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null,
                  "decoder": null,
                  "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "the": 1, "cat": 2}, "unk_token": "[UNK]"}
                }
                """.formatted(String.join(", ", added));
    }

    private HuggingFaceTokenizer open(String json, String config) {
        Path d = dir.resolve("t" + n++);
        return HuggingFaceTokenizer.open(config == null ? TokenizerFixtures.write(d, json)
                : TokenizerFixtures.write(d, json, config));
    }

    /**
     * The file lists &lt;|endoftext|&gt; as 12 and &lt;|im_end|&gt; as 13 over a 3-entry vocabulary; the library
     * gives them 3 and 4 ([UNK] keeps its vocabulary id 0, which is below the size). moelab used to prepend 12 as
     * the BOS, call 12 the EOS and the vocabulary 14 ids, none of which encode gives.
     */
    @Test
    void theLibrarysIdsStandNotTheFiles() {
        String json = qwenStyle(added(0, "[UNK]", false), added(12, "<|endoftext|>", false),
                added(13, "<|im_end|>", false));
        try (HuggingFaceTokenizer tok = open(json, """
                {"tokenizer_class": "Qwen2Tokenizer", "add_bos_token": true, "bos_token": "<|endoftext|>"}""")) {
            assertThat(tok.encode("<|endoftext|> the <|im_end|>")).containsExactly(3, 1, 4);
            Tokenizer.Encoded e = tok.encodeWithSpecialTokens("the cat");
            assertThat(e.prefix()).containsExactly(3);
            assertThat(e.text()).containsExactly(1, 2);
            assertThat(tok.bosId()).hasValue(3);
            assertThat(tok.eosId()).hasValue(3); // Qwen2's default eos_token, <|endoftext|>
            assertThat(tok.vocabSize()).isEqualTo(5);
            assertThat(tok.decode(new int[] {3, 1, 2, 4})).isEqualTo("the cat");
        }
        try (HuggingFaceTokenizer tok = open(json, "{\"eos_token\": \"<|im_end|>\"}")) {
            assertThat(tok.eosId()).hasValue(4);
            assertThat(tok.encodeWithSpecialTokens("the cat").all()).containsExactly(1, 2);
        }
    }

    /**
     * An added token the model's vocabulary holds keeps the vocabulary's id (&lt;s&gt;=1, &lt;/s&gt;=2, of a
     * 12-word vocabulary), though the file lists 7 and 20; and a token listed twice keeps its first id, the second
     * entry adding nothing.
     */
    @Test
    void aVocabularyTokenKeepsItsIdAndARepeatAddsNothing() {
        String json = TokenizerFixtures.WORD_LEVEL.replace("{\"id\":1,", "{\"id\":7,")
                .replace("{\"id\":2,", "{\"id\":20,");
        assertThat(json).contains("{\"id\":7,").contains("{\"id\":20,");
        try (HuggingFaceTokenizer tok = open(json, "{\"tokenizer_class\": \"LlamaTokenizer\"}")) {
            assertThat(tok.encode("<s> the </s>")).containsExactly(1, 3, 2);
            assertThat(tok.bosId()).hasValue(1);
            assertThat(tok.eosId()).hasValue(2);
            assertThat(tok.encodeWithSpecialTokens("the").all()).containsExactly(1, 3);
            // The Llama class's default <unk>, added after them, takes the vocabulary's size, not 21.
            assertThat(tok.encode("<unk>")).containsExactly(12);
            assertThat(tok.vocabSize()).isEqualTo(13);
        }
        String twice = qwenStyle(added(0, "[UNK]", false), added(3, "<|im_end|>", false),
                added(9, "<|im_end|>", false), added(10, "<|endoftext|>", false));
        try (HuggingFaceTokenizer tok = open(twice, null)) {
            assertThat(tok.encode("<|im_end|> <|endoftext|>")).containsExactly(3, 4);
            assertThat(tok.eosId()).hasValue(4); // <|endoftext|> before <|im_end|> among the usual names
            assertThat(tok.vocabSize()).isEqualTo(5);
        }
    }

    /**
     * Tokens that a text can never produce alone (a normalized token holding a not-normalized one, which the library
     * splits out first: " &lt;s&gt;" encodes as &lt;s&gt; alone, "x&lt;s&gt;" as [UNK] &lt;s&gt;) still get the
     * library's ids, 12 and 13 after the 12-word vocabulary, not the file's 30 and 31 nor &lt;s&gt;'s 1.
     */
    @Test
    void tokensThatNoTextProducesGetTheLibrarysRule() {
        String json = TokenizerFixtures.WORD_LEVEL.replace("\"added_tokens\": [", "\"added_tokens\": ["
                + added(30, " <s>", true) + ", " + added(31, "x<s>", true) + ", ");
        try (HuggingFaceTokenizer tok = open(json, "{\"eos_token\": \" <s>\", \"bos_token\": \"x<s>\"}")) {
            assertThat(tok.encode(" <s>")).containsExactly(1);
            assertThat(tok.encode("x<s>")).containsExactly(0, 1);
            assertThat(tok.eosId()).hasValue(12);
            assertThat(tok.bosId()).hasValue(13);
            assertThat(tok.vocabSize()).isEqualTo(14);
        }
    }

    /**
     * A Unigram model's ids are positions, and a piece listed twice has the later one in the library's map, so the
     * added "&lt;x&gt;" (listed as 2, the first) is 3, the EOS the config names is 3 and there are 4 ids.
     */
    @Test
    void aUnigramPieceListedTwiceHasItsLaterId() {
        String json = """
                {"version": "1.0", "truncation": null, "padding": null, "added_tokens": [%s, %s],
                 "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"}, "post_processor": null,
                 "decoder": null,
                 "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
                           "vocab": [["<unk>", 0.0], ["the", -1.0], ["<x>", -2.0], ["<x>", -3.0]]}}
                """.formatted(added(0, "<unk>", false), added(2, "<x>", false));
        try (HuggingFaceTokenizer tok = open(json, "{\"eos_token\": \"<x>\"}")) {
            assertThat(tok.encode("the <x>")).containsExactly(1, 3);
            assertThat(tok.eosId()).hasValue(3);
            assertThat(tok.vocabSize()).isEqualTo(4);
        }
    }

    /**
     * Where the library's ids differ from those worked out from the file (here a wrong 99 and 98 for ids it gives as
     * 4 and 1), the library's stand: each content encoded alone. A token whose content does not encode alone to one
     * id spanning it (" &lt;s&gt;" gives &lt;s&gt; alone, at 1 to 4) keeps the id given.
     */
    @Test
    void theLoadedLibraryIsAskedForEachId() throws Exception {
        Path file = TokenizerFixtures.write(dir.resolve("ask"), TokenizerFixtures.WORD_LEVEL.replace(
                "\"added_tokens\": [", "\"added_tokens\": [" + added(12, " <s>", true) + ", "));
        assertThat(DjlNative.prepare()).isNull();
        try (ai.djl.huggingface.tokenizers.HuggingFaceTokenizer djl =
                ai.djl.huggingface.tokenizers.HuggingFaceTokenizer.newInstance(file, Map.of())) {
            assertThat(TokenizerConfig.libraryIds(djl, Map.of("</s>", 99, "<s>", 98, " <s>", 97)))
                    .isEqualTo(Map.of("</s>", 2, "<s>", 1, " <s>", 97));
        }
    }
}
