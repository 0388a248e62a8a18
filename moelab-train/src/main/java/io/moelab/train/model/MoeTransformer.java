package io.moelab.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A decoder-only MoE transformer in DJL tensors, laid out as Hugging Face's {@code qwen3_moe}: parameter names are
 * the checkpoint's tensor names (the experts stacked, see {@link SwiGluExperts}), so export is a rename-free
 * copy. Per block: RMSNorm, grouped-query causal attention with per-head q/k RMSNorm and RoPE (rotate-half), a
 * residual, RMSNorm, a {@link MoeLayer}, a residual; then a final RMSNorm and an untied output projection.
 */
public final class MoeTransformer {
    /** Standard deviation of initial matrices. */
    static final double INIT_STD = 0.02;

    private final ModelSpec spec;
    private final Parameters params;
    private final List<Block> blocks = new ArrayList<>();
    private final NDArray embed;
    private final NDArray finalNorm;
    private final NDArray lmHead;
    private final Map<Integer, NDArray[]> ropeByLength = new HashMap<>();
    private final Map<Integer, NDArray> maskByLength = new HashMap<>();

    private record Block(NDArray inputNorm, NDArray q, NDArray k, NDArray v, NDArray o, NDArray qNorm,
                         NDArray kNorm, NDArray postNorm, MoeLayer moe) {}

    /**
     * A freshly initialized model: matrices normal with standard deviation 0.02 (the output projections of each
     * residual branch scaled by {@code 1/sqrt(2 layers)}, as in GPT-2), norm weights 1.
     *
     * @param manager owns the parameters
     * @param seed    seeds the initial values
     */
    public MoeTransformer(ModelSpec spec, NDManager manager, long seed) {
        this(spec, manager, seed, MoeFactory.STANDARD);
    }

    /**
     * A freshly initialized model whose MoE layers come from {@code moeFactory} (the attention, norms, embedding
     * and output projection are initialized as in {@link #MoeTransformer(ModelSpec, NDManager, long)}).
     */
    public MoeTransformer(ModelSpec spec, NDManager manager, long seed, MoeFactory moeFactory) {
        this.spec = spec;
        this.params = new Parameters(manager, seed);
        int d = spec.dModel();
        int hd = spec.headDim();
        double residualStd = INIT_STD / Math.sqrt(2.0 * spec.layers());
        embed = params.normal("model.embed_tokens.weight", INIT_STD, spec.vocab(), d);
        for (int i = 0; i < spec.layers(); i++) {
            String p = "model.layers." + i + ".";
            NDArray inNorm = params.constant(p + "input_layernorm.weight", 1f, d);
            NDArray q = params.normal(p + "self_attn.q_proj.weight", INIT_STD, (long) spec.heads() * hd, d);
            NDArray k = params.normal(p + "self_attn.k_proj.weight", INIT_STD, (long) spec.kvHeads() * hd, d);
            NDArray v = params.normal(p + "self_attn.v_proj.weight", INIT_STD, (long) spec.kvHeads() * hd, d);
            NDArray o = params.normal(p + "self_attn.o_proj.weight", residualStd, d, (long) spec.heads() * hd);
            NDArray qn = params.constant(p + "self_attn.q_norm.weight", 1f, hd);
            NDArray kn = params.constant(p + "self_attn.k_norm.weight", 1f, hd);
            NDArray postNorm = params.constant(p + "post_attention_layernorm.weight", 1f, d);
            MoeLayer moe = moeFactory.create(i, p, spec, params, residualStd);
            blocks.add(new Block(inNorm, q, k, v, o, qn, kn, postNorm, moe));
        }
        finalNorm = params.constant("model.norm.weight", 1f, d);
        lmHead = params.normal("lm_head.weight", INIT_STD, spec.vocab(), d);
    }

    /**
     * One forward pass.
     *
     * @param logits  shape {@code (batch * seq, vocab)}, row {@code b * seq + t} predicting token {@code t + 1}
     * @param auxLoss mean over layers of the load-balancing loss
     * @param zLoss   mean over layers of the router z-loss
     * @param counts  per layer, assignments per expert
     * @param dropped assignments dropped by capacity, all layers
     */
    public record Output(NDArray logits, NDArray auxLoss, NDArray zLoss, int[][] counts, long dropped) {}

    /**
     * Runs the model on {@code batch} rows of {@code seq} tokens.
     *
     * @param tokens         {@code batch} rows; the first {@code seq} ids of each are the input, positions 0..seq-1
     * @param seq            positions per row
     * @param capacityFactor see {@link MoeLayer#forward}; 0 for none (evaluation, inference)
     * @param manager        owns the temporaries (close it, or use an {@code NDScope})
     */
    public Output forward(int[][] tokens, int seq, double capacityFactor, NDManager manager) {
        int batch = tokens.length;
        long[] ids = new long[batch * seq];
        for (int b = 0; b < batch; b++) {
            for (int t = 0; t < seq; t++) {
                int id = tokens[b][t];
                if (id < 0 || id >= spec.vocab()) {
                    throw new IllegalArgumentException("token id " + id + " outside the vocabulary of "
                            + spec.vocab());
                }
                ids[b * seq + t] = id;
            }
        }
        NDArray h = embed.get(new NDIndex("{}", manager.create(ids)));
        NDArray aux = manager.zeros(new Shape());
        NDArray z = manager.zeros(new Shape());
        int[][] counts = new int[spec.layers()][];
        long dropped = 0;
        for (int i = 0; i < blocks.size(); i++) {
            Block blk = blocks.get(i);
            h = h.add(attention(blk, rmsNorm(h, blk.inputNorm()), batch, seq));
            MoeLayer.Result r = blk.moe().forward(rmsNorm(h, blk.postNorm()), capacityFactor);
            h = h.add(r.output());
            aux = aux.add(r.auxLoss());
            z = z.add(r.zLoss());
            counts[i] = r.counts();
            dropped += r.dropped();
        }
        NDArray logits = rmsNorm(h, finalNorm).matMul(lmHead.transpose());
        NDArray perLayer = scalar(manager, 1f / spec.layers());
        return new Output(logits, aux.mul(perLayer), z.mul(perLayer), counts, dropped);
    }

