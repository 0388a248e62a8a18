package io.moelab.runtime.model;

import io.moelab.runtime.ModelFormatException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The parts of a Hugging Face {@code config.json} the runtime uses, normalized over the families' key names.
 *
 * @param family              the model family ({@code model_type})
 * @param vocabSize           vocabulary size
 * @param hidden              hidden size
 * @param layers              decoder layers
 * @param heads               attention heads
 * @param kvHeads             key/value heads (grouped-query attention)
 * @param headDim             dimension of one head
 * @param intermediate        dense MLP size (also Mixtral's and OLMoE's expert size)
 * @param expertIntermediate  expert FFN size
 * @param experts             routed experts per MoE layer
 * @param topK                experts per token
 * @param normTopKProb        renormalize the top-k routing weights to sum to one
 * @param sharedIntermediate  shared expert size (Qwen2-MoE), 0 for none
 * @param sparseStep          every {@code sparseStep}-th layer is MoE (Qwen2/3-MoE {@code decoder_sparse_step})
 * @param mlpOnlyLayers       layers that are dense although the step would make them MoE
 * @param qkvBias             q/k/v projections have biases
 * @param ropeTheta           RoPE base
 * @param rmsNormEps          RMSNorm epsilon
 * @param tieWordEmbeddings   the output projection is the embedding matrix
 */
