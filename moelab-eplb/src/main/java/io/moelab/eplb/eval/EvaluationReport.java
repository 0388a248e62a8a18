package io.moelab.eplb.eval;

import io.moelab.eplb.Topology;
import java.util.List;

/**
 * Results of {@link WindowedEvaluation}. {@code windowBound} is the report's own array, not copied (and shared with
 * {@link #with}'s result); {@code equals} compares it by identity, as for any record.
 *
 * @param topology   the cluster placed onto
 * @param window     trace steps summed into one window
 * @param windows    complete windows in the trace
 * @param layers     MoE layers
 * @param experts    logical experts per layer
 * @param windowBound upper bound on GPU balancedness of each scored window ({@link BalanceBound})
 * @param algorithms one report per algorithm, in the order given
 */
public record EvaluationReport(Topology topology, int window, int windows, int layers, int experts,
                               double[] windowBound, List<AlgorithmReport> algorithms) {

    /** This report with {@code more} algorithm reports appended (e.g. the same algorithms with hindsight). */
    public EvaluationReport with(List<AlgorithmReport> more) {
        List<AlgorithmReport> all = new java.util.ArrayList<>(algorithms);
        all.addAll(more);
        return new EvaluationReport(topology, window, windows, layers, experts, windowBound, List.copyOf(all));
    }

    /** Mean over scored windows of the balancedness bound. */
    public double meanBound() {
        return Stats.mean(windowBound);
    }

    /** Windows that were scored: every window but the first. */
    public int scoredWindows() {
        return windows - 1;
    }
}
