package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.SmallHeapCli;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.safetensors.SafetensorsWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * generate and logits run their tokens through the model in chunks: a whole sequence's activations can take far more
 * memory than its KV cache and logits, the sizes checked against the heap.
 */
class GeneratePromptMemoryTest {
    private static final int HIDDEN = 1024;
    private static final int PROMPT = 4000;

    @TempDir
    Path dir;

    /**
     * A model of hidden size 1024 and one 16-wide attention head: a 4,000-token prompt's KV cache is half a MB, but
     * its activations in one batch (the residual, norm and update rows, the attention and expert outputs, each
     * 4,000 x 1024 floats) are tens of MB more than a 64 MiB heap holds. Prefilled whole, generate ran out of memory
     * (exit 1) on a request its KV cache check had let through.
     */
    @Test
    void aLongPromptIsPrefilledWithinASmallHeap() throws Exception {
        Path model = write(dir.resolve("model"));
        StringBuilder prompt = new StringBuilder();
        Random r = new Random(5);
        for (int i = 0; i < PROMPT; i++) {
            prompt.append((char) ('a' + r.nextInt(26)));
        }
        String notes = runSmallHeap("generate", "--model", model.toString(), "--prompt", prompt.toString(),
                "--max-tokens", "3", "--threads", "1");
        assertThat(notes).contains((PROMPT + 1) + " prompt tokens");
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            assertThat(KvCache.bytes(m.config(), PROMPT + 3)).isLessThan(1L << 20);
        }
    }

    /**
     * logits over the same 4,000 ids: their logits are 4 MB and the KV cache half a MB, both checked against the
     * heap, but the activations of one batch were not and ran out of memory; in chunks they fit a 64 MiB heap.
     */
    @Test
    void logitsOfALongSequenceFitASmallHeap() throws Exception {
        Path model = write(dir.resolve("model"));
        StringBuilder ids = new StringBuilder();
        Random r = new Random(6);
        for (int i = 0; i < PROMPT; i++) {
            ids.append(i == 0 ? "" : ",").append(r.nextInt(258));
        }
        Path out = dir.resolve("logits.json");
        String notes = runSmallHeap("logits", "--model", model.toString(), "--token-ids", ids.toString(), "--output",
                out.toString(), "--threads", "1");
        assertThat(notes).contains("wrote " + out + " (" + PROMPT + " positions x 258 logits)");
        int[] tokens = java.util.Arrays.stream(ids.toString().split(",")).mapToInt(Integer::parseInt).toArray();
        try (MoeModel m = MoeModel.load(model, WeightFormat.STORED)) {
            float[][] expected = m.prefill(java.util.Arrays.copyOf(tokens, 300), 0, m.newCache(300), true);
            tools.jackson.databind.JsonNode json = tools.jackson.databind.json.JsonMapper.builder().build()
                    .readTree(out.toFile()).get("logits");
            assertThat(json.size()).isEqualTo(PROMPT);
            for (int p : new int[] {0, 255, 256, 299}) {
                for (int v = 0; v < 258; v++) {
                    assertThat(json.get(p).get(v).floatValue()).as("position %d id %d", p, v)
                            .isEqualTo(expected[p][v]);
                }
            }
        }
    }

    /**
     * Chunks change no bit: the last prompt token's logits prefilled in chunks of 256 equal those of one batch, in
     * every weight format (each row is dotted with each token's activations alone, whatever the batch).
     */
    @Test
    void chunksGiveTheLogitsOfOneBatch() throws Exception {
        Path model = TinyMixtral.write(dir.resolve("tiny"), 258, 32);
        int[] tokens = new int[700];
        Random r = new Random(9);
        for (int i = 0; i < tokens.length; i++) {
            tokens[i] = r.nextInt(258);
        }
        for (WeightFormat f : WeightFormat.values()) {
            try (MoeModel m = MoeModel.load(model, f)) {
                float[] whole = m.prefill(tokens, 0, m.newCache(tokens.length), false)[0];
                assertThat(m.prefillInChunks(tokens, 0, m.newCache(tokens.length), false)[0]).as(f.name())
                        .isEqualTo(whole);
            }
        }
    }

    /** Runs the CLI in a JVM with a 64 MiB heap; returns its standard output, then its standard error. */
    private String runSmallHeap(String... args) throws Exception {
        SmallHeapCli.Output o = SmallHeapCli.runRuntime(dir, args);
        return o.out() + o.err();
    }

    /** A byte-level Mixtral-layout model: one layer, hidden 1024, one attention head of 16, two experts of 32. */
    private static Path write(Path m) throws Exception {
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), """
                {"model_type": "mixtral", "vocab_size": 258, "hidden_size": %d, "num_hidden_layers": 1,
                 "num_attention_heads": 1, "num_key_value_heads": 1, "head_dim": 16, "intermediate_size": 32,
                 "num_local_experts": 2, "num_experts_per_tok": 1, "rms_norm_eps": 1e-5, "rope_theta": 10000}
                """.formatted(HIDDEN));
        Random r = new Random(1);
        SafetensorsWriter w = new SafetensorsWriter();
        TinyMixtral.add(w, r, "model.embed_tokens.weight", 258, HIDDEN);
        TinyMixtral.add(w, r, "model.layers.0.input_layernorm.weight", HIDDEN);
        TinyMixtral.add(w, r, "model.layers.0.post_attention_layernorm.weight", HIDDEN);
        TinyMixtral.add(w, r, "model.layers.0.self_attn.q_proj.weight", 16, HIDDEN);
        TinyMixtral.add(w, r, "model.layers.0.self_attn.k_proj.weight", 16, HIDDEN);
        TinyMixtral.add(w, r, "model.layers.0.self_attn.v_proj.weight", 16, HIDDEN);
        TinyMixtral.add(w, r, "model.layers.0.self_attn.o_proj.weight", HIDDEN, 16);
        TinyMixtral.add(w, r, "model.layers.0.block_sparse_moe.gate.weight", 2, HIDDEN);
        for (int e = 0; e < 2; e++) {
            String p = "model.layers.0.block_sparse_moe.experts." + e + ".";
            TinyMixtral.add(w, r, p + "w1.weight", 32, HIDDEN);
            TinyMixtral.add(w, r, p + "w3.weight", 32, HIDDEN);
            TinyMixtral.add(w, r, p + "w2.weight", HIDDEN, 32);
        }
        TinyMixtral.add(w, r, "model.norm.weight", HIDDEN);
        TinyMixtral.add(w, r, "lm_head.weight", 258, HIDDEN);
        w.write(m.resolve("model.safetensors"));
        return m;
    }
}
