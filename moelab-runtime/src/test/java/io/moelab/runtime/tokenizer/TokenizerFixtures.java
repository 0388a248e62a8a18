package io.moelab.runtime.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-written {@code tokenizer.json} files. */
final class TokenizerFixtures {
    private TokenizerFixtures() {}

    private static String added(int id, String content) {
        return "{\"id\":" + id + ",\"content\":\"" + content + "\",\"single_word\":false,\"lstrip\":false,"
                + "\"rstrip\":false,\"normalized\":false,\"special\":true}";
    }

    /** TemplateProcessing whose single template is {@code <s> $A </s>}. */
    static final String BOS_A_EOS = template("""
            [{"SpecialToken": {"id": "<s>", "type_id": 0}},
             {"Sequence": {"id": "A", "type_id": 0}},
             {"SpecialToken": {"id": "</s>", "type_id": 0}}]""");

    /** TemplateProcessing whose single template is {@code <s> $A} (Mixtral's and Llama's tokenizer.json). */
    static final String BOS_A = template("""
            [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]""");

    /** The ByteLevel post-processor of Qwen's and GPT-NeoX's files: it adds no ids. */
    static final String BYTE_LEVEL = """
            {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true}""";

    private static String template(String single) {
        return """
                {
                  "type": "TemplateProcessing",
                  "single": %s,
                  "pair": [{"Sequence": {"id": "A", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}}],
                  "special_tokens": {
                    "<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]},
                    "</s>": {"id": "</s>", "ids": [2], "tokens": ["</s>"]}
                  }
                }""".formatted(single);
    }

    /**
     * A WordLevel model with a Whitespace pre-tokenizer: [UNK]=0, &lt;s&gt;=1, &lt;/s&gt;=2, then the=3 cat=4 sat=5
     * on=6 mat=7 a=8 dog=9 ran=10 .=11, and {@code postProcessor} (JSON).
     */
    static String wordLevel(String postProcessor) {
        return """
                {
                  "version": "1.0",
                  "truncation": null,
                  "padding": null,
                  "added_tokens": [%s, %s, %s],
                  "normalizer": null,
                  "pre_tokenizer": {"type": "Whitespace"},
                  "post_processor": %s,
                  "decoder": null,
                  "model": {
                    "type": "WordLevel",
                    "vocab": {"[UNK]": 0, "<s>": 1, "</s>": 2, "the": 3, "cat": 4, "sat": 5, "on": 6, "mat": 7,
                              "a": 8, "dog": 9, "ran": 10, ".": 11},
                    "unk_token": "[UNK]"
                  }
                }
                """.formatted(added(0, "[UNK]"), added(1, "<s>"), added(2, "</s>"), postProcessor);
    }

    /** {@link #wordLevel} with a post-processor that wraps a sequence in &lt;s&gt; ... &lt;/s&gt;. */
    static final String WORD_LEVEL = wordLevel(BOS_A_EOS);

    /**
     * A 3-word model ([UNK]=0, the=1, cat=2) with Qwen-style special tokens after it: &lt;|endoftext|&gt;=3,
     * &lt;|im_end|&gt;=4, no BOS (the ids the tokenizers library gives them, see {@link AddedTokenIdsTest}).
     */
    static final String QWEN_STYLE = """
            {
              "version": "1.0", "truncation": null, "padding": null,
              "added_tokens": [%s, %s, %s],
              "normalizer": null, "pre_tokenizer": {"type": "Whitespace"}, "post_processor": null, "decoder": null,
              "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "the": 1, "cat": 2}, "unk_token": "[UNK]"}
            }
            """.formatted(added(0, "[UNK]"), added(3, "<|endoftext|>"), added(4, "<|im_end|>"));

    /** The same model as {@link #QWEN_STYLE} with the ByteLevel post-processor Qwen's files have. */
    static final String QWEN_BYTE_LEVEL = QWEN_STYLE.replace("\"post_processor\": null", "\"post_processor\": "
            + BYTE_LEVEL);

    static Path write(Path dir, String json) {
        try {
            Files.createDirectories(dir);
            return Files.writeString(dir.resolve("tokenizer.json"), json);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** {@link #write}, with {@code config} as the tokenizer_config.json beside it. */
    static Path write(Path dir, String json, String config) {
        Path file = write(dir, json);
        try {
            Files.writeString(dir.resolve("tokenizer_config.json"), config);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }
}
