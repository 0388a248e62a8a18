package io.moelab.runtime.model;

import io.moelab.runtime.ModelFormatException;
import io.moelab.runtime.safetensors.ShardedCheckpoint;
import io.moelab.runtime.safetensors.TensorInfo;
import io.moelab.runtime.tensor.MatVec;
import io.moelab.runtime.tensor.ProductTeam;
import io.moelab.runtime.tensor.WeightMatrix;
import io.moelab.runtime.tensor.WeightSlabs;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/**
 * A decoder-only MoE transformer read from a Hugging Face directory ({@code config.json} and safetensors):
 * token embedding, then per layer RMSNorm, grouped-query attention with rotate-half RoPE and a KV cache, RMSNorm,
 * and a sparse MoE block (softmax top-k routing over SwiGLU experts; Qwen2-MoE adds a sigmoid-gated shared
 * expert) or a dense SwiGLU MLP; a final RMSNorm and the output projection.
 *
 * <p>Projection matrices stay memory-mapped in the checkpoint's type unless a {@link WeightFormat} quantizes
 * or repacks them at load time. Activations are float32. One instance may serve one sequence at a time per
 * {@link KvCache}; {@link #forward} is not thread-safe for a shared cache.
 */
public final class MoeModel implements AutoCloseable {
    private final ModelConfig config;
    private final ShardedCheckpoint checkpoint;
    /** Where load-time copies (packed, quantized) go: back to back, on huge pages where the OS gives them. */
    private final WeightSlabs weightMemory = new WeightSlabs();
    /** The checkpoint's tensors this model computes with: only they are blamed for non-finite logits. */
    private final Set<String> used = new HashSet<>();
    private final WeightMatrix embedding;
    private final WeightMatrix output;
    private final float[] finalNorm;
    private final Layer[] layers;
    private final double[] invFreq;
    private RoutingListener listener = RoutingListener.NONE;

    /** One decoder layer's weights; {@code experts} is null for a dense layer. */
    private record Layer(float[] inputNorm, float[] postNorm, WeightMatrix q, WeightMatrix k, WeightMatrix v,
                         WeightMatrix o, float[] qBias, float[] kBias, float[] vBias, float[] oBias, float[] qNorm,
                         float[] kNorm, WeightMatrix router, WeightMatrix[][] experts, WeightMatrix[] dense,
                         WeightMatrix[] shared, WeightMatrix sharedGate) {
    }

