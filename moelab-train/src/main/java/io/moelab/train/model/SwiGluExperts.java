package io.moelab.train.model;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Activation;

/**
 * Independent SwiGLU experts, {@code down(silu(gate x) * up x)}, stored stacked: {@code gate} and {@code up} of
 * shape {@code (experts, expertDim, dModel)}, {@code down} of shape {@code (experts, dModel, expertDim)}, so the
 * optimizer updates three tensors per layer instead of three per expert.
 */
public final class SwiGluExperts implements ExpertBank {
    private final NDArray gate;
    private final NDArray up;
    private final NDArray down;

    /**
     * Experts from their stacked projections.
     *
     * @param gate stacked gate projections, {@code (experts, expertDim, dModel)}
     * @param up   stacked up projections, {@code (experts, expertDim, dModel)}
     * @param down stacked down projections, {@code (experts, dModel, expertDim)}
     */
    public SwiGluExperts(NDArray gate, NDArray up, NDArray down) {
        this.gate = gate;
        this.up = up;
        this.down = down;
    }

    @Override
    public int size() {
        return Math.toIntExact(gate.getShape().get(0));
    }

    @Override
    public NDArray apply(int expert, NDArray x) {
        NDArray g = x.matMul(gate.get(expert).transpose());
        NDArray u = x.matMul(up.get(expert).transpose());
        // silu(g) = g * sigmoid(g), written out: DJL's swish multiplies by a Number, see MoeTransformer#scalar.
        return g.mul(Activation.sigmoid(g)).mul(u).matMul(down.get(expert).transpose());
    }

    /** The stacked gate projections. */
    public NDArray gate() {
        return gate;
    }

    /** The stacked up projections. */
    public NDArray up() {
        return up;
    }

    /** The stacked down projections. */
    public NDArray down() {
        return down;
    }
}
