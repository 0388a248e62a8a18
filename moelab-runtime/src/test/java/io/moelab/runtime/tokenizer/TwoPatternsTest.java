package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * An ordinary added token of tokenizer.json that transformers v4 makes special with another {@code normalized}
 * flag, worked out by hand from v4 and tokenizers v0.21. The library loads the file (one {@code add_tokens} call:
 * the ordinary token joins its ordinary tokens, one pattern), then v4's {@code __init__} adds the special one in a
 * later call: a content the library does not yet hold as special joins its special tokens, a second pattern, and
 * the ordinary one stays among its ordinary tokens. Each pattern goes in the trie of its {@code normalized} flag:
 * matched against the text before normalization (false) or after it (true, the content normalized too). So both
 * match, and the id is decoded as special.
 *
 * <p>The fixture: {@link TokenizerFixtures#QWEN_STYLE} ([UNK]=0, the=1, cat=2, &lt;|endoftext|&gt;=3,
 * &lt;|im_end|&gt;=4, a Whitespace pre-tokenizer, no decoder) with a Lowercase normalizer and an ordinary,
 * normalized &lt;X&gt;, which the library gives id 5 (after 4, the largest added id). Its normalized pattern is
 * "&lt;x&gt;", which also matches a text's "&lt;x&gt;"; a pattern that is not normalized matches "&lt;X&gt;" alone.
 */
class TwoPatternsTest {
    static final String JSON = TokenizerFixtures.QWEN_STYLE
            .replace("\"normalizer\": null", "\"normalizer\": {\"type\": \"Lowercase\"}")
            .replace("\"special\":true}],", "\"special\":true}, {\"id\":5,\"content\":\"<X>\",\"single_word\":false,"
                    + "\"lstrip\":false,\"rstrip\":false,\"normalized\":true,\"special\":false}],");

    @TempDir
    Path dir;

    private int n;

    private HuggingFaceTokenizer open(String config) {
        Path d = dir.resolve("t" + n++);
        return HuggingFaceTokenizer.open(config == null ? TokenizerFixtures.write(d, JSON)
                : TokenizerFixtures.write(d, JSON, config));
    }

    @Test
    void theFixtureHasAnOrdinaryNormalizedToken() {
        assertThat(JSON).contains("\"content\":\"<X>\"").contains("Lowercase");
        try (HuggingFaceTokenizer tok = open(null)) {
            assertThat(tok.encode("the <X> cat")).containsExactly(1, 5, 2);
            assertThat(tok.encode("the <x> cat")).containsExactly(1, 5, 2);
            assertThat(tok.vocabSize()).isEqualTo(6);
            assertThat(tok.decode(new int[] {1, 5, 2})).isEqualTo("the <X> cat");
        }
    }

    /**
     * The brief's case: a special decoder entry &lt;X&gt; that is not normalized over the file's normalized one. v4
     * keeps both patterns, so "&lt;x&gt;" still encodes as 5 (moelab used to keep only the special one's, and split
     * it into three [UNK]s), and decode skips 5.
     */
    @Test
    void aSpecialTokenOfAnotherNormalizedFlagKeepsTheOrdinaryOnesPattern() {
        for (String config : new String[] {
            "{\"added_tokens_decoder\": {\"5\": {\"content\": \"<X>\", \"normalized\": false, \"special\": true}}}",
            // Without a decoder: the file's token made special by the name, then the object added again.
            "{\"additional_special_tokens\": [{\"__type\": \"AddedToken\", \"content\": \"<X>\", \"normalized\": false,"
                    + " \"special\": true}], \"added_tokens_decoder\": {}}"}) {
            try (HuggingFaceTokenizer tok = open(config)) {
                assertThat(tok.encode("the <X> cat")).as(config).containsExactly(1, 5, 2);
                assertThat(tok.encode("the <x> cat")).as(config).containsExactly(1, 5, 2);
                assertThat(tok.vocabSize()).isEqualTo(6);
                assertThat(tok.decode(new int[] {1, 5, 2})).as(config).isEqualTo("the cat");
                assertThat(tok.decode(new int[] {5, 5})).as(config).isEmpty();
            }
        }
    }

    /**
     * Where the first special token of the content is normalized like the ordinary one (here v4 first makes the
     * file's own token special, by the name, without a decoder), there is one pattern either way: "&lt;x&gt;" encodes
     * as 5, decode skips it.
     */
    @Test
    void aSpecialTokenOfTheSameNormalizedFlagLeavesOnePattern() {
        try (HuggingFaceTokenizer tok = open("""
                {"additional_special_tokens": [{"__type": "AddedToken", "content": "<X>", "normalized": false,
                 "special": true}]}""")) {
            assertThat(tok.encode("the <x> cat")).containsExactly(1, 5, 2);
            assertThat(tok.decode(new int[] {1, 5, 2})).isEqualTo("the cat");
        }
    }
}