    private NDArray attention(Block blk, NDArray x, int batch, int seq) {
        int h = spec.heads();
        int kv = spec.kvHeads();
        int hd = spec.headDim();
        NDArray[] rope = rope(seq);
        NDArray q = rotate(rmsNorm(x.matMul(blk.q().transpose()).reshape(batch, seq, h, hd), blk.qNorm()), rope)
                .transpose(0, 2, 1, 3);
        NDArray k = rotate(rmsNorm(x.matMul(blk.k().transpose()).reshape(batch, seq, kv, hd), blk.kNorm()), rope)
                .transpose(0, 2, 1, 3);
        NDArray v = x.matMul(blk.v().transpose()).reshape(batch, seq, kv, hd).transpose(0, 2, 1, 3);
        if (kv != h) {
            // Query head j reads key/value head j / (h / kv), as Hugging Face's repeat_kv.
            k = k.expandDims(2).repeat(2, h / kv).reshape(batch, h, seq, hd);
            v = v.expandDims(2).repeat(2, h / kv).reshape(batch, h, seq, hd);
        }
        NDArray scale = scalar(x.getManager(), (float) (1.0 / Math.sqrt(hd)));
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).add(mask(seq));
        NDArray out = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(batch * seq, h * hd);
        return out.matMul(blk.o().transpose());
    }

    private NDArray rmsNorm(NDArray x, NDArray weight) {
        NDArray ms = x.square().mean(new int[] {-1}, true);
        return x.div(ms.add(scalar(x.getManager(), (float) spec.rmsEps())).sqrt()).mul(weight);
    }

    /** RoPE in the rotate-half convention on {@code (batch, seq, heads, headDim)}. */
    private static NDArray rotate(NDArray x, NDArray[] cosSin) {
        long half = x.getShape().get(3) / 2;
        NDArray x1 = x.get(new NDIndex("..., :{}", half));
        NDArray x2 = x.get(new NDIndex("..., {}:", half));
        NDArray rotated = x2.neg().concat(x1, -1);
        return x.mul(cosSin[0]).add(rotated.mul(cosSin[1]));
    }

    private NDArray[] rope(int seq) {
        return ropeByLength.computeIfAbsent(seq, s -> {
            int hd = spec.headDim();
            float[] cos = new float[s * hd];
            float[] sin = new float[s * hd];
            for (int t = 0; t < s; t++) {
                for (int i = 0; i < hd / 2; i++) {
                    double angle = t * Math.pow(spec.ropeTheta(), -2.0 * i / hd);
                    cos[t * hd + i] = cos[t * hd + i + hd / 2] = (float) Math.cos(angle);
                    sin[t * hd + i] = sin[t * hd + i + hd / 2] = (float) Math.sin(angle);
                }
            }
            NDManager m = params.manager();
            NDArray[] cs = {m.create(cos, new Shape(s, 1, hd)), m.create(sin, new Shape(s, 1, hd))};
            NDScope.unregister(cs); // cached across steps, not a temporary of the step that made it
            return cs;
        });
    }

    private NDArray mask(int seq) {
        return maskByLength.computeIfAbsent(seq, s -> {
            float[] m = new float[s * s];
            for (int i = 0; i < s; i++) {
                for (int j = i + 1; j < s; j++) {
                    m[i * s + j] = Float.NEGATIVE_INFINITY;
                }
            }
            NDArray mask = params.manager().create(m, new Shape(s, s));
            NDScope.unregister(mask);
            return mask;
        });
    }

    /**
     * A scalar tensor that owns its memory, for arithmetic inside the autograd graph. DJL's {@code mul(Number)}
     * and kin (0.35.1) wrap the number in a tensor over a Java direct buffer and close it straight after the
     * operation, but autograd keeps that tensor for the backward pass, which then reads freed memory once the
     * garbage collector has released the buffer: non-finite gradients at random steps. {@code full} allocates in
     * libtorch, which keeps what autograd holds alive.
     */
    public static NDArray scalar(NDManager manager, float value) {
        return manager.full(new Shape(), value);
    }

    /** The architecture. */
    public ModelSpec spec() {
        return spec;
    }

    /** The trainable tensors, named as in the exported checkpoint (experts stacked). */
    public Parameters parameters() {
        return params;
    }

    /** The MoE layer of block {@code i}. */
    public MoeLayer moe(int i) {
        return blocks.get(i).moe();
    }
}
