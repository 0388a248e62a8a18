package io.moelab.runtime.model;

import io.moelab.runtime.safetensors.SafetensorsWriter;
import io.moelab.runtime.tensor.DType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * A tiny random checkpoint in one family's exact Hugging Face layout ({@code config.json} + safetensors), and
 * the weights it holds as doubles for the reference forward pass. Values are drawn already representable in the
 * stored type, so every correct writer and reader sees the same numbers.
 */
final class TinyModel {
    static final JsonMapper JSON = JsonMapper.builder().build();

    final Family family;
    final ObjectNode config;
    final Map<String, double[]> weights = new LinkedHashMap<>();
    final Map<String, long[]> shapes = new LinkedHashMap<>();
    /** Tensors written to the checkpoint but not part of the model ({@link #stray}). */
    final Map<String, double[]> strays = new LinkedHashMap<>();
    private final DType dtype;
    private final Random random;

    private TinyModel(Family family, DType dtype, long seed) {
        this.family = family;
        this.dtype = dtype;
        this.random = new Random(seed);
        this.config = JSON.createObjectNode();
    }

    /** The standard tiny shape of each family: 3 layers, 4 heads over 2 KV heads, 4 experts, top-2. */
    static TinyModel create(Family family, DType dtype, long seed) {
        return create(family, dtype, seed, false);
    }

    /**
     * A tiny model; {@code wide} makes every projection's input a multiple of 64 (hidden 64, heads of 16,
     * experts of 64), so that load-time quantization applies to all of them.
     */
    static TinyModel create(Family family, DType dtype, long seed, boolean wide) {
        return create(family, dtype, seed, wide, c -> { });
    }

    /** As {@link #create(Family, DType, long, boolean)}, with {@code edit} applied to the config before filling. */
    static TinyModel create(Family family, DType dtype, long seed, boolean wide,
                            java.util.function.Consumer<ObjectNode> edit) {
        TinyModel m = new TinyModel(family, dtype, seed);
        ObjectNode c = m.config;
        c.put("model_type", family.modelType());
        c.put("vocab_size", 50);
        c.put("hidden_size", 16);
        c.put("num_hidden_layers", 3);
        c.put("num_attention_heads", 4);
        c.put("num_key_value_heads", 2);
        c.put("rms_norm_eps", 1e-5);
        c.put("rope_theta", 10000.0);
        c.put("num_experts_per_tok", 2);
        c.put("tie_word_embeddings", false);
        switch (family) {
            case MIXTRAL -> {
                c.put("intermediate_size", 12);
                c.put("num_local_experts", 4);
            }
            case QWEN2_MOE -> {
                c.put("intermediate_size", 20);
                c.put("moe_intermediate_size", 12);
                c.put("shared_expert_intermediate_size", 10);
                c.put("num_experts", 4);
                c.put("norm_topk_prob", false);
                c.put("decoder_sparse_step", 1);
                c.putArray("mlp_only_layers").add(1);
            }
            case QWEN3_MOE -> {
                c.put("intermediate_size", 20);
                c.put("moe_intermediate_size", 12);
                c.put("num_experts", 4);
                c.put("head_dim", 6);
                c.put("norm_topk_prob", true);
                c.put("decoder_sparse_step", 2);
            }
            case OLMOE -> {
                c.put("intermediate_size", 12);
                c.put("num_experts", 4);
                c.put("norm_topk_prob", false);
            }
        }
        if (wide) {
            c.put("hidden_size", 64);
            c.put("intermediate_size", family == Family.MIXTRAL || family == Family.OLMOE ? 64 : 128);
            if (c.has("moe_intermediate_size")) {
                c.put("moe_intermediate_size", 64);
            }
            if (c.has("shared_expert_intermediate_size")) {
                c.put("shared_expert_intermediate_size", 64);
            }
            if (c.has("head_dim")) {
                c.put("head_dim", 16);
            }
        }
        edit.accept(c);
        m.fill();
        return m;
    }

    /**
     * A copy of this model with its config edited and the same weights, which the caller then rewrites to match (a
     * metamorphic variant: renumbered experts, repeated KV heads). Nothing is drawn: every weight is this model's.
     */
    TinyModel derive(java.util.function.Consumer<ObjectNode> edit) {
        TinyModel d = new TinyModel(family, dtype, 0);
        d.config.setAll(config.deepCopy());
        edit.accept(d.config);
        weights.forEach((name, v) -> d.weights.put(name, v.clone()));
        shapes.forEach((name, s) -> d.shapes.put(name, s.clone()));
        strays.forEach((name, v) -> d.strays.put(name, v.clone()));
        return d;
    }

    private boolean flag(String key, boolean fallback) {
        return config.has(key) && !config.get(key).isNull() ? config.get(key).asBoolean() : fallback;
    }

    /**
     * Adds a tensor of {@code n} values, all {@code value}, to the checkpoint only: the reference forward pass does
     * not see it (a weight the family's transformers module does not have).
     */
    void stray(String name, double value, int n) {
        double[] v = new double[n];
        java.util.Arrays.fill(v, representable(value));
        strays.put(name, v);
    }

    int hidden() {
        return config.get("hidden_size").asInt();
    }

    int headDim() {
        return config.has("head_dim") ? config.get("head_dim").asInt()
                : hidden() / config.get("num_attention_heads").asInt();
    }

    boolean moeLayer(int l) {
        int step = config.has("decoder_sparse_step") ? config.get("decoder_sparse_step").asInt() : 1;
        boolean only = config.has("mlp_only_layers") && config.get("mlp_only_layers").valueStream()
                .anyMatch(v -> v.asInt() == l);
        return !only && (l + 1) % step == 0;
    }

