package io.moelab.runtime.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A special token that tokenizer.json's added_tokens already holds as an ordinary one ({@code "special": false}),
 * worked out by hand from transformers v4 and tokenizers v0.21. {@code _from_pretrained} replaces a
 * {@code bos_token} ... {@code mask_token} value (not {@code additional_special_tokens}) by the added token of that
 * content that it read (tokenizer_config.json's {@code added_tokens_decoder} when the config has that key, else
 * tokenizer.json's {@code added_tokens}); {@code Qwen2TokenizerFast.__init__} wraps its bos, eos, unk and pad
 * strings, its defaults included, in {@code AddedToken(special=True, normalized=False)}; a config object is an
 * AddedToken too. {@code PreTrainedTokenizerFast.__init__} then adds again each special token that is an AddedToken
 * (an AddedToken never equals the strings it is checked against), with {@code special} set, and the library's
 * {@code add_tokens} puts a token it meets again with other flags among its special tokens, keeping its id. A
 * plain string already added is not added again, so it stays as the file has it. Decode with
 * skip_special_tokens then drops the special ones.
 *
 * <p>The fixture: a WordLevel model without a decoder (decode joins tokens with spaces), [UNK]=0, the=1, cat=2,
 * &lt;|endoftext|&gt;=3, &lt;|im_end|&gt;=4, both added tokens ordinary.
 */
class NonSpecialAddedTokensTest {
    private static final String JSON = TokenizerFixtures.QWEN_STYLE
            .replace(ordinary("<|im_end|>", true), ordinary("<|im_end|>", false))
            .replace(ordinary("<|endoftext|>", true), ordinary("<|endoftext|>", false));

    /** the &lt;|im_end|&gt; cat &lt;|endoftext|&gt; */
    private static final int[] IDS = {1, 4, 2, 3};

    @TempDir
    Path dir;

    private int n;

    private static String ordinary(String content, boolean special) {
        return "\"content\":\"" + content + "\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,"
                + "\"normalized\":false,\"special\":" + special;
    }

    private String decode(String config, String modelType) {
        Path d = dir.resolve("t" + n++);
        Path file = config == null ? TokenizerFixtures.write(d, JSON) : TokenizerFixtures.write(d, JSON, config);
        try (HuggingFaceTokenizer tok = HuggingFaceTokenizer.open(file, modelType)) {
            assertThat(tok.encode("the <|im_end|> cat <|endoftext|>")).as(config).containsExactly(IDS);
            assertThat(tok.vocabSize()).isEqualTo(5);
            return tok.decode(IDS);
        }
    }

    @Test
    void theFixtureHasBothAsOrdinaryTokens() {
        assertThat(JSON).contains(ordinary("<|im_end|>", false)).contains(ordinary("<|endoftext|>", false))
                .doesNotContain(ordinary("<|im_end|>", true)).doesNotContain(ordinary("<|endoftext|>", true));
        assertThat(decode(null, null)).isEqualTo("the <|im_end|> cat <|endoftext|>");
    }

    /**
     * A config without added_tokens_decoder: eos_token becomes tokenizer.json's AddedToken, added again as special,
     * so decode drops it. moelab used to skip it as already added and print it.
     */
    @Test
    void aNamedTokenTheFileHoldsAsOrdinaryBecomesSpecial() {
        assertThat(decode("{\"eos_token\": \"<|im_end|>\"}", null)).isEqualTo("the cat <|endoftext|>");
        assertThat(decode("{\"pad_token\": \"<|endoftext|>\", \"unk_token\": \"<|im_end|>\"}", null))
                .isEqualTo("the cat");
        assertThat(decode("""
                {"eos_token": {"__type": "AddedToken", "content": "<|im_end|>", "normalized": false}}""", null))
                .isEqualTo("the cat <|endoftext|>");
    }

    /**
     * With added_tokens_decoder the replacement comes from it: a token it lists is added again as special; one it
     * lacks stays the string, already added, so the file's ordinary token stands.
     */
    @Test
    void addedTokensDecoderDecidesWhichNamedTokensAreReplaced() {
        assertThat(decode("""
                {"eos_token": "<|im_end|>", "added_tokens_decoder": {"4": {"content": "<|im_end|>",
                 "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": false}}}""",
                null)).isEqualTo("the cat <|endoftext|>");
        assertThat(decode("""
                {"eos_token": "<|im_end|>", "added_tokens_decoder": {"0": {"content": "[UNK]",
                 "lstrip": false, "normalized": false, "rstrip": false, "single_word": false, "special": true}}}""",
                null)).isEqualTo("the <|im_end|> cat <|endoftext|>");
    }

    /**
     * additional_special_tokens' strings are never replaced, so with added_tokens_decoder (here empty) they stay
     * ordinary; an object in the list is an AddedToken, added again as special. Without the key,
     * {@code _from_pretrained} passes tokenizer.json's added tokens to {@code __init__} as the decoder, which adds
     * each again, special where its content is any special token's ({@code all_special_tokens}, strings included):
     * then both are special (moelab used to leave the strings ordinary there too).
     */
    @Test
    void additionalSpecialTokensStringsStayAsTheFileHasThemUnderADecoder() {
        assertThat(decode("""
                {"additional_special_tokens": ["<|im_end|>", "<|endoftext|>"], "added_tokens_decoder": {}}""", null))
                .isEqualTo("the <|im_end|> cat <|endoftext|>");
        assertThat(decode("""
                {"additional_special_tokens": [{"__type": "AddedToken", "content": "<|im_end|>"}, "<|endoftext|>"],
                 "added_tokens_decoder": {}}""", null)).isEqualTo("the cat <|endoftext|>");
        assertThat(decode("{\"additional_special_tokens\": [\"<|im_end|>\", \"<|endoftext|>\"]}", null))
                .isEqualTo("the cat");
    }

    /**
     * A class default is a string passed to __init__, not replaced: under added_tokens_decoder the Llama and
     * GPT-NeoX defaults stay ordinary (here GPT-NeoX's &lt;|endoftext|&gt;); without it (no config at all, or one
     * without the key) tokenizer.json's tokens are the decoder, added again special where their content is a
     * special token's, the defaults' included. Qwen2TokenizerFast wraps its strings, defaults included, so its
     * default eos &lt;|endoftext|&gt; and a named eos string are special, even where added_tokens_decoder lacks them.
     */
    @Test
    void qwen2MakesItsStringsSpecialOtherClassesKeepTheirDefaultsOrdinary() {
        assertThat(decode("{\"added_tokens_decoder\": {}}", "olmoe")).isEqualTo("the <|im_end|> cat <|endoftext|>");
        assertThat(decode("{\"tokenizer_class\": \"GPTNeoXTokenizerFast\", \"added_tokens_decoder\": {}}", null))
                .isEqualTo("the <|im_end|> cat <|endoftext|>");
        assertThat(decode(null, "olmoe")).isEqualTo("the <|im_end|> cat");
        assertThat(decode("{\"tokenizer_class\": \"GPTNeoXTokenizerFast\"}", null)).isEqualTo("the <|im_end|> cat");
        assertThat(decode(null, "qwen3_moe")).isEqualTo("the <|im_end|> cat");
        assertThat(decode("{\"tokenizer_class\": \"Qwen2Tokenizer\"}", null)).isEqualTo("the <|im_end|> cat");
        assertThat(decode("""
                {"tokenizer_class": "Qwen2Tokenizer", "eos_token": "<|im_end|>", "pad_token": null,
                 "unk_token": null, "added_tokens_decoder": {}}""", null)).isEqualTo("the cat <|endoftext|>");
    }
}
