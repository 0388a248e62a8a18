package io.moelab.sim.spec;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What the simulator needs to know about an MoE model: its MoE layers and routed experts, top-k, and the
 * sizes that set expert FLOPs, weight bytes and activation bytes.
 *
 * @param name               name for reports
 * @param moeLayers          MoE layers (dense layers carry no experts to place)
 * @param experts            routed experts per MoE layer
 * @param topK               experts per token
 * @param hidden             hidden size H (activation width)
 * @param expertFfn          expert intermediate size F (SwiGLU: gate, up and down projections)
 * @param groups             expert groups for group-limited routing (DeepSeek-V3: 8), else 1; divides {@code experts}
 * @param bytesPerParam      bytes per expert weight (bf16: 2)
 * @param sharedExperts      shared experts every token passes through (computed where the token is)
 * @param sharedFfn          intermediate size of a shared expert
 * @param denseFlopsPerToken non-expert FLOPs per token per MoE layer (attention and projections); placement
 *                           does not change them, they only dilute what balance buys
 */
public record ModelSpec(String name, int moeLayers, int experts, int topK, int hidden, int expertFfn, int groups,
                        int bytesPerParam, int sharedExperts, int sharedFfn, double denseFlopsPerToken) {

    /**
     * Validates ranges, naming the field.
     *
     * @throws NullPointerException  if {@code name} is null
     * @throws InvalidInputException naming the field out of range
     */
    public ModelSpec {
        Objects.requireNonNull(name, "name");
        positive(moeLayers, "moe_layers");
        positive(experts, "experts");
        positive(topK, "top_k");
        positive(hidden, "hidden");
        positive(expertFfn, "expert_ffn");
        positive(groups, "groups");
        positive(bytesPerParam, "bytes_per_param");
        if (experts % groups != 0) {
            // Group-limited routing splits the experts into equal groups; the default deepseek policy plans by them,
            // and a remainder failed only at its first rebalance, after the policies before it had been simulated.
            throw new InvalidInputException("groups", groups + " expert groups do not split the " + experts
                    + " experts evenly");
        }
        if (topK > experts) {
            throw new InvalidInputException("top_k", "k=" + topK + " exceeds experts=" + experts);
        }
        // Each named with its value: a negative shared_ffn was reported as shared_experts.
        if (sharedExperts < 0) {
            throw new InvalidInputException("shared_experts", "must not be negative, got " + sharedExperts);
        }
        if (sharedFfn < 0) {
            throw new InvalidInputException("shared_ffn", "must not be negative, got " + sharedFfn);
        }
        if (!(denseFlopsPerToken >= 0) || Double.isInfinite(denseFlopsPerToken)) {
            throw new InvalidInputException("dense_flops_per_token", "must be a finite number >= 0");
        }
    }

    private static void positive(int v, String field) {
        if (v <= 0) {
            throw new InvalidInputException(field, "must be at least 1, got " + v);
        }
    }

    /**
     * A model from its sizes; dense FLOPs per token default to the four attention projections,
     * {@code 2 * 4 * H^2}.
     */
    static ModelSpec of(String name, int layers, int experts, int topK, int hidden, int ffn, int groups, int shared,
                        int sharedFfn) {
        return new ModelSpec(name, layers, experts, topK, hidden, ffn, groups, 2, shared, sharedFfn,
                8.0 * hidden * hidden);
    }

    private static final Map<String, ModelSpec> PRESETS = new LinkedHashMap<>();

    static {
        PRESETS.put("deepseek-v3", of("deepseek-v3", 58, 256, 8, 7168, 2048, 8, 1, 2048));
        PRESETS.put("deepseek-v2-lite", of("deepseek-v2-lite", 26, 64, 6, 2048, 1408, 1, 2, 1408));
        PRESETS.put("qwen3-30b-a3b", of("qwen3-30b-a3b", 48, 128, 8, 2048, 768, 1, 0, 0));
        PRESETS.put("qwen3-235b-a22b", of("qwen3-235b-a22b", 94, 128, 8, 4096, 1536, 1, 0, 0));
        PRESETS.put("mixtral-8x7b", of("mixtral-8x7b", 32, 8, 2, 4096, 14336, 1, 0, 0));
    }

    /** Preset names, in a stable order: an unmodifiable view (the presets are shared by every caller). */
    public static java.util.Set<String> presets() {
        return Collections.unmodifiableSet(PRESETS.keySet());
    }

    /**
     * A preset by name.
     *
     * @throws InvalidInputException naming {@code model}
     */
    public static ModelSpec preset(String name) {
        ModelSpec m = PRESETS.get(name.toLowerCase(Locale.ROOT));
        if (m == null) {
            throw new InvalidInputException("model", "unknown model '" + name + "' (presets: "
                    + String.join(", ", PRESETS.keySet()) + "; or a JSON file, or a Hugging Face config.json)");
        }
        return m;
    }

    /** FLOPs of one token through one routed expert: SwiGLU's three H x F matrices, two FLOPs per multiply-add. */
    public double expertFlopsPerToken() {
        return 6.0 * hidden * expertFfn;
    }

    /** Bytes of one routed expert's weights. */
    public double expertBytes() {
        return 3.0 * hidden * expertFfn * bytesPerParam;
    }

    /** Non-expert FLOPs per token per MoE layer, shared experts included. */
    public double uniformFlopsPerToken() {
        return denseFlopsPerToken + 6.0 * hidden * (double) sharedFfn * sharedExperts;
    }

    @Override
    public String toString() {
        return name + " (" + Nouns.count(moeLayers, "MoE layer") + " x " + Nouns.count(experts, "expert") + ", top-"
                + topK + ", hidden " + hidden + ", expert FFN " + expertFfn + ")";
    }
}
