package io.moelab.eplb.eval;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Apportionment;

/**
 * An upper bound on the GPU balancedness any placement can reach on a window, so results read as a fraction
 * of the achievable.
 *
 * <p>Per layer, no placement's largest GPU load is below {@code max(T / M, T*)}: the mean, and {@code T*},
 * the smallest possible largest per-replica load (every placement has some GPU holding a replica at least
 * that heavy). {@code T*} comes from the exact {@link Apportionment} of the layer's R slots with at most one
 * useful replica per GPU. The bound is {@code Σ_l mean_l / Σ_l max(mean_l, T*_l)}, the same sum-over-layers
 * form as GPU balancedness. It ignores that each GPU holds exactly R/M slots, so it can be loose; a plan
 * made with hindsight shows how close placements get in practice.
 */
public final class BalanceBound {
    private BalanceBound() {
    }

    /** The bound for placing {@code load} on {@code topology}. */
    public static double of(LoadMatrix load, Topology topology) {
        int experts = load.experts();
        Apportionment apportionment = new Apportionment(experts);
        double[] row = new double[experts];
        int[] counts = new int[experts];
        double meanSum = 0;
        double floorSum = 0;
        for (int l = 0; l < load.layers(); l++) {
            load.copyLayer(l, row);
            double mean = load.layerTotal(l) / topology.gpus();
            double heaviestReplica = apportionment.apportion(row, experts, topology.replicas(), topology.gpus(),
                    counts);
            meanSum += mean;
            floorSum += Math.max(mean, heaviestReplica);
        }
        return floorSum > 0 ? Math.min(1.0, meanSum / floorSum) : 1.0;
    }
}
