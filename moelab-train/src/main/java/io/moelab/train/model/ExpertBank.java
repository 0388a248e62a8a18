package io.moelab.train.model;

import ai.djl.ndarray.NDArray;

/**
 * The experts of one MoE layer. Replaceable: clustered experts with a shared base and low-rank residuals implement
 * the same contract.
 */
public interface ExpertBank {
    /** How many experts. */
    int size();

    /**
     * Runs one expert on the tokens routed to it.
     *
     * @param expert which expert
     * @param x      the tokens routed to it, shape {@code (n, dModel)}, {@code n >= 1}
     * @return its outputs, shape {@code (n, dModel)}
     */
    NDArray apply(int expert, NDArray x);
}
