package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.tokenizer.Tokenizer.Encoded;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The special ids added to a text, against what transformers' {@code tokenizer(text)} (add_special_tokens=True)
 * gives for the same files, worked out by hand from its source: {@code LlamaTokenizerFast.__init__} and
 * {@code GPTNeoXTokenizerFast.__init__} (v4) call {@code update_post_processor}, which replaces the file's
 * post-processor by {@code TemplateProcessing(single="<bos>:0 $A:0 <eos>:0")} holding BOS only when
 * {@code add_bos_token} and EOS only when {@code add_eos_token} (defaults: Llama true/false, GPT-NeoX false/false);
 * v5's {@code TokenizersBackend.__init__} does the same for any class when the config holds either key; otherwise
 * the file's {@code post_processor} is applied by the tokenizers library. The fixture's ids: [UNK]=0, &lt;s&gt;=1,
 * &lt;/s&gt;=2, the=3, cat=4 ({@link TokenizerFixtures#wordLevel}); the Qwen-style one: the=1, cat=2,
 * &lt;|endoftext|&gt;=3, &lt;|im_end|&gt;=4.
 */
class SpecialTokensTest {
    @TempDir
    Path dir;

    private int n;

    /** The encoding of {@code text} by a tokenizer.json and tokenizer_config.json (null: none) in a fresh folder. */
    private Encoded encode(String json, String config, String modelType, String text) {
        Path d = dir.resolve("t" + n++);
        Path file = config == null ? TokenizerFixtures.write(d, json) : TokenizerFixtures.write(d, json, config);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file, modelType)) {
            return tok.encodeWithSpecialTokens(text);
        }
    }

    private Encoded encode(String json, String config) {
        return encode(json, config, null, "the cat");
    }

    private static void assertIds(Encoded e, int[] prefix, int[] text, int[] suffix) {
        assertThat(e.prefix()).as("prefix").containsExactly(prefix);
        assertThat(e.text()).as("text").containsExactly(text);
        assertThat(e.suffix()).as("suffix").containsExactly(suffix);
    }

    private static int[] ids(int... ids) {
        return ids;
    }

    /**
     * No tokenizer_config.json and no model type: PreTrainedTokenizerFast keeps the file's TemplateProcessing, so
     * tokenizer("the cat").input_ids is [1, 3, 4, 2]. A literal "&lt;s&gt;" in the text is the text's own id, not
     * taken for the added one; an empty text gets the added ids alone ([1, 2]).
     */
    @Test
    void theFilesTemplateAddsItsTokens() {
        Encoded e = encode(TokenizerFixtures.WORD_LEVEL, null);
        assertIds(e, ids(1), ids(3, 4), ids(2));
        assertThat(e.all()).containsExactly(1, 3, 4, 2);
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, null, null, "<s> the cat"), ids(1), ids(1, 3, 4), ids(2));
        assertThat(encode(TokenizerFixtures.WORD_LEVEL, null, null, "").all()).containsExactly(1, 2);
    }

    /**
     * Qwen-style: the ByteLevel post-processor adds nothing, whatever bos_token the config names
     * (Qwen2TokenizerFast does not rebuild it); tokenizer("the cat").input_ids is [1, 2]. moelab used to prepend
     * the named &lt;|endoftext|&gt; (3). Without a post-processor at all (v5 then builds "$A:0") nothing either.
     */
    @Test
    void byteLevelAddsNothingThoughTheConfigNamesABosToken() throws Exception {
        String config = """
                {"tokenizer_class": "Qwen2Tokenizer", "bos_token": "<|endoftext|>", "eos_token": "<|endoftext|>"}""";
        assertIds(encode(TokenizerFixtures.QWEN_BYTE_LEVEL, config), ids(), ids(1, 2), ids());
        assertIds(encode(TokenizerFixtures.QWEN_STYLE, config), ids(), ids(1, 2), ids());
        Path file = TokenizerFixtures.write(dir.resolve("named"), TokenizerFixtures.QWEN_BYTE_LEVEL, config);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file, "qwen2_moe")) {
            assertThat(tok.bosId()).hasValue(3); // named, yet not added
            assertThat(tok.encodeWithSpecialTokens("the cat").all()).containsExactly(1, 2);
        }
    }

    /** Mixtral's files: "tokenizer_class": "LlamaTokenizer", add_bos_token true, add_eos_token false: [1, 3, 4]. */
    @Test
    void mixtralGetsBos() {
        String config = """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": true, "add_eos_token": false,
                 "bos_token": "<s>", "eos_token": "</s>"}""";
        assertIds(encode(TokenizerFixtures.wordLevel(TokenizerFixtures.BOS_A), config), ids(1), ids(3, 4), ids());
    }

    /**
     * Each call's arrays are its own (Encoded does not copy them): a caller that changes one encoding's BOS, text or
     * EOS changes nothing of the tokenizer's template, the next encoding unchanged.
     */
    @Test
    void eachEncodingOwnsItsArrays() {
        String config = """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": true, "add_eos_token": true,
                 "bos_token": "<s>", "eos_token": "</s>"}""";
        Path file = TokenizerFixtures.write(dir.resolve("own"), TokenizerFixtures.wordLevel(TokenizerFixtures.BOS_A),
                config);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file, null)) {
            Encoded first = tok.encodeWithSpecialTokens("the cat");
            first.prefix()[0] = 99;
            first.text()[0] = 99;
            first.suffix()[0] = 99;
            assertIds(tok.encodeWithSpecialTokens("the cat"), ids(1), ids(3, 4), ids(2));
        }
    }

    /**
     * add_bos_token false rebuilds the template without BOS, dropping the file's &lt;s&gt; (and its &lt;/s&gt;,
     * add_eos_token being false): [3, 4]. For the Llama class (v4 always rebuilds) and for a config without a
     * tokenizer_class (v5 rebuilds when the key is present). A JSON null is false too.
     */
    @Test
    void addBosTokenFalseOverridesTheFilesTemplate() {
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, """
                {"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": false, "add_eos_token": false}"""),
                ids(), ids(3, 4), ids());
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, "{\"add_bos_token\": false}"), ids(), ids(3, 4), ids());
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, """
                {"tokenizer_class": "LlamaTokenizerFast", "add_bos_token": null}"""), ids(), ids(3, 4), ids());
    }

    /** add_eos_token true: single "&lt;s&gt;:0 $A:0 &lt;/s&gt;:0", though the file's template adds no EOS. */
    @Test
    void addEosTokenAppendsEos() {
        assertIds(encode(TokenizerFixtures.wordLevel(TokenizerFixtures.BOS_A), """
                {"tokenizer_class": "LlamaTokenizer", "add_bos_token": true, "add_eos_token": true,
                 "bos_token": "<s>", "eos_token": {"__type": "AddedToken", "content": "</s>", "special": true}}"""),
                ids(1), ids(3, 4), ids(2));
    }

    /**
     * The Llama class without add_bos_token/add_eos_token takes LlamaTokenizerFast's defaults (true, false,
     * bos_token "&lt;s&gt;"): BOS even where the file adds nothing, and the file's &lt;/s&gt; dropped.
     */
    @Test
    void theLlamaClassDefaultsToBosOnly() {
        String config = "{\"tokenizer_class\": \"LlamaTokenizerFast\"}";
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, config), ids(1), ids(3, 4), ids());
        assertIds(encode(TokenizerFixtures.wordLevel(TokenizerFixtures.BYTE_LEVEL), config), ids(1), ids(3, 4), ids());
        assertIds(encode(TokenizerFixtures.wordLevel("null"), config), ids(1), ids(3, 4), ids());
    }

    /**
     * OLMoE's class, GPTNeoXTokenizer: GPTNeoXTokenizerFast defaults add_bos_token and add_eos_token to false and
     * rebuilds the template, so nothing is added though bos_token is named and the file's template adds both
     * (moelab used to prepend the named BOS); add_bos_token true adds it.
     */
    @Test
    void theGptNeoXClassAddsNothingByDefault() {
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, """
                {"tokenizer_class": "GPTNeoXTokenizer", "bos_token": "<s>", "eos_token": "</s>"}"""),
                ids(), ids(3, 4), ids());
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, """
                {"tokenizer_class": "GPTNeoXTokenizer", "add_bos_token": false, "add_eos_token": false,
                 "bos_token": null, "eos_token": "</s>"}"""), ids(), ids(3, 4), ids());
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, """
                {"tokenizer_class": "GPTNeoXTokenizerFast", "add_bos_token": true, "bos_token": "<s>"}"""),
                ids(1), ids(3, 4), ids());
    }

    /**
     * Without a tokenizer_class, AutoTokenizer takes the class of config.json's model_type: mixtral
     * LlamaTokenizerFast (BOS only), olmoe GPTNeoXTokenizerFast (nothing), the Qwen families Qwen2TokenizerFast
     * (the file's template, here BOS and EOS).
     */
    @Test
    void theModelTypePicksTheClassWhenTheConfigNamesNone() {
        String json = TokenizerFixtures.WORD_LEVEL;
        assertIds(encode(json, null, "mixtral", "the cat"), ids(1), ids(3, 4), ids());
        assertIds(encode(json, "{\"bos_token\": \"<s>\"}", "mixtral", "the cat"), ids(1), ids(3, 4), ids());
        assertIds(encode(json, null, "olmoe", "the cat"), ids(), ids(3, 4), ids());
        assertIds(encode(json, null, "qwen3_moe", "the cat"), ids(1), ids(3, 4), ids(2));
        assertIds(encode(json, null, "qwen2_moe", "the cat"), ids(1), ids(3, 4), ids(2));
        // A named class wins over the model type.
        assertIds(encode(json, "{\"tokenizer_class\": \"PreTrainedTokenizerFast\"}", "mixtral", "the cat"), ids(1),
                ids(3, 4), ids(2));
    }

    /**
     * A class without a template of its own whose config sets the keys: v5 builds the template from them (v4 left
     * such keys unread); the tokens are looked up as convert_tokens_to_ids does, the added tokens and then the
     * vocabulary ("cat", 2, is no added token).
     */
    @Test
    void explicitKeysBuildTheTemplateForAnyClass() {
        assertIds(encode(TokenizerFixtures.QWEN_BYTE_LEVEL, """
                {"tokenizer_class": "Qwen2Tokenizer", "add_bos_token": true, "bos_token": "<|endoftext|>",
                 "add_eos_token": true, "eos_token": "<|im_end|>"}"""), ids(3), ids(1, 2), ids(4));
        assertIds(encode(TokenizerFixtures.QWEN_STYLE, """
                {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "cat"}"""), ids(2), ids(1, 2), ids());
    }

    /**
     * Bad tokenizer_config.json: one message naming it. transformers raises for add_bos_token true without a
     * bos_token, and fails to read malformed JSON; it used to be skipped silently here.
     */
    @Test
    void aBadTokenizerConfigIsRefusedNamingIt() {
        String json = TokenizerFixtures.WORD_LEVEL;
        String[][] cases = {
                {"{\"add_bos_token\": \"yes\"}", "add_bos_token: expected true, false or null, got \"yes\""},
                {"{\"add_eos_token\": 1}", "add_eos_token: expected true, false or null, got 1"},
                {"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"bos_token\": null}",
                        "add_bos_token is true but there is no bos_token"},
                {"{\"add_eos_token\": true}", "add_eos_token is true but there is no eos_token"},
                {"[1, 2]", "expected a JSON object"},
        };
        for (String[] c : cases) {
            Path file = TokenizerFixtures.write(dir.resolve("bad" + n++), json, c[0]);
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).as(c[0])
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(file.resolveSibling("tokenizer_config.json") + ": " + c[1]);
        }
        Path file = TokenizerFixtures.write(dir.resolve("bad" + n++), json, "{not json");
        assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).isInstanceOf(ModelFormatException.class)
                .hasMessageStartingWith(file.resolveSibling("tokenizer_config.json") + ": not valid JSON")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    /**
     * The one template token that can be neither an added token nor in the vocabulary: an empty bos_token or
     * eos_token (every other named token is added, see below; the library adds no empty one). transformers v4
     * builds the template ":0 $A:0" with {@code convert_tokens_to_ids("")}, which falls back to
     * {@code unk_token_id}: the Llama class (unk_token &lt;unk&gt;, added as id 12) would put &lt;unk&gt; before
     * every text, which no model reads as a BOS, and raises without an unk_token. moelab refuses it instead. A
     * vocabulary that holds "" gives it its id, as v4's lookup does ("" = 12 here, the text's ids unchanged).
     */
    @Test
    void anEmptyTemplateTokenIsRefusedNotReplacedByUnk() {
        String[][] cases = {
            {"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"bos_token\": \"\"}", "bos_token", "add_bos_token"},
            {"{\"tokenizer_class\": \"LlamaTokenizerFast\", \"add_eos_token\": true, "
                + "\"eos_token\": {\"__type\": \"AddedToken\", \"content\": \"\"}}", "eos_token", "add_eos_token"},
        };
        for (String[] c : cases) {
            Path file = TokenizerFixtures.write(dir.resolve("empty" + n++), TokenizerFixtures.WORD_LEVEL, c[0]);
            assertThatThrownBy(() -> HuggingFaceTokenizer.open(file)).as(c[0])
                    .isInstanceOf(ModelFormatException.class)
                    .hasMessage(file.resolveSibling("tokenizer_config.json") + ": " + c[1] + " is empty, and "
                            + c[2] + " would put it in every text: transformers v4 puts the unk_token's id there "
                            + "instead (and fails without an unk_token), which moelab does not follow; name a token "
                            + "or set " + c[2] + " to false");
        }
        String withEmpty = TokenizerFixtures.WORD_LEVEL.replace("\".\": 11}", "\".\": 11, \"\": 12}");
        assertThat(withEmpty).isNotEqualTo(TokenizerFixtures.WORD_LEVEL);
        assertIds(encode(withEmpty, "{\"tokenizer_class\": \"LlamaTokenizerFast\", \"bos_token\": \"\"}"),
                ids(12), ids(3, 4), ids());
    }

    /**
     * Special tokens that tokenizer_config.json names but tokenizer.json's added_tokens lacks are added as
     * transformers' {@code PreTrainedTokenizerFast.__init__} (v4) adds them, in the order bos, eos, unk, sep, pad,
     * cls, mask, additional_special_tokens, each special: a token in the model's vocabulary keeps its id, another
     * gets the tokenizers library's next id (the vocabulary's size, 12, while the added ids are below it, then one
     * past the largest). So a text holding them encodes them whole, decode skips them, and a named EOS is the EOS.
     * moelab used to leave them to the file: the text split them into unknown words and decode printed them.
     */
    @Test
    void specialTokensTheConfigNamesButTheFileLacksAreAdded() {
        Path file = TokenizerFixtures.write(dir.resolve("named"), TokenizerFixtures.wordLevel("null"), """
                {"eos_token": "<|eot|>", "pad_token": {"__type": "AddedToken", "content": "<pad>", "lstrip": false,
                 "rstrip": false, "normalized": false, "single_word": false, "special": true},
                 "bos_token": null, "additional_special_tokens": ["<tool>", "cat", "<|eot|>"]}""");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
            assertThat(tok.encode("the <|eot|> cat <tool> <pad>sat")).containsExactly(3, 12, 4, 14, 13, 5);
            assertThat(tok.eosId()).hasValue(12);
            assertThat(tok.vocabSize()).isEqualTo(15);
            assertThat(tok.decode(new int[] {3, 12, 4, 14, 13, 5})).isEqualTo("the sat");
        }
        // A BOS the config names and the file lacks is added, then put before a text by the Llama class's template
        // (its constructor adds the token before it builds the template); it used to be refused.
        Path llama = TokenizerFixtures.write(dir.resolve("llama"), TokenizerFixtures.WORD_LEVEL, """
                {"tokenizer_class": "LlamaTokenizerFast", "bos_token": "<bos>"}""");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(llama)) {
            assertIds(tok.encodeWithSpecialTokens("the cat"), new int[] {12}, new int[] {3, 4}, new int[0]);
            assertThat(tok.bosId()).hasValue(12);
        }
        // Without them the file stands: "cat" is a word that decode prints.
        Path plain = TokenizerFixtures.write(dir.resolve("plain"), TokenizerFixtures.wordLevel("null"), "{}");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(plain)) {
            assertThat(tok.decode(new int[] {3, 4})).isEqualTo("the cat");
            assertThat(tok.vocabSize()).isEqualTo(12);
        }
    }

    /**
     * The tokenizer class's own special tokens, where tokenizer_config.json lacks the key (or there is none) and
     * tokenizer.json's added_tokens lacks the token, are added as the named ones are: transformers v4 passes the
     * class's __init__ defaults (LlamaTokenizerFast: bos "&lt;s&gt;", eos "&lt;/s&gt;", unk "&lt;unk&gt;") to
     * PreTrainedTokenizerFast.__init__, which adds every special token the tokenizer lacks. The fixture's model
     * has 3 entries (the=1, cat=2) and the added ids reach 4 (&lt;|endoftext|&gt;=3, &lt;|im_end|&gt;=4), so the
     * tokenizers library gives &lt;s&gt;=5, &lt;/s&gt;=6, &lt;unk&gt;=7 in that order; the Llama template puts 5
     * first. moelab used to add none of them: "&lt;/s&gt;" split into unknown words, and the template refused the
     * missing "&lt;s&gt;".
     */
    @Test
    void theLlamaClassAddsItsDefaultTokens() {
        String json = TokenizerFixtures.QWEN_STYLE;
        for (String config : new String[] {"{\"tokenizer_class\": \"LlamaTokenizerFast\"}", null}) {
            Path d = dir.resolve("llama" + n++);
            Path file = config == null ? TokenizerFixtures.write(d, json) : TokenizerFixtures.write(d, json, config);
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file, "mixtral")) {
                assertThat(tok.encode("the </s> cat <unk>")).as(config).containsExactly(1, 6, 2, 7);
                assertIds(tok.encodeWithSpecialTokens("the cat"), ids(5), ids(1, 2), ids());
                assertThat(tok.bosId()).hasValue(5);
                assertThat(tok.eosId()).hasValue(6);
                assertThat(tok.vocabSize()).isEqualTo(8);
                assertThat(tok.decode(new int[] {5, 1, 6, 2, 7})).isEqualTo("the cat");
            }
        }
        // A key the config holds, null included, replaces the default: no <unk>, no </s> (the Whitespace
        // pre-tokenizer splits "</s>" into "</", "s", ">", each unknown), <s> still added as 5.
        Path file = TokenizerFixtures.write(dir.resolve("nulls"), json, """
                {"tokenizer_class": "LlamaTokenizer", "unk_token": null, "eos_token": "<|im_end|>"}""");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
            assertThat(tok.encode("the </s> <s>")).containsExactly(1, 0, 0, 0, 5);
            assertThat(tok.eosId()).hasValue(4);
            assertThat(tok.vocabSize()).isEqualTo(6);
        }
    }

    /**
     * A default token that the model's vocabulary holds keeps its id (the tokenizers library's add_tokens): the
     * word-level fixture without added_tokens has &lt;s&gt;=1 and &lt;/s&gt;=2 in its vocabulary, so they become
     * special with those ids, and &lt;unk&gt;, missing, gets the vocabulary's size, 12. "&lt;s&gt;the&lt;/s&gt;"
     * is then three tokens, not the pieces "&lt;", "s", "&gt;the&lt;", ...
     */
    @Test
    void aDefaultTokenInTheVocabularyKeepsItsId() {
        String json = TokenizerFixtures.WORD_LEVEL.replaceFirst("\"added_tokens\": \\[[^\n]*\\],",
                "\"added_tokens\": [],");
        assertThat(json).contains("\"added_tokens\": [],");
        Path file = TokenizerFixtures.write(dir.resolve("vocab"), json, "{\"tokenizer_class\": \"LlamaTokenizer\"}");
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file)) {
            assertThat(tok.encode("<s>the</s><unk>")).containsExactly(1, 3, 2, 12);
            assertThat(tok.decode(new int[] {1, 3, 2, 12})).isEqualTo("the");
            assertThat(tok.vocabSize()).isEqualTo(13);
        }
    }

    /**
     * Qwen2TokenizerFast's defaults (unk, eos and pad "&lt;|endoftext|&gt;", no BOS) and GPTNeoXTokenizerFast's
     * (bos, eos, unk "&lt;|endoftext|&gt;") add the one token, once, as 12 (the vocabulary's size); the EOS is that
     * token, as transformers' eos_token_id, not the file's "&lt;/s&gt;" (2) that the usual names would find first.
     * Qwen2 keeps the file's template (&lt;s&gt; $A &lt;/s&gt;); GPT-NeoX adds nothing, or the default BOS (12)
     * when add_bos_token is true, which used to be refused as missing.
     */
    @Test
    void theQwen2AndGptNeoXClassesAddEndOfText() {
        String[][] cases = {{"{\"tokenizer_class\": \"Qwen2Tokenizer\"}", null}, {null, "qwen3_moe"},
                {"{\"tokenizer_class\": \"GPTNeoXTokenizerFast\"}", null}, {null, "olmoe"}};
        for (String[] c : cases) {
            Path d = dir.resolve("c" + n++);
            Path file = c[0] == null ? TokenizerFixtures.write(d, TokenizerFixtures.WORD_LEVEL)
                    : TokenizerFixtures.write(d, TokenizerFixtures.WORD_LEVEL, c[0]);
            try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file, c[1])) {
                String as = c[0] + " " + c[1];
                assertThat(tok.encode("the <|endoftext|> cat")).as(as).containsExactly(3, 12, 4);
                assertThat(tok.eosId()).as(as).hasValue(12);
                assertThat(tok.vocabSize()).as(as).isEqualTo(13);
                boolean qwen = (c[0] != null && c[0].contains("Qwen")) || "qwen3_moe".equals(c[1]);
                assertThat(tok.bosId()).as(as).hasValue(qwen ? 1 : 12);
                assertThat(tok.encodeWithSpecialTokens("the cat").all()).as(as)
                        .containsExactly(qwen ? new int[] {1, 3, 4, 2} : new int[] {3, 4});
            }
        }
        assertIds(encode(TokenizerFixtures.WORD_LEVEL, "{\"tokenizer_class\": \"GPTNeoXTokenizerFast\", "
                + "\"add_bos_token\": true}"), ids(12), ids(3, 4), ids());
    }
}
