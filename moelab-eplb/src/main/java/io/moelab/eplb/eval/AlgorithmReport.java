package io.moelab.eplb.eval;

/**
 * One algorithm's results over a trace: plan on window i, score on window i+1. {@code windowGpuBalancedness} is
 * the report's own array, not copied; {@code equals} compares it by identity, as for any record.
 *
 * @param algorithm               algorithm name
 * @param meanGpuBalancedness     mean over scored windows of GPU balancedness
 * @param minGpuBalancedness      worst scored window
 * @param meanSlotBalancedness    mean over scored windows of slot balancedness
 * @param meanNodeBalancedness    mean over scored windows of node balancedness
 * @param windowGpuBalancedness   GPU balancedness of each scored window (window i+1 for the plan made on i)
 * @param meanExpertsMoved        mean experts moved per rebalance, relative to the previous window's plan
 * @param meanColocatedPairs      mean (layer, GPU) pairs per plan holding two replicas of one expert
 * @param timing                  rebalance wall-clock time after warm-up
 */
public record AlgorithmReport(String algorithm, double meanGpuBalancedness, double minGpuBalancedness,
                              double meanSlotBalancedness, double meanNodeBalancedness,
                              double[] windowGpuBalancedness, double meanExpertsMoved, double meanColocatedPairs,
                              Timing timing) {
}
