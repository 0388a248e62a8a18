package io.moelab.cli.runtime;

import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/** A one-layer Mixtral-layout model for command tests: hidden 8, 2 heads over 1 KV head, 2 experts, top-1. */
final class TinyMixtral {
    private TinyMixtral() {
    }

    /** Writes the model into {@code m} with a vocabulary of {@code vocab} tokens. */
    static Path write(Path m, int vocab) throws Exception {
        return write(m, vocab, 4);
    }

    /**
     * Writes the model with heads of {@code headDim} dimensions (even): a wide head makes a KV cache that holds few
     * positions ({@code KvCache.maxPositions}).
     */
    static Path write(Path m, int vocab, int headDim) throws Exception {
        return write(m, vocab, headDim, 1);
    }

    /**
     * Writes the model with {@code lm_head} scaled by {@code headScale}: a large scale gives logits thousands apart,
     * a model that predicts its texts terribly.
     */
    static Path write(Path m, int vocab, int headDim, float headScale) throws Exception {
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), """
                {"model_type": "mixtral", "vocab_size": %d, "hidden_size": 8, "num_hidden_layers": 1,
                 "num_attention_heads": 2, "num_key_value_heads": 1, "head_dim": %d, "intermediate_size": 6,
                 "num_local_experts": 2, "num_experts_per_tok": 1, "rms_norm_eps": 1e-5, "rope_theta": 10000}
                """.formatted(vocab, headDim));
        Random r = new Random(1);
        SafetensorsWriter w = new SafetensorsWriter();
        add(w, r, "model.embed_tokens.weight", vocab, 8);
        add(w, r, "model.layers.0.input_layernorm.weight", 8);
        add(w, r, "model.layers.0.post_attention_layernorm.weight", 8);
        add(w, r, "model.layers.0.self_attn.q_proj.weight", 2 * headDim, 8);
        add(w, r, "model.layers.0.self_attn.k_proj.weight", headDim, 8);
        add(w, r, "model.layers.0.self_attn.v_proj.weight", headDim, 8);
        add(w, r, "model.layers.0.self_attn.o_proj.weight", 8, 2 * headDim);
        add(w, r, "model.layers.0.block_sparse_moe.gate.weight", 2, 8);
        for (int e = 0; e < 2; e++) {
            String p = "model.layers.0.block_sparse_moe.experts." + e + ".";
            add(w, r, p + "w1.weight", 6, 8);
            add(w, r, p + "w3.weight", 6, 8);
            add(w, r, p + "w2.weight", 8, 6);
        }
        add(w, r, "model.norm.weight", 8);
        add(w, r, headScale, "lm_head.weight", vocab, 8);
        w.write(m.resolve("model.safetensors"));
        return m;
    }

    /** Adds a tensor of {@code shape} with random values. */
    static void add(SafetensorsWriter w, Random r, String name, int... shape) {
        add(w, r, 1, name, shape);
    }

    /** Adds a tensor of {@code shape} with random values times {@code scale}. */
    static void add(SafetensorsWriter w, Random r, float scale, String name, int... shape) {
        int n = 1;
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            n *= shape[i];
            s[i] = shape[i];
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) (0.3 * r.nextGaussian()) * scale;
        }
        w.add(name, DType.F32, s, v);
    }
}