    private void fill() {
        int h = hidden();
        int hd = headDim();
        int heads = config.get("num_attention_heads").asInt();
        int kv = config.get("num_key_value_heads").asInt();
        int vocab = config.get("vocab_size").asInt();
        int experts = config.has("num_local_experts") ? config.get("num_local_experts").asInt()
                : config.get("num_experts").asInt();
        int expertInner = config.has("moe_intermediate_size") ? config.get("moe_intermediate_size").asInt()
                : config.get("intermediate_size").asInt();
        add("model.embed_tokens.weight", 1.0, vocab, h);
        for (int l = 0; l < config.get("num_hidden_layers").asInt(); l++) {
            String p = "model.layers." + l + ".";
            norm(p + "input_layernorm.weight", h);
            norm(p + "post_attention_layernorm.weight", h);
            double s = 1 / Math.sqrt(h);
            add(p + "self_attn.q_proj.weight", s, heads * hd, h);
            add(p + "self_attn.k_proj.weight", s, kv * hd, h);
            add(p + "self_attn.v_proj.weight", s, kv * hd, h);
            add(p + "self_attn.o_proj.weight", 1 / Math.sqrt(heads * hd), h, heads * hd);
            // The biases transformers' attention has: Qwen2-MoE's q/k/v by qkv_bias (default true), Qwen3-MoE's and
            // OLMoE's q/k/v/o by attention_bias (default false), Mixtral's none.
            boolean qkvBias = family == Family.QWEN2_MOE ? flag("qkv_bias", true)
                    : family != Family.MIXTRAL && flag("attention_bias", false);
            if (qkvBias) {
                add(p + "self_attn.q_proj.bias", 0.1, heads * hd);
                add(p + "self_attn.k_proj.bias", 0.1, kv * hd);
                add(p + "self_attn.v_proj.bias", 0.1, kv * hd);
                if (family != Family.QWEN2_MOE) {
                    add(p + "self_attn.o_proj.bias", 0.1, h);
                }
            }
            if (family == Family.QWEN3_MOE) {
                norm(p + "self_attn.q_norm.weight", hd);
                norm(p + "self_attn.k_norm.weight", hd);
            }
            if (family == Family.OLMOE) {
                norm(p + "self_attn.q_norm.weight", heads * hd);
                norm(p + "self_attn.k_norm.weight", kv * hd);
            }
            if (!moeLayer(l)) {
                swiglu(p + "mlp.", "gate_proj", "up_proj", "down_proj", config.get("intermediate_size").asInt());
                continue;
            }
            if (family == Family.MIXTRAL) {
                add(p + "block_sparse_moe.gate.weight", 1.0, experts, h);
                for (int e = 0; e < experts; e++) {
                    swiglu(p + "block_sparse_moe.experts." + e + ".", "w1", "w3", "w2", expertInner);
                }
            } else {
                add(p + "mlp.gate.weight", 1.0, experts, h);
                for (int e = 0; e < experts; e++) {
                    swiglu(p + "mlp.experts." + e + ".", "gate_proj", "up_proj", "down_proj", expertInner);
                }
            }
            if (family == Family.QWEN2_MOE) {
                int shared = config.get("shared_expert_intermediate_size").asInt();
                swiglu(p + "mlp.shared_expert.", "gate_proj", "up_proj", "down_proj", shared);
                add(p + "mlp.shared_expert_gate.weight", s, 1, h);
            }
        }
        norm("model.norm.weight", h);
        add("lm_head.weight", 1 / Math.sqrt(h), vocab, h);
    }

    private void swiglu(String prefix, String gate, String up, String down, int inner) {
        int h = hidden();
        add(prefix + gate + ".weight", 1 / Math.sqrt(h), inner, h);
        add(prefix + up + ".weight", 1 / Math.sqrt(h), inner, h);
        add(prefix + down + ".weight", 1 / Math.sqrt(inner), h, inner);
    }

    private void norm(String name, int n) {
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = representable(1 + 0.2 * random.nextGaussian());
        }
        weights.put(name, v);
        shapes.put(name, new long[] {n});
    }

    private void add(String name, double scale, int... shape) {
        int n = 1;
        long[] s = new long[shape.length];
        for (int i = 0; i < shape.length; i++) {
            n *= shape[i];
            s[i] = shape[i];
        }
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            v[i] = representable(scale * random.nextGaussian());
        }
        weights.put(name, v);
        shapes.put(name, s);
    }

    /** The nearest value the stored type holds (round to nearest even), computed without the writer. */
    private double representable(double x) {
        float f = (float) x;
        return switch (dtype) {
            case F32 -> f;
            case F16 -> Float.float16ToFloat(Float.floatToFloat16(f));
            case BF16 -> {
                int bits = Float.floatToRawIntBits(f);
                int rounded = (bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16;
                yield Float.intBitsToFloat(rounded << 16);
            }
        };
    }

    /** Writes config.json and model.safetensors into {@code dir}. */
    Path write(Path dir) throws IOException {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("config.json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        SafetensorsWriter w = new SafetensorsWriter();
        weights.forEach((name, v) -> {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            w.add(name, dtype, shapes.get(name), f);
        });
        strays.forEach((name, v) -> {
            float[] f = new float[v.length];
            for (int i = 0; i < v.length; i++) {
                f[i] = (float) v[i];
            }
            w.add(name, dtype, new long[] {v.length}, f);
        });
        w.write(dir.resolve("model.safetensors"));
        return dir;
    }
}
