/**
 * Scoring balancers: {@link io.moelab.eplb.eval.PlacementEvaluator} scores a placement on a window of load and
 * counts the migration between two placements, {@link io.moelab.eplb.eval.WindowedEvaluation} plans on window i
 * and scores on window i+1 over a trace, {@link io.moelab.eplb.eval.RebalanceTimer} times rebalances side by
 * side, and {@link io.moelab.eplb.eval.EplbSuite} holds the workloads moelab's results are reported on.
 */
package io.moelab.eplb.eval;
