package io.moelab.train.model;

import ai.djl.ndarray.NDArray;

/**
 * Scores the experts of one MoE layer for each token. Replaceable: a hierarchical (cluster, then expert) router
 * implements the same contract.
 */
public interface Router {
    /**
     * Scores every expert for every token.
     *
     * @param x tokens, shape {@code (N, dModel)}
     * @return router logits, shape {@code (N, experts)}; the layer takes their softmax
     */
    NDArray logits(NDArray x);
}
