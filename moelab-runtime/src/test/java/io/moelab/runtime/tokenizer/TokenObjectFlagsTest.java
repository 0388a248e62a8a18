package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A special token that tokenizer_config.json gives as an object ({@code bos_token} ... {@code mask_token}, an entry
 * of {@code additional_special_tokens}). transformers v4's {@code convert_added_tokens} makes each
 * {@code "__type": "AddedToken"} object an {@code AddedToken(**obj)}, whose constructor (the tokenizers binding)
 * takes its {@code single_word}, {@code lstrip}, {@code rstrip}, {@code normalized} and {@code special} only as Python
 * booleans and its {@code content} only as a string or None: {@code 1}, {@code "false"} or {@code null} for a flag,
 * or a number for the content, raise a TypeError as the tokenizer loads. moelab read such a flag as false and such a
 * content as no token; both are now refused naming the file and the field.
 */
class TokenObjectFlagsTest {
    @TempDir
    Path dir;

    private int n;

    private Path write(String config) {
        return TokenizerFixtures.write(dir.resolve("t" + n++), TokenizerFixtures.QWEN_STYLE, config);
    }

    /** Each case's config ({@code [config, problem]}) is refused naming tokenizer_config.json, then the problem. */
    private void assertRefused(String[][] cases) {
        for (String[] c : cases) {
            Path file = write(c[0]);
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).as(c[0])
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(file.resolveSibling("tokenizer_config.json") + ": " + c[1]);
        }
    }

    @Test
    void aFlagThatIsNotABooleanIsRefusedNamingTheFileAndField() {
        String[][] cases = {
            {"{\"bos_token\": {\"__type\": \"AddedToken\", \"content\": \"<|endoftext|>\", \"lstrip\": 1}}",
                "bos_token: lstrip: expected true or false, got 1"},
            {"{\"eos_token\": {\"__type\": \"AddedToken\", \"content\": \"<|im_end|>\", \"special\": null}}",
                "eos_token: special: expected true or false, got null"},
            {"{\"pad_token\": {\"__type\": \"AddedToken\", \"content\": \"<p>\", \"normalized\": \"false\"}}",
                "pad_token: normalized: expected true or false, got \"false\""},
            {"{\"additional_special_tokens\": [\"<a>\", {\"__type\": \"AddedToken\", \"content\": \"<x>\", "
                + "\"single_word\": 0}]}",
                "additional_special_tokens[1]: single_word: expected true or false, got 0"},
            {"{\"mask_token\": {\"__type\": \"AddedToken\", \"content\": \"<m>\", \"rstrip\": [true]}}",
                "mask_token: rstrip: expected true or false, got [true]"},
            {"{\"unk_token\": {\"__type\": \"AddedToken\", \"content\": 7}}",
                "unk_token: content: expected a string, got 7"},
            // transformers v4 makes an AddedToken only of an object marked so; another stays a dict, and the
            // tokenizer's __init__ raises a TypeError (an AssertionError within additional_special_tokens).
            {"{\"bos_token\": {\"content\": \"<s>\", \"lstrip\": false}}",
                "bos_token: an object must have \"__type\": \"AddedToken\" (transformers reads any other as a "
                + "plain dict and refuses it), got {\"content\":\"<s>\",\"lstrip\":false}"},
            {"{\"additional_special_tokens\": [{\"__type\": \"Token\", \"content\": \"<x>\"}]}",
                "additional_special_tokens[0]: an object must have \"__type\": \"AddedToken\" (transformers reads "
                + "any other as a plain dict and refuses it), got {\"__type\":\"Token\",\"content\":\"<x>\"}"},
        };
        assertRefused(cases);
    }

    /**
     * A special token that is neither a string nor an object: v4's {@code SpecialTokensMixin.__init__} raises a
     * TypeError for a named one ({@code "bos_token": 7}) and an AssertionError where
     * {@code additional_special_tokens} is not a list or holds something other than strings and AddedTokens. moelab
     * ignored such values and loaded the tokenizer without them.
     */
    @Test
    void aSpecialTokenThatIsNeitherAStringNorAnObjectIsRefused() {
        String[][] cases = {
            {"{\"bos_token\": 7}", "bos_token: expected a string or an AddedToken object, got 7"},
            {"{\"eos_token\": true}", "eos_token: expected a string or an AddedToken object, got true"},
            {"{\"pad_token\": [\"<p>\"]}", "pad_token: expected a string or an AddedToken object, got [\"<p>\"]"},
            {"{\"additional_special_tokens\": \"<a>\"}",
                "additional_special_tokens: expected a list of tokens, got \"<a>\""},
            {"{\"additional_special_tokens\": [\"<a>\", 3]}",
                "additional_special_tokens[1]: expected a string or an AddedToken object, got 3"},
            {"{\"additional_special_tokens\": [null]}",
                "additional_special_tokens[0]: expected a string or an AddedToken object, got null"},
        };
        assertRefused(cases);
    }

    /** v4 skips a special token given as null, {@code additional_special_tokens} included. */
    @Test
    void nullSpecialTokensStillLoad() {
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(write("""
                {"bos_token": null, "additional_special_tokens": null}"""))) {
            assertThat(tok.encode("the cat")).containsExactly(1, 2);
        }
    }

    /** Boolean flags, and a null or missing content (v4's empty token, which adds nothing), still load. */
    @Test
    void booleanFlagsAndAnEmptyContentStillLoad() {
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(write("""
                {"bos_token": {"__type": "AddedToken", "content": "<x>", "lstrip": true, "rstrip": false,
                 "single_word": false, "normalized": false, "special": true},
                 "additional_special_tokens": [{"__type": "AddedToken", "content": null},
                 {"__type": "AddedToken", "lstrip": false}]}"""))) {
            assertThat(tok.encode("the <x> cat")).containsExactly(1, 5, 2);
        }
    }

    /**
     * The flags of a special token the config gives as an object and the file lacks are those it is added with: a
     * {@code single_word} token is not matched inside a word, an {@code rstrip} one takes the whitespace after it
     * (its span ends past it). Without them, neither (WordLevel fixture: the=3, [UNK]=0, the token 12).
     */
    @Test
    void theFlagsOfATokenTheConfigAddsAreTheObjects() {
        String[] flags = {"\"single_word\": true", "\"rstrip\": true", "\"lstrip\": false"};
        int[][] glued = {{0, 0, 0, 0}, {12, 0}, {12, 0}};
        long[] through = {5, 6, 5};
        for (int i = 0; i < flags.length; i++) {
            Path file = TokenizerFixtures.write(dir.resolve("flags" + i), TokenizerFixtures.WORD_LEVEL,
                    "{\"eos_token\": {\"__type\": \"AddedToken\", \"content\": \"<eos>\", " + flags[i] + "}}");
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
                assertThat(tok.eosId()).as(flags[i]).hasValue(12);
                assertThat(tok.encode("the <eos>")).as(flags[i]).containsExactly(3, 12);
                assertThat(tok.encode("<eos>x")).as(flags[i]).containsExactly(glued[i]);
                assertThat(tok.bytesThroughFirstToken("<eos> the")).as(flags[i]).isEqualTo(through[i]);
            }
        }
    }

    /**
     * Its {@code normalized} flag too, which decides the pattern it is matched by: under a Lowercase normalizer a
     * normalized "&lt;EOS&gt;" matches "&lt;eos&gt;", a special token's default (not normalized) only itself.
     */
    @Test
    void theNormalizedFlagOfATokenTheConfigAddsIsTheObjects() {
        String lower = TokenizerFixtures.WORD_LEVEL.replace("\"normalizer\": null",
                "\"normalizer\": {\"type\": \"Lowercase\"}");
        String[] flags = {"\"normalized\": true", "\"normalized\": false", "\"special\": true"};
        int[][] lowerCase = {{12}, {0, 0, 0}, {0, 0, 0}};
        for (int i = 0; i < flags.length; i++) {
            Path file = TokenizerFixtures.write(dir.resolve("normalized" + i), lower,
                    "{\"eos_token\": {\"__type\": \"AddedToken\", \"content\": \"<EOS>\", " + flags[i] + "}}");
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
                assertThat(tok.encode("<EOS>")).as(flags[i]).containsExactly(12);
                assertThat(tok.encode("<eos>")).as(flags[i]).containsExactly(lowerCase[i]);
            }
        }
    }
}
