package io.moelab.train.model;

import ai.djl.ndarray.NDArray;

/** The usual router: one linear map to the experts' logits (Hugging Face {@code mlp.gate.weight}). */
public final class LinearRouter implements Router {
    private final NDArray weight;

    /**
     * A router with the given weight.
     *
     * @param weight shape {@code (experts, dModel)}
     */
    public LinearRouter(NDArray weight) {
        this.weight = weight;
    }

    @Override
    public NDArray logits(NDArray x) {
        return x.matMul(weight.transpose());
    }
}
