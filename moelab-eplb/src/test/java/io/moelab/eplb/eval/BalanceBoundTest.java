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
        // One hot expert (9) and three of 1 on 2 GPUs with 6 slots: the hot one gets at most one replica per GPU
        // (2), 4.5 each, below the mean 12 / 2 = 6: bound 1. With 4 slots on 4 GPUs (no extra replica) the hot
        // expert's GPU carries 9 while the mean is 3: bound 3 / 9.
        LoadMatrix w = LoadMatrix.of(new double[][] {{9, 1, 1, 1}}, "w");
        assertThat(BalanceBound.of(w, new Topology(6, 1, 1, 2))).isCloseTo(1.0, within(1e-12));
        assertThat(BalanceBound.of(w, new Topology(4, 1, 1, 4))).isCloseTo(3.0 / 9, within(1e-12));
    }

    @Test
    void eachLayerIsHeldToItsMeanAndLayersAreSummedBeforeDividing() {
        // Two layers on 2 GPUs with 2 slots each (no extra replica). Layer 0, {9, 1, 1, 1}: mean 6, heaviest
        // replica 9, floor 9. Layer 1, {3, 3, 3, 3}: mean 6, heaviest replica 3, but no GPU carries less than the
        // mean, floor 6. Bound (6 + 6) / (9 + 6) = 0.8; a floor of the heaviest replica alone would read
        // 12 / 12 = 1, and a mean of the layers' own ratios (6/9 + 1) / 2 = 0.833.
        LoadMatrix w = LoadMatrix.of(new double[][] {{9, 1, 1, 1}, {3, 3, 3, 3}}, "w");
        assertThat(BalanceBound.of(w, new Topology(4, 1, 1, 2))).isCloseTo(0.8, within(1e-12));
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
