package io.moelab.runtime.model;

import java.util.Locale;
import java.util.Optional;

/**
 * The MoE model families the runtime reads, by Hugging Face {@code model_type}: how their tensors are named and
 * which features their blocks have. All share RMSNorm, rotate-half RoPE, grouped-query attention and SwiGLU
 * experts with softmax top-k routing.
 */
public enum Family {
    /** Mixtral: {@code block_sparse_moe.gate}, {@code experts.E.w1/w3/w2}, top-k weights renormalized. */
    MIXTRAL("mixtral"),
    /**
     * Qwen2-MoE: q/k/v biases, {@code mlp.experts.E.{gate,up,down}_proj}, a shared expert scaled by a sigmoid
     * gate, {@code norm_topk_prob}, {@code decoder_sparse_step}, {@code mlp_only_layers}.
     */
    QWEN2_MOE("qwen2_moe"),
    /** Qwen3-MoE: like Qwen2-MoE without biases or shared expert, with RMSNorm of each head's q and k. */
    QWEN3_MOE("qwen3_moe"),
    /** OLMoE: RMSNorm of the whole q and k projections, {@code norm_topk_prob}. */
    OLMOE("olmoe");

    private final String modelType;

    Family(String modelType) {
        this.modelType = modelType;
    }

    /** The {@code model_type} in {@code config.json}. */
    public String modelType() {
        return modelType;
    }

    /** The family of a {@code model_type}, if supported. */
    public static Optional<Family> of(String modelType) {
        for (Family f : values()) {
            if (f.modelType.equals(modelType.toLowerCase(Locale.ROOT))) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /** transformers' {@code rms_norm_eps} of the family's config class, for a {@code config.json} without one. */
    double defaultRmsNormEps() {
        return this == MIXTRAL || this == OLMOE ? 1e-5 : 1e-6;
    }

    /**
     * transformers' {@code max_position_embeddings} of the family's config class, for a {@code config.json} without
     * the key.
     */
    int defaultMaxPositions() {
        return switch (this) {
            case MIXTRAL -> 4096 * 32;
            case QWEN2_MOE, QWEN3_MOE -> 32768;
            case OLMOE -> 4096;
        };
    }

    /** transformers' RoPE base of the family's config class, for a {@code config.json} without one. */
    double defaultRopeTheta() {
        return this == MIXTRAL ? 1e6 : 10000;
    }

    /**
     * transformers' {@code num_key_value_heads} of the family's config class, for a {@code config.json} without the
     * key: MixtralConfig 8, Qwen2MoeConfig 16, Qwen3MoeConfig 4, OlmoeConfig the query heads.
     */
    int defaultKeyValueHeads(int heads) {
        return switch (this) {
            case MIXTRAL -> 8;
            case QWEN2_MOE -> 16;
            case QWEN3_MOE -> 4;
            case OLMOE -> heads;
        };
    }

    /**
     * transformers' expert count of the family's config class, for a {@code config.json} without the key
     * ({@code num_local_experts} for Mixtral, {@code num_experts} for the others): MixtralConfig 8, Qwen2MoeConfig 60,
     * Qwen3MoeConfig 128, OlmoeConfig 64.
     */
    int defaultExperts() {
        return switch (this) {
            case MIXTRAL -> 8;
            case QWEN2_MOE -> 60;
            case QWEN3_MOE -> 128;
            case OLMOE -> 64;
        };
    }

    /** The key of the expert count in {@code config.json}. */
    String expertsKey() {
        return this == MIXTRAL ? "num_local_experts" : "num_experts";
    }

    /**
     * The other key transformers' config class reads as the expert count ({@code attribute_map}), or null:
     * MixtralConfig maps {@code num_experts} onto {@code num_local_experts}, OlmoeConfig and transformers v5's
     * Qwen3MoeConfig {@code num_local_experts} onto {@code num_experts}; Qwen2MoeConfig has none.
     */
    String expertsAlias() {
        return switch (this) {
            case MIXTRAL -> "num_experts";
            case QWEN3_MOE, OLMOE -> "num_local_experts";
            case QWEN2_MOE -> null;
        };
    }

    /**
     * transformers' {@code num_experts_per_tok} of the family's config class, for a {@code config.json} without the
     * key: MixtralConfig 2, Qwen2MoeConfig 4, Qwen3MoeConfig and OlmoeConfig 8.
     */
    int defaultTopK() {
        return switch (this) {
            case MIXTRAL -> 2;
            case QWEN2_MOE -> 4;
            case QWEN3_MOE, OLMOE -> 8;
        };
    }

    /**
     * transformers' {@code moe_intermediate_size} of the Qwen config classes, for a {@code config.json} without the
     * key: Qwen2MoeConfig 1408, Qwen3MoeConfig 768 (the other families' experts take {@code intermediate_size}).
     */
    int defaultMoeIntermediate() {
        return this == QWEN2_MOE ? 1408 : 768;
    }

    /**
     * Whether the family's decoder layers choose between sparse and dense blocks by {@code num_experts > 0},
     * {@code decoder_sparse_step} and {@code mlp_only_layers}, as transformers' Qwen MoE layers do; Mixtral's and
     * OLMoE's layers are always sparse.
     */
    boolean choosesSparseLayers() {
        return this == QWEN2_MOE || this == QWEN3_MOE;
    }

    /**
     * transformers' {@code eos_token_id} of the family's config class, for a {@code config.json} without the key:
     * MixtralConfig 2, OlmoeConfig 50279, none for the Qwen configs.
     */
    int[] defaultEosTokenIds() {
        return switch (this) {
            case MIXTRAL -> new int[] {2};
            case OLMOE -> new int[] {50279};
            case QWEN2_MOE, QWEN3_MOE -> new int[0];
        };
    }

    /** The router of layer {@code l}. */
    String router(int l) {
        return this == MIXTRAL ? layer(l) + "block_sparse_moe.gate.weight" : layer(l) + "mlp.gate.weight";
    }

    /** Expert {@code e}'s gate (w1), up (w3) and down (w2) projections of layer {@code l}. */
    String[] expert(int l, int e) {
        if (this == MIXTRAL) {
            String p = layer(l) + "block_sparse_moe.experts." + e + ".";
            return new String[] {p + "w1.weight", p + "w3.weight", p + "w2.weight"};
        }
        String p = layer(l) + "mlp.experts." + e + ".";
        return new String[] {p + "gate_proj.weight", p + "up_proj.weight", p + "down_proj.weight"};
    }

    /** A dense MLP's (or the shared expert's) gate, up and down projections under {@code prefix}. */
    static String[] mlp(String prefix) {
        return new String[] {prefix + "gate_proj.weight", prefix + "up_proj.weight", prefix + "down_proj.weight"};
    }

    static String layer(int l) {
        return "model.layers." + l + ".";
    }
}
