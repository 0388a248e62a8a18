package io.moelab.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.Shape;

/**
 * A sparse MoE layer: softmax over a {@link Router}'s logits, top-k experts per token, optional capacity with
 * token dropping, and the Switch Transformer's auxiliary losses.
 *
 * <p>Routing decisions are made on the host (top-k and capacity are integer bookkeeping); only the gate values
 * and the expert computations are tensors, so gradients reach the router through the gates and the
 * load-balancing loss. Tokens are gathered per expert, each expert runs once on its rows, and the outputs are
 * gathered back and weighted, all differentiable (gather's gradient scatters back).
 */
public final class MoeLayer {
    private final Router router;
    private final ExpertBank experts;
    private final int topK;
    private final boolean normTopK;

    /**
     * A layer routing each token to its {@code topK} highest-scoring experts.
     *
     * @param router   scores experts
     * @param experts  the experts
     * @param topK     experts per token
     * @param normTopK renormalize the chosen gates to sum to 1
     */
    public MoeLayer(Router router, ExpertBank experts, int topK, boolean normTopK) {
        this.router = router;
        this.experts = experts;
        this.topK = topK;
        this.normTopK = normTopK;
    }

    /**
     * The layer's output and statistics.
     *
     * @param output  shape {@code (N, dModel)}
     * @param auxLoss Switch load-balancing loss {@code E * sum_i f_i * P_i}: f_i the share of assignments routed
     *                to expert i (before capacity), P_i its mean router probability; 1 when perfectly balanced
     * @param zLoss   router z-loss, the mean squared log-sum-exp of the router logits
     * @param counts  assignments per expert, before capacity
     * @param dropped assignments dropped by the capacity limit
     */
    public record Result(NDArray output, NDArray auxLoss, NDArray zLoss, int[] counts, int dropped) {}

    /**
     * Routes {@code x} to its experts and combines their outputs by the gate values.
     *
     * @param x              tokens, shape {@code (N, dModel)}
     * @param capacityFactor each expert takes at most {@code ceil(capacityFactor * N * topK / experts)}
     *                       assignments, first ranks first, then token order (GShard's priority); 0 for no limit
     */
    public Result forward(NDArray x, double capacityFactor) {
        NDManager m = x.getManager();
        int n = Math.toIntExact(x.getShape().get(0));
        int d = Math.toIntExact(x.getShape().get(1));
        int e = experts.size();
        int k = topK;
        NDArray logits = router.logits(x);
        NDArray probs = logits.softmax(-1);
        float[] p = probs.toFloatArray();

        int[] choice = new int[n * k];
        long[] pick = new long[n * k];
        int[] counts = new int[e];
        for (int t = 0; t < n; t++) {
            int base = t * e;
            for (int r = 0; r < k; r++) {
                int best = -1;
                for (int j = 0; j < e; j++) {
                    if ((best < 0 || p[base + j] > p[base + best]) && !chosen(choice, t * k, r, j)) {
                        best = j;
                    }
                }
                choice[t * k + r] = best;
                pick[t * k + r] = (long) base + best;
                counts[best]++;
            }
        }

        long capacity = capacityFactor > 0 ? (long) Math.ceil(capacityFactor * n * k / e) : Long.MAX_VALUE;
        int[] used = new int[e];
        int[] slot = new int[n * k];
        int dropped = 0;
        for (int r = 0; r < k; r++) {
            for (int t = 0; t < n; t++) {
                int ex = choice[t * k + r];
                if (used[ex] < capacity) {
                    slot[t * k + r] = used[ex]++;
                } else {
                    slot[t * k + r] = -1;
                    dropped++;
                }
            }
        }
        int[] offset = new int[e + 1];
        for (int j = 0; j < e; j++) {
            offset[j + 1] = offset[j] + used[j];
        }
        long[][] rows = new long[e][];
        for (int j = 0; j < e; j++) {
            rows[j] = new long[used[j]];
        }
        long[] position = new long[n * k];
        for (int a = 0; a < n * k; a++) {
            int ex = choice[a];
            if (slot[a] < 0) {
                position[a] = offset[e]; // the zero row appended below
            } else {
                rows[ex][slot[a]] = a / k;
                position[a] = offset[ex] + slot[a];
            }
        }

        NDArray gates = probs.reshape(-1).get(new NDIndex("{}", m.create(pick))).reshape(n, k);
        if (normTopK) {
            // Also for top-1, where the gate becomes 1: the export says norm_topk_prob, and Hugging Face and the
            // runtime then weight by 1, so training with the raw probability trained another model than it exported.
            gates = gates.div(gates.sum(new int[] {1}, true));
        }
        NDList outs = new NDList();
        for (int j = 0; j < e; j++) {
            if (rows[j].length > 0) {
                outs.add(experts.apply(j, x.get(new NDIndex("{}", m.create(rows[j])))));
            }
        }
        outs.add(m.zeros(new Shape(1, d), x.getDataType()));
        NDArray all = NDArrays.concat(outs, 0);
        NDArray output = all.get(new NDIndex("{}", m.create(position))).reshape(n, k, d)
                .mul(gates.expandDims(2)).sum(new int[] {1});

        float[] share = new float[e];
        for (int j = 0; j < e; j++) {
            share[j] = counts[j] / (float) (n * k);
        }
        NDArray aux = m.create(share).mul(probs.mean(new int[] {0})).sum().mul(MoeTransformer.scalar(m, e));
        NDArray max = logits.max(new int[] {-1}, true).stopGradient();
        NDArray lse = logits.sub(max).exp().sum(new int[] {-1}, true).log().add(max);
        NDArray z = lse.square().mean();
        return new Result(output, aux, z, counts, dropped);
    }

    private static boolean chosen(int[] choice, int from, int taken, int expert) {
        for (int r = 0; r < taken; r++) {
            if (choice[from + r] == expert) {
                return true;
            }
        }
        return false;
    }

    /** The router. */
    public Router router() {
        return router;
    }

    /** The experts. */
    public ExpertBank experts() {
        return experts;
    }
}