    private MoeModel(ModelConfig config, ShardedCheckpoint checkpoint, WeightFormat format) {
        this.config = config;
        this.checkpoint = checkpoint;
        int h = config.hidden();
        this.embedding = matrix("model.embed_tokens.weight", config.vocabSize(), h, WeightFormat.STORED);
        // Tied as Hugging Face ties them: the embedding is the output projection, and an lm_head.weight in the
        // checkpoint is ignored (transformers overwrites it with the embedding after loading).
        this.output = config.tieWordEmbeddings() ? embedding
                : matrix("lm_head.weight", config.vocabSize(), h, format);
        this.finalNorm = vector("model.norm.weight", h);
        // The last layer's first tensor before an array of every layer: num_hidden_layers cannot size an allocation
        // the checkpoint does not back.
        info("model.layers." + (config.layers() - 1) + ".input_layernorm.weight", h);
        this.layers = new Layer[config.layers()];
        for (int l = 0; l < layers.length; l++) {
            layers[l] = layer(l, format);
        }
        int half = config.headDim() / 2;
        this.invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = 1.0 / Math.pow(config.ropeTheta(), 2.0 * i / config.headDim());
        }
    }

    /**
     * Loads a model directory.
     *
     * @throws ModelFormatException naming the file and tensor when the checkpoint is missing, corrupt or
     *                              disagrees with {@code config.json}
     */
    public static MoeModel load(Path dir, WeightFormat format) {
        ModelConfig config = ModelConfig.ofModel(dir);
        ShardedCheckpoint checkpoint = ShardedCheckpoint.open(dir);
        try {
            return new MoeModel(config, checkpoint, format);
        } catch (RuntimeException e) {
            checkpoint.close();
            throw e;
        }
    }

    private Layer layer(int l, WeightFormat format) {
        String p = Family.layer(l);
        ModelConfig c = config;
        int h = c.hidden();
        int qDim = c.heads() * c.headDim();
        int kvDim = c.kvHeads() * c.headDim();
        String a = p + "self_attn.";
        float[] qNorm = null;
        float[] kNorm = null;
        if (c.family() == Family.QWEN3_MOE) {
            qNorm = vector(a + "q_norm.weight", c.headDim());
            kNorm = vector(a + "k_norm.weight", c.headDim());
        } else if (c.family() == Family.OLMOE) {
            qNorm = vector(a + "q_norm.weight", qDim);
            kNorm = vector(a + "k_norm.weight", kvDim);
        }
        WeightMatrix router = null;
        WeightMatrix[][] experts = null;
        WeightMatrix[] dense = null;
        WeightMatrix[] shared = null;
        WeightMatrix sharedGate = null;
        if (c.isMoe(l)) {
            router = matrix(c.family().router(l), c.experts(), h, WeightFormat.STORED);
            experts = new WeightMatrix[c.experts()][];
            for (int e = 0; e < c.experts(); e++) {
                experts[e] = swiglu(c.family().expert(l, e), c.expertIntermediate(), format);
            }
            if (c.sharedIntermediate() > 0) {
                shared = swiglu(Family.mlp(p + "mlp.shared_expert."), c.sharedIntermediate(), format);
                sharedGate = matrix(p + "mlp.shared_expert_gate.weight", 1, h, WeightFormat.STORED);
            }
        } else {
            dense = swiglu(Family.mlp(p + "mlp."), c.intermediate(), format);
        }
        return new Layer(vector(p + "input_layernorm.weight", h), vector(p + "post_attention_layernorm.weight", h),
                matrix(a + "q_proj.weight", qDim, h, format), matrix(a + "k_proj.weight", kvDim, h, format),
                matrix(a + "v_proj.weight", kvDim, h, format), matrix(a + "o_proj.weight", h, qDim, format),
                bias(a + "q_proj.bias", qDim, c.qkvBias()), bias(a + "k_proj.bias", kvDim, c.qkvBias()),
                bias(a + "v_proj.bias", kvDim, c.qkvBias()), bias(a + "o_proj.bias", h, c.oBias()), qNorm, kNorm,
                router, experts, dense, shared, sharedGate);
    }

    private WeightMatrix[] swiglu(String[] names, int inner, WeightFormat format) {
        int h = config.hidden();
        return new WeightMatrix[] {matrix(names[0], inner, h, format), matrix(names[1], inner, h, format),
                matrix(names[2], h, inner, format)};
    }

    private TensorInfo info(String name, long... shape) {
        TensorInfo info = checkpoint.info(name).orElseThrow(() -> new ModelFormatException(
                checkpoint.listing().toString(), name, "missing from the checkpoint"));
        if (!Arrays.equals(info.shape(), shape)) {
            throw new ModelFormatException(checkpoint.fileOf(name).toString(), name, "shape "
                    + Arrays.toString(info.shape()) + " disagrees with config.json, which implies "
                    + Arrays.toString(shape));
        }
        used.add(name);
        return info;
    }

    private WeightMatrix matrix(String name, int rows, int cols, WeightFormat format) {
        TensorInfo info = info(name, rows, cols);
        WeightMatrix stored = WeightMatrix.of(info.dtype(), checkpoint.segment(name), rows, cols);
        try {
            return format.apply(stored, weightMemory);
        } catch (IllegalArgumentException e) {
            // A weight the format cannot hold (not finite, or a group scale past binary16): the checkpoint's fault.
            throw new ModelFormatException(checkpoint.fileOf(name).toString(), name, format + " quantization: "
                    + e.getMessage());
        }
    }

    private float[] vector(String name, int length) {
        TensorInfo info = info(name, length);
        float[] v = new float[length];
        WeightMatrix.of(info.dtype(), checkpoint.segment(name), 1, length).row(0, v);
        return v;
    }

    /**
     * A projection's bias where config.json gives the projection one (then it must be in the checkpoint), else null:
     * a stray bias tensor is ignored, as transformers ignores weights its modules do not have.
     */
    private float[] bias(String name, int length, boolean present) {
        return present ? vector(name, length) : null;
    }

    /** The configuration. */
    public ModelConfig config() {
        return config;
    }

    /**
     * Sets who hears the routing decisions (expert-load recording).
     *
     * @param l the listener, or null for none
     */
    public void routingListener(RoutingListener l) {
        this.listener = l == null ? RoutingListener.NONE : l;
    }

    /** A KV cache for up to {@code positions} tokens. */
    public KvCache newCache(int positions) {
        return new KvCache(config, positions);
    }

    /**
     * The logits of every position of a sequence (a fresh cache).
     *
     * @throws IllegalArgumentException for a token id outside the vocabulary
     * @throws ModelFormatException   if the logits are not finite, naming the weight that holds NaN or an infinity
     */
    public float[][] logits(int[] tokens) {
        KvCache cache = newCache(Math.max(1, tokens.length));
        return prefillInChunks(tokens, 0, cache, true);
    }

    /** Most tokens {@link #prefillInChunks} runs in one pass: enough to read each weight once for many tokens. */
    public static final int PREFILL_CHUNK = 256;

    /**
     * {@link #prefill} in passes of at most {@value #PREFILL_CHUNK} tokens: the same logits (a token's do not depend
     * on the pass it is in), but a pass holds only its own tokens' activations, where a whole long sequence at once
     * could take far more memory than its KV cache and logits. Token ids and positions are checked for the whole
     * sequence before the first pass, as {@link #prefill} checks them.
     *
     * @throws IllegalArgumentException as {@link #prefill}
     * @throws ModelFormatException   as {@link #prefill}
     */
    public float[][] prefillInChunks(int[] tokens, int start, KvCache cache, boolean allLogits) {
        if (tokens.length <= PREFILL_CHUNK) {
            return prefill(tokens, start, cache, allLogits);
        }
        for (int token : tokens) {
            requireToken(token);
        }
        cache.begin(start, tokens.length);
        float[][] all = allLogits ? new float[tokens.length][] : null;
        float[][] pass = null;
        for (int c = 0; c < tokens.length; c += PREFILL_CHUNK) {
            int len = Math.min(PREFILL_CHUNK, tokens.length - c);
            pass = prefill(Arrays.copyOfRange(tokens, c, c + len), start + c, cache, allLogits);
            if (allLogits) {
                System.arraycopy(pass, 0, all, c, len);
            }
        }
        return allLogits ? all : pass;
    }

    /**
     * Runs one token at {@code position} (earlier positions must be in the cache: at most {@link KvCache#filled()};
     * an earlier one rewinds the cache to it) and returns its logits.
     *
     * @throws IllegalArgumentException for a token id outside the vocabulary or a position that is negative, past
     *                                  the cache's held positions or beyond its capacity
     * @throws ModelFormatException   if the logits are not finite, naming the weight that holds NaN or an infinity
     */
    public float[] forward(int token, int position, KvCache cache) {
        requireToken(token);
        // A few compares per token.
        cache.begin(position, 1);
        int h = config.hidden();
        Activations a = cache.activations();
        float[] x = a.x;
        embedding.row(token, x);
        float[] norm = a.norm;
        float[] delta = a.delta;
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            rmsNorm(x, layer.inputNorm(), norm, h);
            attention(l, layer, norm, position, cache, delta);
            MatVec.add(x, delta);
            rmsNorm(x, layer.postNorm(), norm, h);
            if (layer.experts() != null) {
                moe(l, layer, norm, delta, a);
            } else {
                swiglu(new WeightMatrix[][] {layer.dense()}, norm, a);
                System.arraycopy(a.expertOuts[0], 0, delta, 0, h);
            }
            MatVec.add(x, delta);
        }
        cache.end(position, 1);
        rmsNorm(x, finalNorm, norm, h);
        float[] logits = new float[config.vocabSize()];
        MatVec.multiply(output, norm, logits);
        requireFinite(logits, position);
        return logits;
    }

    /**
     * Refuses logits that are not finite: NaN would pass silently into sampling, argmax, perplexity and written
     * JSON (a weight that is NaN in the router sent every token to expert 0 without a word). NaN and infinities
     * spread through the residual stream into every later position's logits, so checking the logits covers every
     * weight a token used.
     *
     * @throws ModelFormatException naming the weight that holds NaN or an infinity
     */
    private void requireFinite(float[] logits, int position) {
        if (!MatVec.allFinite(logits)) {
            throw NonFiniteWeights.blame(checkpoint, used, position);
        }
    }

    /**
     * Checks a token id as the forward passes check those they are fed; for callers that use an id without feeding
     * it (a scored target).
     *
     * @throws IllegalArgumentException for a token id outside the vocabulary
     */
    public void requireToken(int token) {
        if (token < 0 || token >= config.vocabSize()) {
            throw new IllegalArgumentException("token id " + token + " outside the vocabulary [0, "
                    + config.vocabSize() + ")");
        }
    }

    private void attention(int l, Layer w, float[] x, int pos, KvCache cache, float[] out) {
        Activations a = cache.activations();
        int kvHeads = config.kvHeads();
        if (config.family() != Family.OLMOE && kvHeads % ProductTeam.shared().threads() == 0) {
            byKvGroups(l, w, x, pos, cache, a);
        } else {
            MatVec.multiplyAll(new WeightMatrix[] {w.q(), w.k(), w.v()}, new float[][] {x, x, x},
                    new float[][] {a.q, a.k, a.v});
            prepare(w, a.q, a.k, a.v, pos, a);
            cache.store(l, pos, a.k, a.v);
            attend(l, a.q, pos, cache, a.context, a.scores);
        }
        MatVec.multiply(w.o(), a.context, out);
        addBias(out, w.oBias());
    }

    /**
     * q, k and v, their biases, norms and RoPE, the cache's new entry and the attention, one KV head's group at a
     * time, as one job of the product team: a group needs nothing from the others, so the threads take whole groups
     * and the work between the projections and the attention runs on all of them, with one hand-off instead of two.
     * The same rows by the same kernels and the same per-head steps as the other path, so the same bits. Not for
     * OLMoE, whose q and k norms span every head.
     */
    private void byKvGroups(int l, Layer w, float[] x, int pos, KvCache cache, Activations a) {
        ModelConfig c = config;
        int kvHeads = c.kvHeads();
        int hd = c.headDim();
        int group = c.heads() / kvHeads;
        ropeAngles(pos, a);
        float[] keys = cache.keys(l);
        float[] values = cache.values(l);
        int width = cache.width();
        int stride = cache.stride();
        float scale = (float) (1.0 / Math.sqrt(hd));
        // A group's weight: its rows of q, k and v (by bytes, as MatVec weighs rows) and its heads' attention.
        long rowBytes = (w.q().bytes() + w.k().bytes() + w.v().bytes()) / kvHeads;
        long attention = 2L * (pos + 1) * hd * group;
        int weight = (int) Math.min(Integer.MAX_VALUE, rowBytes / Float.BYTES + attention);
        ProductTeam.shared().runWhole(kvHeads, weight, (g, from, to, thread) -> {
            int q0 = g * group * hd;
            int k0 = g * hd;
            w.q().dotRows(q0, q0 + group * hd, x, a.q);
            w.k().dotRows(k0, k0 + hd, x, a.k);
            w.v().dotRows(k0, k0 + hd, x, a.v);
            addBias(a.q, w.qBias(), q0, group * hd);
            addBias(a.k, w.kBias(), k0, hd);
            addBias(a.v, w.vBias(), k0, hd);
            normAndRotate(w, g, a.q, a.k, a);
            cache.store(l, pos, a.k, a.v, k0, hd);
            for (int head = g * group; head < (g + 1) * group; head++) {
                attendHead(a.q, head * hd, k0, pos, keys, values, width, stride, hd, scale, a.context, a.scores,
                        head * stride);
            }
        });
    }

    /** {@code v[off + i] += bias[off + i]} for {@code i < n}, if there is a bias. */
    private static void addBias(float[] v, float[] bias, int off, int n) {
        if (bias != null) {
            for (int i = off; i < off + n; i++) {
                v[i] += bias[i];
            }
        }
    }

    /**
     * The rotation angles of {@code pos} into {@code a}: they depend on the position only, so they are computed once
     * for every head and, while a token goes through the layers, once for all of them.
     */
    private void ropeAngles(int pos, Activations a) {
        if (a.ropePosition != pos) {
            for (int i = 0; i < invFreq.length; i++) {
                double angle = pos * invFreq[i];
                a.ropeCos[i] = (float) Math.cos(angle);
                a.ropeSin[i] = (float) Math.sin(angle);
            }
            a.ropePosition = pos;
        }
    }

    /** Biases, the family's q/k norms and RoPE of one position's projections, in place. */
    private void prepare(Layer w, float[] q, float[] k, float[] v, int pos, Activations a) {
        ModelConfig c = config;
        ropeAngles(pos, a);
        addBias(q, w.qBias());
        addBias(k, w.kBias());
        addBias(v, w.vBias());
        if (c.family() == Family.OLMOE) {
            rmsNorm(q, w.qNorm(), q, q.length);
            rmsNorm(k, w.kNorm(), k, k.length);
        }
        for (int g = 0; g < c.kvHeads(); g++) {
            normAndRotate(w, g, q, k, a);
        }
    }

    /**
     * The per-head steps of KV head {@code g}'s group, in place: Qwen3's q/k norms, then RoPE (angles already in
     * {@code a}), for the group's query heads and its key head. Each head's slice only, so groups run in any order.
     */
    private void normAndRotate(Layer w, int g, float[] q, float[] k, Activations a) {
        ModelConfig c = config;
        int hd = c.headDim();
        int group = c.heads() / c.kvHeads();
        boolean qkNorms = c.family() == Family.QWEN3_MOE;
        for (int head = g * group; head < (g + 1) * group; head++) {
            if (qkNorms) {
                rmsNormSlice(q, head * hd, w.qNorm(), hd);
            }
            rope(q, head * hd, a.ropeCos, a.ropeSin);
        }
        if (qkNorms) {
            rmsNormSlice(k, g * hd, w.kNorm(), hd);
        }
        rope(k, g * hd, a.ropeCos, a.ropeSin);
    }

    /**
     * Causal attention of one query at {@code pos} over the cached positions 0..pos, into {@code context}: the heads
     * shared out by the product team (each head writes its own slice of {@code context} and its own row of
     * {@code scores}, so the result does not depend on which thread runs it).
     */
    private void attend(int l, float[] q, int pos, KvCache cache, float[] context, float[] scores) {
        ModelConfig c = config;
        int hd = c.headDim();
        float[] keys = cache.keys(l);
        float[] values = cache.values(l);
        int width = cache.width();
        int group = c.heads() / c.kvHeads();
        int stride = cache.stride();
        float scale = (float) (1.0 / Math.sqrt(hd));
        // A head's work is about two multiply-adds per cached element: that is what its chunks are measured in.
        int work = (int) Math.min(Integer.MAX_VALUE, 2L * (pos + 1) * hd);
        ProductTeam.shared().run(new int[] {c.heads()}, new int[] {work}, (item, from, to, thread) -> {
            for (int head = from; head < to; head++) {
                attendHead(q, head * hd, (head / group) * hd, pos, keys, values, width, stride, hd, scale, context,
                        scores, head * stride);
            }
        });
    }

    private static void attendHead(float[] q, int qOff, int kvOff, int pos, float[] keys, float[] values, int width,
                                   int stride, int hd, float scale, float[] context, float[] scores, int sOff) {
        // Scores for whole vectors of positions (up to a multiple of 16, within the stride); those past pos are
        // never read.
        int n = Math.min(stride, (pos + 16) & ~15);
        MatVec.dotColumns(q, qOff, keys, kvOff * stride, stride, hd, n, scores, sOff);
        MatVec.softmax(scores, sOff, pos + 1, scale);
        Arrays.fill(context, qOff, qOff + hd, 0);
        MatVec.weightedSumStrided(context, qOff, values, kvOff, width, scores, sOff, pos + 1, hd);
    }

    /** Rotate-half RoPE (Hugging Face's convention) of one head in place, by the position's angles. */
    private static void rope(float[] v, int off, float[] cos, float[] sin) {
        int half = cos.length;
        for (int i = 0; i < half; i++) {
            float a = v[off + i];
            float b = v[off + i + half];
            v[off + i] = a * cos[i] - b * sin[i];
            v[off + i + half] = b * cos[i] + a * sin[i];
        }
    }

    private void moe(int l, Layer w, float[] x, float[] out, Activations a) {
        MatVec.multiply(w.router(), x, a.routerLogits);
        int[] chosen = new int[config.topK()];
        float[] weights = new float[config.topK()];
        route(a.routerLogits, a.probs, chosen, weights);
        int runs = chosen.length + (w.shared() != null ? 1 : 0);
        WeightMatrix[][] run = new WeightMatrix[runs][];
        for (int j = 0; j < chosen.length; j++) {
            run[j] = w.experts()[chosen[j]];
        }
        if (w.shared() != null) {
            run[runs - 1] = w.shared();
        }
        swiglu(run, x, a);
        Arrays.fill(out, 0);
        for (int j = 0; j < chosen.length; j++) {
            MatVec.scaleAdd(out, a.expertOuts[j], weights[j]);
        }
        if (w.shared() != null) {
            MatVec.scaleAdd(out, a.expertOuts[runs - 1], sharedGate(w, x));
        }
        listener.routed(l, chosen);
    }

    /**
     * Softmax over the router logits, the top-k experts (most probable first) and their weights (renormalized
     * to sum to one when {@code norm_topk_prob}).
     */
    private void route(float[] logits, double[] probs, int[] chosen, float[] weights) {
        int experts = config.experts();
        float max = Float.NEGATIVE_INFINITY;
        for (int e = 0; e < experts; e++) {
            max = Math.max(max, logits[e]);
        }
        double sum = 0;
        for (int e = 0; e < experts; e++) {
            probs[e] = Math.exp(logits[e] - max);
            sum += probs[e];
        }
        int[] top = topK(Arrays.copyOf(probs, experts), chosen.length);
        System.arraycopy(top, 0, chosen, 0, top.length);
        double chosenSum = 0;
        for (int e : chosen) {
            chosenSum += probs[e] / sum;
        }
        for (int j = 0; j < chosen.length; j++) {
            double weight = probs[chosen[j]] / sum;
            weights[j] = (float) (config.normTopKProb() ? weight / chosenSum : weight);
        }
    }

    private static float sharedGate(Layer w, float[] x) {
        float gate = w.sharedGate().dot(0, x);
        return (float) (1 / (1 + Math.exp(-gate)));
    }

    /**
     * Runs a prompt chunk at positions {@code start, start + 1, ...} (earlier positions must be in the cache:
     * {@code start} at most {@link KvCache#filled()}) layer by layer over all its tokens, so that each weight is
     * read once per chunk rather than once per token;
     * returns the logits of every token, or of the last one only.
     *
     * <p>For F32, F16 and BF16 weights the results equal those of {@link #forward} token by token, bit for bit;
     * quantized formats differ within their dot-product bound (rows are dequantized once and dotted in float).
     *
     * @param allLogits true for the logits of every token (scoring a text); false for the last token's alone, all
     *                  that continuing a prompt needs
     * @return one row of logits per token asked for (none for an empty chunk)
     * @throws IllegalArgumentException for a token id outside the vocabulary or positions that are negative, start
     *                                  past the cache's held positions or go beyond its capacity
     * @throws ModelFormatException   if the logits are not finite, naming the weight that holds NaN or an infinity
     */
    public float[][] prefill(int[] tokens, int start, KvCache cache, boolean allLogits) {
        int n = tokens.length;
        if (n == 0) {
            return new float[0][];
        }
        for (int token : tokens) {
            requireToken(token);
        }
        // Before allocating: positions past the cache are refused without a chunk-sized allocation.
        cache.begin(start, n);
        int h = config.hidden();
        float[][] x = new float[n][h];
        for (int t = 0; t < n; t++) {
            embedding.row(tokens[t], x[t]);
        }
        float[][] norm = new float[n][h];
        float[][] delta = new float[n][h];
        for (int l = 0; l < layers.length; l++) {
            Layer layer = layers[l];
            for (int t = 0; t < n; t++) {
                rmsNorm(x[t], layer.inputNorm(), norm[t], h);
            }
            attentionBatch(l, layer, norm, start, cache, delta);
            for (int t = 0; t < n; t++) {
                MatVec.add(x[t], delta[t]);
                rmsNorm(x[t], layer.postNorm(), norm[t], h);
            }
            if (layer.experts() != null) {
                moeBatch(l, layer, norm, delta);
            } else {
                swigluBatch(layer.dense(), norm, delta);
            }
            for (int t = 0; t < n; t++) {
                MatVec.add(x[t], delta[t]);
            }
        }
        cache.end(start, n);
        int first = allLogits ? 0 : n - 1;
        float[][] normed = new float[n - first][];
        float[][] logits = new float[n - first][config.vocabSize()];
        for (int t = first; t < n; t++) {
            rmsNorm(x[t], finalNorm, norm[t], h);
            normed[t - first] = norm[t];
        }
        MatVec.multiply(output, normed, logits);
        for (int t = 0; t < logits.length; t++) {
            requireFinite(logits[t], start + first + t);
        }
        return logits;
    }

    private void attentionBatch(int l, Layer w, float[][] x, int start, KvCache cache, float[][] out) {
        int n = x.length;
        ModelConfig c = config;
        float[][] q = new float[n][c.heads() * c.headDim()];
        float[][] k = new float[n][c.kvHeads() * c.headDim()];
        float[][] v = new float[n][c.kvHeads() * c.headDim()];
        MatVec.multiply(w.q(), x, q);
        MatVec.multiply(w.k(), x, k);
        MatVec.multiply(w.v(), x, v);
        for (int t = 0; t < n; t++) {
            prepare(w, q[t], k[t], v[t], start + t, cache.activations());
            cache.store(l, start + t, k[t], v[t]);
        }
        // Token t only reads positions up to its own, so storing the chunk first changes nothing.
        float[][] context = new float[n][c.heads() * c.headDim()];
        float[] scores = cache.activations().scores;
        for (int t = 0; t < n; t++) {
            attend(l, q[t], start + t, cache, context[t], scores);
        }
        MatVec.multiply(w.o(), context, out);
        for (float[] o : out) {
            addBias(o, w.oBias());
        }
    }

    private void moeBatch(int l, Layer w, float[][] x, float[][] out) {
        int n = x.length;
        int k = config.topK();
        float[][] logits = new float[n][config.experts()];
        MatVec.multiply(w.router(), x, logits);
        int[][] chosen = new int[n][k];
        float[][] weights = new float[n][k];
        double[] probs = new double[config.experts()];
        int[] uses = new int[config.experts()];
        for (int t = 0; t < n; t++) {
            route(logits[t], probs, chosen[t], weights[t]);
            for (int e : chosen[t]) {
                uses[e]++;
            }
        }
        // Each expert runs once over the tokens routed to it; outputs are then summed per token in routing order.
        float[][][] y = new float[n][k][];
        for (int e = 0; e < config.experts(); e++) {
            if (uses[e] == 0) {
                continue;
            }
            float[][] in = new float[uses[e]][];
            float[][] res = new float[uses[e]][config.hidden()];
            int m = 0;
            for (int t = 0; t < n; t++) {
                for (int j = 0; j < k; j++) {
                    if (chosen[t][j] == e) {
                        in[m] = x[t];
                        y[t][j] = res[m++];
                    }
                }
            }
            swigluBatch(w.experts()[e], in, res);
        }
        float[][] shared = null;
        if (w.shared() != null) {
            shared = new float[n][config.hidden()];
            swigluBatch(w.shared(), x, shared);
        }
        for (int t = 0; t < n; t++) {
            Arrays.fill(out[t], 0);
            for (int j = 0; j < k; j++) {
                MatVec.scaleAdd(out[t], y[t][j], weights[t][j]);
            }
            if (shared != null) {
                MatVec.scaleAdd(out[t], shared[t], sharedGate(w, x[t]));
            }
            listener.routed(l, chosen[t]);
        }
    }

    /** down(silu(gate(x)) * up(x)) for a batch of inputs. */
    private static void swigluBatch(WeightMatrix[] w, float[][] xs, float[][] outs) {
        int n = xs.length;
        int inner = w[0].rows();
        float[][] gate = new float[n][inner];
        float[][] up = new float[n][inner];
        MatVec.multiply(w[0], xs, gate);
        MatVec.multiply(w[1], xs, up);
        for (int t = 0; t < n; t++) {
            MatVec.siluTimes(gate[t], up[t], inner);
        }
        MatVec.multiply(w[2], gate, outs);
    }

    /** The indices of the k largest values, largest first; equal values in index order. */
    static int[] topK(double[] values, int k) {
        int[] chosen = new int[k];
        boolean[] taken = new boolean[values.length];
        for (int j = 0; j < k; j++) {
            int best = -1;
            for (int e = 0; e < values.length; e++) {
                if (!taken[e] && (best < 0 || values[e] > values[best])) {
                    best = e;
                }
            }
            chosen[j] = best;
            taken[best] = true;
        }
        return chosen;
    }

    /**
     * {@code a.expertOuts[j] = down(silu(gate(x)) * up(x))} of each SwiGLU block {@code mlps[j]}. Where the blocks
     * are light (at most two chunks of the product team, as INT4 experts of a small model are) and share out evenly
     * over its threads (the chosen experts, all of one shape, a multiple of the threads in number), each thread runs
     * whole blocks, gate to down, as one job. Otherwise every block's gate and up projections are one job, split by
     * rows, and every down projection another: heavier blocks stream long enough that the second hand-off costs
     * little, and a thread the host preempts is then helped within a chunk rather than a whole block.
     */
    private static void swiglu(WeightMatrix[][] mlps, float[] x, Activations a) {
        int n = mlps.length;
        int threads = ProductTeam.shared().threads();
        if (n > 1 && n % threads == 0 && sameShapes(mlps) && blockBytes(mlps[0]) / Float.BYTES
                <= 2L * ProductTeam.CHUNK_WEIGHTS) {
            wholeBlocks(mlps, x, a);
            return;
        }
        WeightMatrix[] first = new WeightMatrix[2 * n];
        float[][] xs = new float[2 * n][];
        float[][] outs = new float[2 * n][];
        for (int j = 0; j < n; j++) {
            first[2 * j] = mlps[j][0];
            first[2 * j + 1] = mlps[j][1];
            xs[2 * j] = x;
            xs[2 * j + 1] = x;
            outs[2 * j] = a.gates[j];
            outs[2 * j + 1] = a.ups[j];
        }
        MatVec.multiplyAll(first, xs, outs);
        WeightMatrix[] down = new WeightMatrix[n];
        float[][] hidden = new float[n][];
        float[][] result = new float[n][];
        for (int j = 0; j < n; j++) {
            MatVec.siluTimes(a.gates[j], a.ups[j], mlps[j][0].rows());
            down[j] = mlps[j][2];
            hidden[j] = a.gates[j];
            result[j] = a.expertOuts[j];
        }
        MatVec.multiplyAll(down, hidden, result);
    }

    /**
     * Each SwiGLU block on one thread, gate to down: one job rather than two, and the gating runs on every thread.
     * Side by side on m100 (two experts on two threads, random inputs, builds in both orders): INT4 with int8
     * activations 1.03-1.06x; packed F32 0.97-1.00x and Q8 0.98-0.99x, which is why heavier blocks keep two jobs.
     */
    private static void wholeBlocks(WeightMatrix[][] mlps, float[] x, Activations a) {
        // One item per block, weighing its bytes in F32 weights, as MatVec weighs rows.
        int weight = (int) (blockBytes(mlps[0]) / Float.BYTES);
        ProductTeam.shared().runWhole(mlps.length, weight, (item, from, to, thread) -> {
            WeightMatrix[] w = mlps[item];
            float[] gate = a.gates[item];
            float[] up = a.ups[item];
            w[0].dotRows(0, w[0].rows(), x, gate);
            w[1].dotRows(0, w[1].rows(), x, up);
            MatVec.siluTimes(gate, up, w[0].rows());
            w[2].dotRows(0, w[2].rows(), gate, a.expertOuts[item]);
        });
    }

    private static long blockBytes(WeightMatrix[] mlp) {
        return mlp[0].bytes() + mlp[1].bytes() + mlp[2].bytes();
    }

    private static boolean sameShapes(WeightMatrix[][] mlps) {
        for (WeightMatrix[] m : mlps) {
            for (int k = 0; k < 3; k++) {
                if (m[k].rows() != mlps[0][k].rows() || m[k].cols() != mlps[0][k].cols()
                        || m[k].bytes() != mlps[0][k].bytes()) {
                    return false;
                }
            }
        }
        return true;
    }

    /** out = x / rms(x) * weight over the first n elements (out may be x). */
    private void rmsNorm(float[] x, float[] weight, float[] out, int n) {
        double ms = MatVec.sumOfSquares(x, n) / n;
        float inv = (float) (1 / Math.sqrt(ms + config.rmsNormEps()));
        for (int i = 0; i < n; i++) {
            out[i] = x[i] * inv * weight[i];
        }
    }

    private void rmsNormSlice(float[] x, int off, float[] weight, int n) {
        double ss = 0;
        for (int i = 0; i < n; i++) {
            ss += (double) x[off + i] * x[off + i];
        }
        float inv = (float) (1 / Math.sqrt(ss / n + config.rmsNormEps()));
        for (int i = 0; i < n; i++) {
            x[off + i] = x[off + i] * inv * weight[i];
        }
    }

    private static void addBias(float[] v, float[] bias) {
        addBias(v, bias, 0, v.length);
    }

    /**
     * Bytes of weights resident for inference: the matrices (mapped or quantized) and the norm and bias vectors (on
     * the heap as floats), every tensor the model uses.
     */
    public long weightBytes() {
        long total = embedding.bytes() + (output == embedding ? 0 : output.bytes()) + 4L * finalNorm.length;
        for (Layer w : layers) {
            total += w.q().bytes() + w.k().bytes() + w.v().bytes() + w.o().bytes();
            for (float[] v : new float[][] {w.inputNorm(), w.postNorm(), w.qBias(), w.kBias(), w.vBias(), w.oBias(),
                    w.qNorm(), w.kNorm()}) {
                total += v == null ? 0 : 4L * v.length;
            }
            if (w.sharedGate() != null) {
                total += w.sharedGate().bytes();
            }
            if (w.router() != null) {
                total += w.router().bytes();
                for (WeightMatrix[] e : w.experts()) {
                    total += e[0].bytes() + e[1].bytes() + e[2].bytes();
                }
            }
            for (WeightMatrix[] group : new WeightMatrix[][] {w.dense(), w.shared()}) {
                if (group != null) {
                    total += group[0].bytes() + group[1].bytes() + group[2].bytes();
                }
            }
        }
        return total;
    }

    @Override
    public void close() {
        checkpoint.close();
    }
}