public record ModelConfig(Family family, int vocabSize, int hidden, int layers, int heads, int kvHeads, int headDim,
                          int intermediate, int expertIntermediate, int experts, int topK, boolean normTopKProb,
                          int sharedIntermediate, int sparseStep, Set<Integer> mlpOnlyLayers, boolean qkvBias,
                          double ropeTheta, double rmsNormEps, boolean tieWordEmbeddings) {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Copies the set. */
    public ModelConfig {
        mlpOnlyLayers = Set.copyOf(mlpOnlyLayers);
    }

    /** Whether layer {@code l} has a MoE block (otherwise a dense MLP). */
    public boolean isMoe(int l) {
        return experts > 0 && !mlpOnlyLayers.contains(l) && (l + 1) % sparseStep == 0;
    }

    /**
     * Reads a model directory's {@code config.json}.
     *
     * @throws ModelFormatException naming the directory when it has no {@code config.json}, else as {@link #read}
     */
    public static ModelConfig ofModel(Path dir) {
        Path file = dir.resolve("config.json");
        if (!Files.isRegularFile(file)) {
            throw new ModelFormatException(dir.toString(), null, "no config.json");
        }
        return read(file);
    }

    /**
     * Reads {@code config.json}.
     *
     * @throws ModelFormatException naming the file and key when it is missing, malformed or unsupported
     */
    public static ModelConfig read(Path file) {
        String where = file.toString();
        JsonNode n;
        try {
            String text = Files.readString(file);
            // A byte order mark from a hand edit on Windows: JSON lets a parser ignore it, Jackson reading a String
            // does not.
            n = JSON.readTree(text.startsWith("\uFEFF") ? text.substring(1) : text);
        } catch (IOException e) {
            throw new ModelFormatException(where, null, "cannot read: " + e.getMessage());
        } catch (JacksonException e) {
            throw new ModelFormatException(where, null, "not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) {
            throw new ModelFormatException(where, null, "expected a JSON object");
        }
        String type = text(n, "model_type", where);
        Family family = Family.of(type).orElseThrow(() -> new ModelFormatException(where, null,
                "unsupported model_type '" + type + "' (supported: mixtral, qwen2_moe, qwen3_moe, olmoe)"));
        JsonNode scaling = n.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw new ModelFormatException(where, null, "rope_scaling is not supported");
        }
        int hidden = positive(n, "hidden_size", where);
        int heads = positive(n, "num_attention_heads", where);
        int kvHeads = optionalInt(n, "num_key_value_heads", heads, where);
        int headDim = optionalInt(n, "head_dim", hidden / heads, where);
        if (heads % kvHeads != 0) {
            throw new ModelFormatException(where, null, "num_attention_heads " + heads
                    + " is not a multiple of num_key_value_heads " + kvHeads);
        }
        if (headDim % 2 != 0) {
            throw new ModelFormatException(where, null, "head_dim " + headDim + " must be even for RoPE");
        }
        if ((long) heads * headDim > Integer.MAX_VALUE) {
            // The query projection's rows: an int everywhere after this.
            throw new ModelFormatException(where, null, "num_attention_heads x head_dim = " + heads + " x " + headDim
                    + " is more rows than a projection can have");
        }
        int intermediate = positive(n, "intermediate_size", where);
        int experts = family == Family.MIXTRAL ? positive(n, "num_local_experts", where)
                : optionalInt(n, "num_experts", 0, where);
        int topK = positive(n, "num_experts_per_tok", where);
        if (experts > 0 && topK > experts) {
            throw new ModelFormatException(where, null, "num_experts_per_tok " + topK + " exceeds the " + experts
                    + " experts");
        }
        int expertIntermediate = switch (family) {
            case MIXTRAL, OLMOE -> intermediate;
            case QWEN2_MOE, QWEN3_MOE -> positive(n, "moe_intermediate_size", where);
        };
        boolean normTopK = switch (family) {
            case MIXTRAL -> true;
            case QWEN2_MOE, OLMOE -> optionalBool(n, "norm_topk_prob", false, where);
            case QWEN3_MOE -> optionalBool(n, "norm_topk_prob", true, where);
        };
        int shared = family == Family.QWEN2_MOE ? optionalInt(n, "shared_expert_intermediate_size", 0, where) : 0;
        int step = family == Family.QWEN2_MOE || family == Family.QWEN3_MOE
                ? optionalInt(n, "decoder_sparse_step", 1, where) : 1;
        if (step < 1) {
            throw new ModelFormatException(where, null, "decoder_sparse_step must be at least 1, got " + step);
        }
        Set<Integer> mlpOnly = new HashSet<>();
        JsonNode only = n.get("mlp_only_layers");
        if (only != null && !only.isNull()) {
            if (!only.isArray()) {
                throw new ModelFormatException(where, null, "mlp_only_layers must be a list of layer indices");
            }
            only.forEach(v -> mlpOnly.add(v.asInt()));
        }
        boolean bias = family == Family.QWEN3_MOE || family == Family.OLMOE
                ? optionalBool(n, "attention_bias", false, where)
                : family.defaultQkvBias();
        return new ModelConfig(family, positive(n, "vocab_size", where), hidden,
                positive(n, "num_hidden_layers", where), heads, kvHeads, headDim, intermediate, expertIntermediate,
                experts, topK, normTopK, shared, step, mlpOnly, bias, optionalDouble(n, "rope_theta", 10000, where),
                optionalDouble(n, "rms_norm_eps", 1e-6, where),
                optionalBool(n, "tie_word_embeddings", false, where));
    }

    private static String text(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || !v.isString()) {
            throw new ModelFormatException(where, null, "missing " + key);
        }
        return v.asString();
    }

    private static int positive(JsonNode n, String key, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            throw new ModelFormatException(where, null, "missing " + key);
        }
        int i = integer(v, key, where);
        if (i < 1) {
            throw new ModelFormatException(where, null, key + " must be positive, got " + i);
        }
        return i;
    }

    private static int optionalInt(JsonNode n, String key, int fallback, String where) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? fallback : integer(v, key, where);
    }

    private static int integer(JsonNode v, String key, String where) {
        if (!v.isIntegralNumber() || !v.canConvertToInt() || v.asInt() < 0) {
            throw new ModelFormatException(where, null, key + " must be a non-negative integer, got " + v);
        }
        return v.asInt();
    }

    private static boolean optionalBool(JsonNode n, String key, boolean fallback, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isBoolean()) {
            throw new ModelFormatException(where, null, key + " must be true or false, got " + v);
        }
        return v.asBoolean();
    }

    private static double optionalDouble(JsonNode n, String key, double fallback, String where) {
        JsonNode v = n.get(key);
        if (v == null || v.isNull()) {
            return fallback;
        }
        if (!v.isNumber() || !(v.asDouble() > 0)) {
            throw new ModelFormatException(where, null, key + " must be a positive number, got " + v);
        }
        return v.asDouble();
    }
}
