package io.moelab.eplb.eval;

import io.moelab.eplb.Topology;
import java.util.List;

/**
 * Results of {@link WindowedEvaluation}.
 *
 * @param topology   the cluster placed onto
 * @param window     trace steps summed into one window
 * @param windows    complete windows in the trace
 * @param layers     MoE layers
 * @param experts    logical experts per layer
 * @param algorithms one report per algorithm, in the order given
 */
public record EvaluationReport(Topology topology, int window, int windows, int layers, int experts,
                               List<AlgorithmReport> algorithms) {

    /** Windows that were scored: every window but the first. */
    public int scoredWindows() {
        return windows - 1;
    }
}
