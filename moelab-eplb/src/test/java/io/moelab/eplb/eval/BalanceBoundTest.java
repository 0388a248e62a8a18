package io.moelab.eplb.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;

import io.moelab.eplb.BalancingCases;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancingRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

class BalanceBoundTest {
    @Test
    void handCase() {
        // One hot expert (9) and three of 1 on 4 GPUs with 5 slots: the hot one gets at most 2 extra replicas
        // (R - E + 1 = 3), so some GPU carries at least 3 while the mean is 12 / 4 = 3: bound 1. With 4 slots
        // (no extra replica) the hot expert's GPU carries 9: bound 3 / 9.
        LoadMatrix w = LoadMatrix.of(new double[][] {{9, 1, 1, 1}}, "w");
        assertThat(BalanceBound.of(w, new Topology(6, 1, 1, 2))).isCloseTo(1.0, within(1e-12));
        assertThat(BalanceBound.of(w, new Topology(4, 1, 1, 4))).isCloseTo(3.0 / 9, within(1e-12));
    }

    @Test
    void noAlgorithmBeatsTheBoundInSample() {
        qt().withExamples(300).withFixedSeed(61).forAll(BalancingCases.cases()).checkAssert(c -> {
            double bound = BalanceBound.of(c.weight(), c.topology());
            for (String spec : List.of("moelab:global", "deepseek", "snake:global", "static")) {
                double b = PlacementEvaluator.score(Algorithms.byName(spec).rebalance(
                        BalancingRequest.of(c.weight(), c.topology())), c.weight()).gpuBalancedness();
                assertThat(b).as(spec).isLessThanOrEqualTo(bound + 1e-9);
            }
        });
    }
}
