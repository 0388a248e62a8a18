package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.Topology;
import io.moelab.eplb.eval.AlgorithmReport;
import io.moelab.eplb.eval.EvaluationReport;
import io.moelab.eplb.eval.Timing;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The lines that {@code eplb evaluate --plot} and {@code eplb report} draw of GPU balancedness per window. */
class BalancednessSeriesTest {
    private static AlgorithmReport algorithm(String name, double... perWindow) {
        return new AlgorithmReport(name, 0.5, 0.4, 0.5, 0.5, perWindow, 1, 0, new Timing(1, 2, 3));
    }

    @Test
    void eachAlgorithmInTheReportsOrderThenTheBound() {
        EvaluationReport report = new EvaluationReport(new Topology(16, 4, 2, 8), 10, 3, 2, 12,
                new double[] {0.9, 0.95}, List.of(algorithm("snake", 0.6, 0.7), algorithm("deepseek", 0.8, 0.5),
                algorithm("moelab:global (hindsight)", 0.85, 0.9)));
        Map<String, double[]> series = EvaluateCommand.balancednessSeries(report);
        assertThat(series.keySet()).containsExactly("snake", "deepseek", "moelab:global (hindsight)", "bound");
        assertThat(series.get("snake")).containsExactly(0.6, 0.7);
        assertThat(series.get("deepseek")).containsExactly(0.8, 0.5);
        assertThat(series.get("moelab:global (hindsight)")).containsExactly(0.85, 0.9);
        assertThat(series.get("bound")).containsExactly(0.9, 0.95);
    }
}
