package io.moelab.eplb.eval;

import java.util.List;

/**
 * How well a placement spreads one window of load. Each expert's load is split evenly over its replicas;
 * a GPU's load is the sum over its slots, a node's the sum over its GPUs.
 *
 * <p>Balancedness is mean / max: 1 is perfect. Totals follow the field's convention of summing over layers
 * before dividing, {@code Σ_l mean_l / Σ_l max_l}, so heavy layers weigh more. A layer (or a whole window)
 * with no load counts as perfectly balanced. Loads are in the tokens of the load scored.
 *
 * <p>The arrays are the score's own, not copied on the way in or out (scores are made per window and read once):
 * a caller that changes one changes the score. As for any record, {@code equals} compares them by identity.
 *
 * @param gpuBalancedness      Σ over layers of mean GPU load / Σ over layers of max GPU load
 * @param slotBalancedness     the same over physical slots
 * @param nodeBalancedness     the same over nodes
 * @param layerGpuBalancedness per layer: mean GPU load / max GPU load
 * @param gpuLoads             {@code [layer][gpu]} load
 * @param nodeLoads            {@code [layer][node]} load
 * @param colocations          every (layer, GPU, expert) holding two or more replicas of that expert
 */
public record PlacementScore(double gpuBalancedness, double slotBalancedness, double nodeBalancedness,
                             double[] layerGpuBalancedness, double[][] gpuLoads, double[][] nodeLoads,
                             List<Colocation> colocations) {

    /** Distinct (layer, GPU) pairs holding two or more replicas of some expert. */
    public int colocatedPairs() {
        return (int) colocations.stream().map(c -> (long) c.layer() << 32 | c.gpu()).distinct().count();
    }

    /** The largest GPU load in {@code layer}. */
    public double maxGpuLoad(int layer) {
        double max = 0;
        for (double v : gpuLoads[layer]) {
            max = Math.max(max, v);
        }
        return max;
    }
}
