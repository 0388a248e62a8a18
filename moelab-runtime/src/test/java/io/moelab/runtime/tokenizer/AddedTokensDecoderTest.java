package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * tokenizer_config.json's {@code added_tokens_decoder}, worked out by hand from transformers v4 and tokenizers
 * v0.21. {@code PreTrainedTokenizerFast.__init__} adds every entry, in the order of its key read as an integer, with
 * one {@code add_tokens} call (its check against the loaded tokens compares the tokens with the loaded ids, so it
 * never leaves one out); an entry is special where it says so or where its content is one of the named special
 * tokens, and {@code normalized} defaults to not special. The library keeps the id of a content it already holds
 * (an added token's, else the model vocabulary's) and otherwise gives the next free one (the vocabulary's size
 * while every added id is below it, else one past the largest): the key is not the id. An entry equal to the loaded
 * token changes nothing; one with other flags replaces it, a special one joining the special tokens.
 *
 * <p>The fixture ({@link TokenizerFixtures#QWEN_STYLE}): a WordLevel model with a Whitespace pre-tokenizer and no
 * decoder (decode joins tokens with spaces), [UNK]=0, the=1, cat=2, then the special, not normalized added tokens
 * &lt;|endoftext|&gt;=3 and &lt;|im_end|&gt;=4. Without an added token {@code <x>} is three pieces, each [UNK].
 */
class AddedTokensDecoderTest {
    @TempDir
    Path dir;

    private int n;

    private Path write(String json, String config) {
        return TokenizerFixtures.write(dir.resolve("t" + n++), json, config);
    }

    private HuggingFaceTokenizer open(String config) {
        return HuggingFaceTokenizer.open(write(TokenizerFixtures.QWEN_STYLE, config));
    }

    private static String entry(String content, boolean special) {
        return "{\"content\": \"" + content + "\", \"special\": " + special + "}";
    }

    @Test
    void withoutTheDecoderATokenItListsIsSplit() {
        try (HuggingFaceTokenizer tok = open("{}")) {
            assertThat(tok.encode("the <x> cat")).containsExactly(1, 0, 0, 0, 2);
            assertThat(tok.vocabSize()).isEqualTo(5);
        }
    }

    /** The brief's case: one special entry the file lacks is added with the library's next id, 5. */
    @Test
    void aSpecialEntryTheFileLacksIsAddedWhole() {
        try (HuggingFaceTokenizer tok = open("""
                {"added_tokens_decoder": {"5": {"content": "<x>", "special": true, "normalized": false}}}""")) {
            assertThat(tok.encode("the <x> cat")).containsExactly(1, 5, 2);
            assertThat(tok.encode("<x>")).containsExactly(5);
            assertThat(tok.vocabSize()).isEqualTo(6);
            assertThat(tok.decode(new int[] {1, 5, 2})).isEqualTo("the cat");
        }
    }

    /**
     * The keys order the entries (as integers: 9 before 10) but are not their ids: &lt;b&gt; (key 9) gets 5 and
     * &lt;a&gt; (key 10) 6, whatever the keys say; a key 40 still gives 5.
     */
    @Test
    void theKeysOrderTheEntriesButTheLibraryGivesTheIds() {
        try (HuggingFaceTokenizer tok = open("{\"added_tokens_decoder\": {\"10\": " + entry("<a>", true)
                + ", \"9\": " + entry("<b>", true) + "}}")) {
            assertThat(tok.encode("<a> <b>")).containsExactly(6, 5);
            assertThat(tok.vocabSize()).isEqualTo(7);
        }
        try (HuggingFaceTokenizer tok = open("{\"added_tokens_decoder\": {\"40\": " + entry("<a>", true) + "}}")) {
            assertThat(tok.encode("<a>")).containsExactly(5);
            assertThat(tok.vocabSize()).isEqualTo(6);
        }
    }

    /**
     * {@code int(key)} strips what Python's {@code str.isspace} calls whitespace, which includes the no-break spaces
     * (U+00A0, U+2007, U+202F) and NEL (U+0085) that Java's {@code strip} keeps; a zero-width space (U+200B) is not
     * whitespace there either, so a key holding one is refused.
     */
    @Test
    void theKeysAreReadAsPythonsIntReadsThem() {
        try (HuggingFaceTokenizer tok = open("{\"added_tokens_decoder\": {\"\u00a010\u2007\": " + entry("<a>", true)
                + ", \"\u202f\u00859 \": " + entry("<b>", true) + "}}")) {
            assertThat(tok.encode("<a> <b>")).containsExactly(6, 5);
        }
        assertThatThrownBy(() -> open("{\"added_tokens_decoder\": {\"\u200b5\": " + entry("<x>", true) + "}}"))
                .isInstanceOf(ModelFormatException.class)
                .hasMessageEndingWith("added_tokens_decoder: key \"\u200b5\" is not an integer");
    }

    /** An entry whose content the model's vocabulary holds keeps the model's id, 2, and, special, decode drops it. */
    @Test
    void anEntryInTheModelVocabularyKeepsItsId() {
        try (HuggingFaceTokenizer tok = open("{\"added_tokens_decoder\": {\"7\": " + entry("cat", true) + "}}")) {
            assertThat(tok.encode("the cat")).containsExactly(1, 2);
            assertThat(tok.vocabSize()).isEqualTo(5);
            assertThat(tok.decode(new int[] {1, 2})).isEqualTo("the");
        }
    }

    /** An ordinary entry (not special, not named) encodes whole and decode prints it. */
    @Test
    void anOrdinaryEntryIsAddedAndPrinted() {
        try (HuggingFaceTokenizer tok = open("{\"added_tokens_decoder\": {\"5\": " + entry("<y>", false) + "}}")) {
            assertThat(tok.encode("the <y>")).containsExactly(1, 5);
            assertThat(tok.decode(new int[] {1, 5})).isEqualTo("the <y>");
        }
    }

    /**
     * An entry not marked special whose content is a named special token is special: here the eos_token (the EOS)
     * and a string among additional_special_tokens (which v4 never replaces by the entry), both dropped by decode.
     */
    @Test
    void anEntryTheConfigNamesIsSpecial() {
        try (HuggingFaceTokenizer tok = open("{\"eos_token\": \"<e>\", \"added_tokens_decoder\": {\"8\": "
                + entry("<e>", false) + "}}")) {
            assertThat(tok.encode("the <e>")).containsExactly(1, 5);
            assertThat(tok.eosId()).hasValue(5);
            assertThat(tok.decode(new int[] {1, 5})).isEqualTo("the");
        }
        try (HuggingFaceTokenizer tok = open("{\"additional_special_tokens\": [\"<e>\"], \"added_tokens_decoder\": "
                + "{\"8\": " + entry("<e>", false) + "}}")) {
            assertThat(tok.encode("the <e>")).containsExactly(1, 5);
            assertThat(tok.decode(new int[] {1, 5})).isEqualTo("the");
        }
    }

    /**
     * An entry the file holds as an ordinary token, listed special (named nowhere), joins the special tokens with
     * the file's id: decode drops it. Listed with the file's own flags, nothing changes.
     */
    @Test
    void anEntryTheFileHoldsWithOtherFlagsReplacesIt() {
        String json = TokenizerFixtures.QWEN_STYLE.replace("\"content\":\"<|im_end|>\",\"single_word\":false,"
                + "\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true", "\"content\":\""
                + "<|im_end|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,"
                + "\"special\":false");
        assertThat(json).isNotEqualTo(TokenizerFixtures.QWEN_STYLE);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(write(json, "{}"))) {
            assertThat(tok.decode(new int[] {1, 4, 2})).isEqualTo("the <|im_end|> cat");
        }
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(write(json, "{\"added_tokens_decoder\": {\"4\": "
                + "{\"content\": \"<|im_end|>\", \"special\": true, \"normalized\": false}}}"))) {
            assertThat(tok.encode("the <|im_end|> cat")).containsExactly(1, 4, 2);
            assertThat(tok.decode(new int[] {1, 4, 2})).isEqualTo("the cat");
            assertThat(tok.vocabSize()).isEqualTo(5);
        }
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(write(json, "{\"added_tokens_decoder\": {\"4\": "
                + "{\"content\": \"<|im_end|>\", \"lstrip\": false, \"normalized\": false, \"rstrip\": false, "
                + "\"single_word\": false, \"special\": false}}}"))) {
            assertThat(tok.decode(new int[] {1, 4, 2})).isEqualTo("the <|im_end|> cat");
        }
    }

    /** A Qwen-style config listing the file's added tokens as they are (what transformers saves) changes nothing. */
    @Test
    void aDecoderThatMatchesTheFileChangesNothing() {
        try (HuggingFaceTokenizer tok = open("""
                {"added_tokens_decoder": {
                 "3": {"content": "<|endoftext|>", "lstrip": false, "normalized": false, "rstrip": false,
                       "single_word": false, "special": true},
                 "4": {"content": "<|im_end|>", "lstrip": false, "normalized": false, "rstrip": false,
                       "single_word": false, "special": true}}}""")) {
            assertThat(tok.encode("the <|im_end|> cat <|endoftext|>")).containsExactly(1, 4, 2, 3);
            assertThat(tok.vocabSize()).isEqualTo(5);
            assertThat(tok.decode(new int[] {1, 4, 2, 3})).isEqualTo("the cat");
        }
    }

    /**
     * An entry without a content, or with a null one, is {@code AddedToken("")} in v4 (the tokenizers binding reads
     * a missing content as empty), which {@code add_tokens} ignores: it adds nothing, and &lt;x&gt; after it still
     * gets the next free id, 5. As any entry, it replaces an earlier one of a key reading as the same integer ("05"
     * after "5"), so then &lt;x&gt; is not added and splits into three [UNK]s.
     */
    @Test
    void anEntryWithoutContentIsAnEmptyTokenAndAddsNothing() {
        try (HuggingFaceTokenizer tok = open("{\"added_tokens_decoder\": {\"5\": {\"special\": true}, "
                + "\"6\": {\"content\": null, \"special\": true}, \"7\": " + entry("<x>", true) + "}}")) {
            assertThat(tok.encode("the <x> cat")).containsExactly(1, 5, 2);
            assertThat(tok.vocabSize()).isEqualTo(6);
        }
        try (HuggingFaceTokenizer tok = open("{\"added_tokens_decoder\": {\"5\": " + entry("<x>", true)
                + ", \"05\": {\"normalized\": false}}}")) {
            assertThat(tok.encode("the <x> cat")).containsExactly(1, 0, 0, 0, 2);
            assertThat(tok.vocabSize()).isEqualTo(5);
        }
    }

    /**
     * What transformers v4 refuses ({@code None.items()}, {@code int(key)}, a value that is not a dict,
     * {@code AddedToken} given a content that is not a string or a flag that is not a bool), refused naming the file
     * and key before the native library loads.
     */
    @Test
    void aMalformedDecoderIsRefusedNamingTheFileAndKey() {
        String[][] cases = {
            {"{\"added_tokens_decoder\": []}", "added_tokens_decoder: expected an object of id -> token, got []"},
            {"{\"added_tokens_decoder\": null}",
                "added_tokens_decoder: expected an object of id -> token, got null"},
            {"{\"added_tokens_decoder\": {\"x\": " + entry("<x>", true) + "}}",
                "added_tokens_decoder: key \"x\" is not an integer"},
            {"{\"added_tokens_decoder\": {\"1.5\": " + entry("<x>", true) + "}}",
                "added_tokens_decoder: key \"1.5\" is not an integer"},
            {"{\"added_tokens_decoder\": {\"5\": \"<x>\"}}",
                "added_tokens_decoder \"5\": expected an object with a \"content\" string, got \"<x>\""},
            {"{\"added_tokens_decoder\": {\"5\": {\"content\": [\"<x>\"]}}}",
                "added_tokens_decoder \"5\": expected an object with a \"content\" string, got "
                    + "{\"content\":[\"<x>\"]}"},
            {"{\"added_tokens_decoder\": {\"5\": {\"content\": 5}}}",
                "added_tokens_decoder \"5\": expected an object with a \"content\" string, got {\"content\":5}"},
            {"{\"added_tokens_decoder\": {\"5\": {\"content\": \"<x>\", \"special\": \"yes\"}}}",
                "added_tokens_decoder \"5\": special: expected true or false, got \"yes\""},
            {"{\"added_tokens_decoder\": {\"5\": {\"content\": \"<x>\", \"lstrip\": null}}}",
                "added_tokens_decoder \"5\": lstrip: expected true or false, got null"},
        };
        for (String[] c : cases) {
            Path file = write(TokenizerFixtures.QWEN_STYLE, c[0]);
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).as(c[0])
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(file.resolveSibling("tokenizer_config.json") + ": " + c[1]);
        }
    }

    /**
     * An entry without {@code normalized} is normalized unless it is special (AddedToken's default): under a
     * Lowercase normalizer an ordinary "<X>" matches "<x>" too, a special one only itself, as does an ordinary one
     * that says {@code "normalized": false}.
     */
    @Test
    void anEntryWithoutNormalizedIsNormalizedUnlessSpecial() {
        String lower = TokenizerFixtures.WORD_LEVEL.replace("\"normalizer\": null",
                "\"normalizer\": {\"type\": \"Lowercase\"}");
        String[] entries = {"\"special\": false", "\"special\": true", "\"special\": false, \"normalized\": false"};
        int[][] lowerCase = {{12}, {0, 0, 0}, {0, 0, 0}};
        for (int i = 0; i < entries.length; i++) {
            Path file = TokenizerFixtures.write(dir.resolve("n" + i), lower,
                    "{\"added_tokens_decoder\": {\"12\": {\"content\": \"<X>\", " + entries[i] + "}}}");
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
                assertThat(tok.encode("<X>")).as(entries[i]).containsExactly(12);
                assertThat(tok.encode("<x>")).as(entries[i]).containsExactly(lowerCase[i]);
            }
        }
    }
}
