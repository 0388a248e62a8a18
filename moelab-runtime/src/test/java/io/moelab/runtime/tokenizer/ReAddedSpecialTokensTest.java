package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A special token that {@code PreTrainedTokenizerFast.__init__} (transformers v4) adds again over a token the
 * tokenizer already holds with other flags, worked out by hand from v4 and tokenizers v0.21. {@code __init__} first
 * adds every {@code added_tokens_decoder} entry (without that key, every token of tokenizer.json, which
 * {@code _from_pretrained} then reads as the decoder), then each of {@code all_special_tokens_extended} (the named
 * tokens, the first of each content) that is an {@code AddedToken} equal to none of those entries: an AddedToken
 * never equals the strings it is also checked against, and equality is the tokenizers library's, over the content
 * and every flag. It is added as special ({@code normalized} false unless it says so), and the library, meeting a
 * content it holds with other flags, keeps the id and the pattern but matches with the new token's
 * {@code single_word}, {@code lstrip} and {@code rstrip}. Which tokens are AddedTokens: an object (with
 * {@code "__type": "AddedToken"}) in {@code additional_special_tokens}, or as a bos ... mask token that
 * {@code _from_pretrained} does not replace by the decoder's token of that content; and Qwen2's wrapped strings.
 *
 * <p>The fixture ({@link TokenizerFixtures#QWEN_STYLE}): a WordLevel model with a Whitespace pre-tokenizer,
 * [UNK]=0, the=1, cat=2, then the special, not normalized, not single-word added tokens &lt;|endoftext|&gt;=3 and
 * &lt;|im_end|&gt;=4. {@code single_word} shows in the ids: a single-word token between letters is not matched, and
 * the Whitespace pre-tokenizer splits "the&lt;x&gt;cat" into the, &lt;, x, &gt;, cat, the middle three [UNK].
 */
class ReAddedSpecialTokensTest {
    @TempDir
    Path dir;

    private int n;

    private HuggingFaceTokenizer open(String json, String config) {
        return HuggingFaceTokenizer.open(TokenizerFixtures.write(dir.resolve("t" + n++), json, config));
    }

    private static final int[] WHOLE = {1, 5, 2};
    private static final int[] SPLIT = {1, 0, 0, 0, 2};

    /**
     * The brief's case: the decoder's &lt;x&gt; (special, not single-word; id 5, the next free one) and an object in
     * additional_special_tokens of the same content that is single-word. The object differs from the entry, so v4
     * adds it again: &lt;x&gt; keeps id 5 and stays special, but only a single word matches it. Without the object
     * (or with one equal to the entry) "the&lt;x&gt;cat" encodes &lt;x&gt; whole.
     */
    @Test
    void anAdditionalObjectWithOtherFlagsThanTheDecodersEntryIsAddedAgain() {
        String decoder = """
                "added_tokens_decoder": {"5": {"content": "<x>", "lstrip": false, "normalized": false,
                 "rstrip": false, "single_word": false, "special": true}}""";
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, "{" + decoder + """
                , "additional_special_tokens": [{"__type": "AddedToken", "content": "<x>", "lstrip": false,
                 "normalized": false, "rstrip": false, "single_word": true}]}""")) {
            assertThat(tok.encode("the <x> cat")).containsExactly(WHOLE);
            assertThat(tok.encode("the<x>cat")).containsExactly(SPLIT);
            assertThat(tok.vocabSize()).isEqualTo(6);
            assertThat(tok.decode(WHOLE)).isEqualTo("the cat");
        }
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, "{" + decoder
                + ", \"additional_special_tokens\": [\"<x>\"]}")) {
            assertThat(tok.encode("the<x>cat")).containsExactly(WHOLE);
        }
    }

    /**
     * all_special_tokens_extended drops a token whose content an earlier key named, but not one that repeats a
     * content within additional_special_tokens; and each named token is compared with the decoder's entries only,
     * not with the named tokens added before it. So two objects of &lt;x&gt;, single-word then lstrip, are both added
     * again, in that order, and the library matches with the last one's flags: not single-word, "the&lt;x&gt;cat"
     * encodes &lt;x&gt; whole (moelab kept the first). Single-word, lstrip, single-word again ends single-word.
     */
    @Test
    void objectsOfOneContentInTheAdditionalListAreAllAddedAgainTheLastOnesFlagsStanding() {
        String decoder = """
                "added_tokens_decoder": {"5": {"content": "<x>", "lstrip": false, "normalized": false,
                 "rstrip": false, "single_word": false, "special": true}}""";
        String single = "{\"__type\": \"AddedToken\", \"content\": \"<x>\", \"normalized\": false, "
                + "\"single_word\": true}";
        String lstrip = "{\"__type\": \"AddedToken\", \"content\": \"<x>\", \"normalized\": false, "
                + "\"lstrip\": true}";
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, "{" + decoder
                + ", \"additional_special_tokens\": [" + single + ", " + lstrip + "]}")) {
            assertThat(tok.encode("the<x>cat")).containsExactly(WHOLE);
        }
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, "{" + decoder
                + ", \"additional_special_tokens\": [" + single + ", " + lstrip + ", " + single + "]}")) {
            assertThat(tok.encode("the<x>cat")).containsExactly(SPLIT);
            assertThat(tok.encode("the <x> cat")).containsExactly(WHOLE);
        }
    }

    /**
     * Without added_tokens_decoder the entries compared are tokenizer.json's: an additional object that is
     * single-word differs from the file's special &lt;|im_end|&gt; and is added again (the library keeping id 4).
     */
    @Test
    void anAdditionalObjectWithOtherFlagsThanTheFilesSpecialTokenIsAddedAgain() {
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, """
                {"additional_special_tokens": [{"__type": "AddedToken", "content": "<|im_end|>",
                 "normalized": false, "single_word": true, "special": true}]}""")) {
            assertThat(tok.encode("the <|im_end|> cat")).containsExactly(1, 4, 2);
            assertThat(tok.encode("the<|im_end|>cat")).containsExactly(SPLIT);
        }
    }

    /**
     * A bos_token object is replaced by the decoder's token of its content where there is one (without the key, by
     * tokenizer.json's), which is no token added again: the file's &lt;|endoftext|&gt; stands, not single-word.
     * Where added_tokens_decoder lacks the content, the object stands and is added again, single-word.
     */
    @Test
    void aNamedObjectIsAddedAgainOnlyWhereTheDecoderDoesNotReplaceIt() {
        String bos = """
                "bos_token": {"__type": "AddedToken", "content": "<|endoftext|>", "normalized": false,
                 "single_word": true}""";
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, "{" + bos + "}")) {
            assertThat(tok.encode("the<|endoftext|>cat")).containsExactly(1, 3, 2);
        }
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, "{" + bos + """
                , "added_tokens_decoder": {"3": {"content": "<|endoftext|>", "normalized": false,
                 "special": true}}}""")) {
            assertThat(tok.encode("the<|endoftext|>cat")).containsExactly(1, 3, 2);
        }
        try (HuggingFaceTokenizer tok = open(TokenizerFixtures.QWEN_STYLE, "{" + bos + """
                , "added_tokens_decoder": {"4": {"content": "<|im_end|>", "normalized": false,
                 "special": true}}}""")) {
            assertThat(tok.encode("the<|endoftext|>cat")).containsExactly(SPLIT);
            assertThat(tok.encode("the <|endoftext|> cat")).containsExactly(1, 3, 2);
        }
    }

    /**
     * Qwen2TokenizerFast wraps its default eos string &lt;|endoftext|&gt; in a token that is not single-word, which
     * differs from a file's single-word &lt;|endoftext|&gt; and is added again, so it matches between letters; a
     * GPT-NeoX default stays a string, and the file's single-word token stands.
     */
    @Test
    void qwen2sWrappedDefaultIsAddedAgainOverTheFilesToken() {
        String json = TokenizerFixtures.QWEN_STYLE.replace("\"content\":\"<|endoftext|>\",\"single_word\":false",
                "\"content\":\"<|endoftext|>\",\"single_word\":true");
        assertThat(json).isNotEqualTo(TokenizerFixtures.QWEN_STYLE);
        try (HuggingFaceTokenizer tok = open(json, "{\"tokenizer_class\": \"GPTNeoXTokenizerFast\"}")) {
            assertThat(tok.encode("the<|endoftext|>cat")).containsExactly(SPLIT);
        }
        try (HuggingFaceTokenizer tok = open(json, "{\"tokenizer_class\": \"Qwen2TokenizerFast\"}")) {
            assertThat(tok.encode("the<|endoftext|>cat")).containsExactly(1, 3, 2);
        }
    }
}
