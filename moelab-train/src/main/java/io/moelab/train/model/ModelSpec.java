package io.moelab.train.model;

/**
 * The architecture of a trainable MoE decoder: the blocks of moelab-runtime (RMSNorm, RoPE in the rotate-half
 * convention, grouped-query attention with per-head q/k RMSNorm as in Qwen3-MoE, SwiGLU experts) and a sparse MoE
 * layer in every block.
 *
 * @param vocab      vocabulary size (258 for byte-level models: 256 bytes, BOS, EOS)
 * @param layers     decoder blocks
 * @param dModel     hidden size
 * @param heads      query heads
 * @param kvHeads    key/value heads; divides {@code heads}
 * @param experts    experts per MoE layer
 * @param topK       experts per token
 * @param expertDim  intermediate size of one expert
 * @param normTopK   renormalize the chosen experts' router probabilities to sum to 1 (Mixtral, Qwen3); off, the
 *                   expert outputs are weighted by the raw probabilities (Switch Transformer), which is what gives
 *                   a top-1 router its gradient
 * @param ropeTheta  RoPE base
 * @param rmsEps     RMSNorm epsilon
 */
public record ModelSpec(int vocab, int layers, int dModel, int heads, int kvHeads, int experts, int topK,
                        int expertDim, boolean normTopK, double ropeTheta, double rmsEps) {

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException naming the first inconsistent field
     */
    public ModelSpec {
        positive("vocab", vocab);
        positive("layers", layers);
        positive("d-model", dModel);
        positive("heads", heads);
        positive("kv-heads", kvHeads);
        positive("experts", experts);
        positive("top-k", topK);
        positive("expert-dim", expertDim);
        if (dModel % heads != 0) {
            throw new SettingException("d-model", dModel + " is not a multiple of heads " + heads,
                    "heads", heads + " does not divide d-model " + dModel);
        }
        if ((dModel / heads) % 2 != 0) {
            String rope = " a head dimension of " + dModel / heads + ", which must be even for RoPE";
            throw new SettingException("d-model", dModel + " with heads " + heads + " leaves" + rope,
                    "heads", heads + (heads == 1 ? " head leaves" : " heads leave") + rope);
        }
        if (heads % kvHeads != 0) {
            throw new SettingException("heads", heads + " is not a multiple of kv-heads " + kvHeads,
                    "kv-heads", kvHeads + " does not divide heads " + heads);
        }
        if (topK > experts) {
            throw new SettingException("top-k",
                    topK + " exceeds the " + experts + (experts == 1 ? " expert" : " experts"),
                    "experts", experts + " is fewer than top-k " + topK);
        }
        if (!(ropeTheta > 0 && Double.isFinite(ropeTheta))) {
            // Infinite: every rotation angle is 0, and the model silently loses positions.
            throw new SettingException("rope-theta", "must be a finite number > 0", ropeTheta);
        }
        if (!(rmsEps > 0 && Double.isFinite(rmsEps))) {
            throw new IllegalArgumentException("RMSNorm epsilon must be a finite number > 0, got " + rmsEps);
        }
        // Each weight is one tensor, filled from one Java array at initialization: the largest must fit one.
        double embedding = (double) vocab * dModel;
        double attention = (double) dModel * dModel;
        double expertBank = (double) experts * expertDim * dModel;
        if (Math.max(Math.max(embedding, attention), expertBank) > MAX_TENSOR) {
            String which = expertBank >= Math.max(embedding, attention) ? "experts x expert-dim x d-model"
                    : embedding >= attention ? "vocab x d-model" : "d-model x d-model";
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "a weight of %s = %.0f values is more than one tensor holds (at most %d)", which,
                    Math.max(Math.max(embedding, attention), expertBank), MAX_TENSOR));
        }
        // Then the count itself fits a long (layers up to 2^31 of tensors up to 2^31 values could not).
        double perLayer = 4 * attention + expertBank * 3 + (double) experts * dModel;
        if ((double) layers * perLayer + 2 * embedding > 1e18) {
            throw new IllegalArgumentException(String.format(java.util.Locale.ROOT,
                    "%d layers of %.0f parameters each is more than any machine holds", layers, perLayer));
        }
    }

    /** Most values one weight tensor may have: what one Java array holds. */
    public static final int MAX_TENSOR = Integer.MAX_VALUE - 8;

    /** The dimension of one attention head. */
    public int headDim() {
        return dModel / heads;
    }

    /** Parameters in all. */
    public long parameterCount() {
        long attention = (long) dModel * headDim() * (2L * heads + 2L * kvHeads) + 2L * headDim() + 2L * dModel;
        long moe = (long) experts * dModel + 3L * experts * dModel * expertDim;
        return layers * (attention + moe) + 2L * vocab * dModel + dModel;
    }

    /** Parameters one token uses (embedding row and output projection counted whole). */
    public long activeParameterCount() {
        long attention = (long) dModel * headDim() * (2L * heads + 2L * kvHeads) + 2L * headDim() + 2L * dModel;
        long moe = (long) experts * dModel + 3L * topK * dModel * expertDim;
        return layers * (attention + moe) + 2L * vocab * dModel + dModel;
    }

    private static void positive(String name, int v) {
        if (v <= 0) {
            throw new SettingException(name, "must be positive", v);
        }
    }
}
