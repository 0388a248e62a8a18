package io.moelab.eplb.algorithm;

import io.moelab.eplb.Placement;

/**
 * An expert-parallel load balancer: turns expert-load statistics into a placement of expert replicas on GPUs.
 * Implementations are stateless and thread-safe; one instance may serve concurrent requests.
 */
public interface BalancerAlgorithm {

    /** The name used on the command line ({@code --algorithm}). */
    String name();

    /** One line on what the algorithm does. */
    String description();

    /**
     * Plans a placement.
     *
     * @throws io.moelab.eplb.InvalidInputException if the request does not suit this algorithm (for example
     *                                              experts that do not split into the requested groups)
     */
    Placement rebalance(BalancingRequest request);
}
