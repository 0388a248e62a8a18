package io.moelab.eplb.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;

import io.moelab.eplb.BalancingCases;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.DeepSeekBalancer;
import org.junit.jupiter.api.Test;

/** Scores worked out by hand, and invariants over random placements. */
class PlacementEvaluatorTest {
    private static final Topology TWO_GPUS = new Topology(4, 1, 1, 2);

    private static LoadMatrix load(double[]... rows) {
        return LoadMatrix.of(rows, "load");
    }

    private static Placement placement(Topology t, int experts, int[]... phy2log) {
        return Placement.of(t, experts, phy2log);
    }

    @Test
    void oneReplicaEach() {
        // GPU 0 holds experts 0,1 (4+2), GPU 1 holds 2,3 (1+1): mean 4, max 6.
        PlacementScore s = PlacementEvaluator.score(placement(TWO_GPUS, 4, new int[] {0, 1, 2, 3}),
                load(new double[] {4, 2, 1, 1}));
        assertThat(s.gpuLoads()[0]).containsExactly(6, 2);
        assertThat(s.gpuBalancedness()).isCloseTo(4.0 / 6, within(1e-12));
        assertThat(s.slotBalancedness()).isCloseTo(2.0 / 4, within(1e-12));
        assertThat(s.nodeBalancedness()).isEqualTo(1.0);
        assertThat(s.colocations()).isEmpty();
    }

    @Test
    void layersAreSummedBeforeDividingAndIdleLayersCountAsBalanced() {
        PlacementScore s = PlacementEvaluator.score(
                placement(TWO_GPUS, 4, new int[] {0, 1, 2, 3}, new int[] {0, 2, 1, 3}, new int[] {0, 1, 2, 3}),
                load(new double[] {4, 2, 1, 1}, new double[] {1, 1, 1, 1}, new double[] {0, 0, 0, 0}));
        // Layer 0: mean 4, max 6. Layer 1: GPU loads 2 and 2. Layer 2: idle.
        assertThat(s.gpuBalancedness()).isCloseTo((4.0 + 2 + 0) / (6 + 2 + 0), within(1e-12));
        assertThat(s.layerGpuBalancedness()).containsExactly(4.0 / 6, 1.0, 1.0);
        // Not the mean of per-layer ratios, which would be (2/3 + 1 + 1) / 3.
        assertThat(s.gpuBalancedness()).isNotCloseTo((2.0 / 3 + 2) / 3, within(1e-6));
    }

    @Test
    void loadSplitsEvenlyOverReplicas() {
        // Expert 0 (load 6) has two replicas on different GPUs: 3 each; GPUs carry 3+3 and 3+3.
        PlacementScore s = PlacementEvaluator.score(placement(TWO_GPUS, 3, new int[] {0, 1, 0, 2}),
                load(new double[] {6, 3, 3}));
        assertThat(s.gpuLoads()[0]).containsExactly(6, 6);
        assertThat(s.gpuBalancedness()).isEqualTo(1.0);
        assertThat(s.slotBalancedness()).isEqualTo(1.0);
    }

    @Test
    void colocatedReplicasAreReported() {
        PlacementScore s = PlacementEvaluator.score(placement(TWO_GPUS, 3, new int[] {0, 0, 1, 2}),
                load(new double[] {6, 3, 3}));
        assertThat(s.colocations()).containsExactly(new Colocation(0, 0, 0, 2));
        // The GPU still carries the expert's whole load.
        assertThat(s.gpuLoads()[0]).containsExactly(6, 6);
    }

    @Test
    void threeReplicasOnOneGpuAreOneColocation() {
        Topology t = new Topology(6, 1, 1, 2);
        PlacementScore s = PlacementEvaluator.score(placement(t, 4, new int[] {0, 0, 0, 1, 2, 3}),
                load(new double[] {9, 1, 1, 1}));
        assertThat(s.colocations()).containsExactly(new Colocation(0, 0, 0, 3));
    }

    @Test
    void colocatedPairsCountEachGpuOnce() {
        Topology t = new Topology(8, 1, 1, 2);
        PlacementScore s = PlacementEvaluator.score(placement(t, 6, new int[] {0, 0, 1, 1, 2, 3, 4, 5}),
                load(new double[] {1, 1, 1, 1, 1, 1}));
        assertThat(s.colocations()).containsExactly(new Colocation(0, 0, 0, 2), new Colocation(0, 0, 1, 2));
        assertThat(s.colocatedPairs()).isEqualTo(1);
    }

    @Test
    void nodeLoadsSumTheirGpus() {
        Topology t = new Topology(4, 1, 2, 4);
        PlacementScore s = PlacementEvaluator.score(placement(t, 4, new int[] {0, 1, 2, 3}),
                load(new double[] {4, 2, 1, 1}));
        assertThat(s.nodeLoads()[0]).containsExactly(6, 2);
        assertThat(s.nodeBalancedness()).isCloseTo(4.0 / 6, within(1e-12));
        assertThat(s.gpuBalancedness()).isCloseTo(2.0 / 4, within(1e-12));
    }

    @Test
    void migrationCountsExpertsNewToAGpu() {
        Placement before = placement(TWO_GPUS, 4, new int[] {0, 1, 2, 3});
        // Same experts per GPU, slots permuted: nothing to transfer.
        assertThat(PlacementEvaluator.migration(before, placement(TWO_GPUS, 4, new int[] {1, 0, 3, 2})))
                .isEqualTo(new Migration(0, 4, 0));
        // Experts 1 and 2 swap GPUs: two transfers.
        assertThat(PlacementEvaluator.migration(before, placement(TWO_GPUS, 4, new int[] {0, 2, 1, 3})))
                .isEqualTo(new Migration(2, 2, 1));
    }

    @Test
    void twoNewReplicasOfOneExpertOnOneGpuNeedOneTransfer() {
        Placement before = placement(TWO_GPUS, 3, new int[] {0, 1, 2, 0});
        Placement after = placement(TWO_GPUS, 3, new int[] {2, 2, 1, 0});
        // GPU 0 gains expert 2 (one copy serves both slots); GPU 1 gains expert 1.
        assertThat(PlacementEvaluator.migration(before, after).expertsMoved()).isEqualTo(2);
    }

    @Test
    void migrationRejectsMismatchedPlacements() {
        Placement a = placement(TWO_GPUS, 4, new int[] {0, 1, 2, 3});
        Placement b = placement(new Topology(4, 1, 1, 4), 4, new int[] {0, 1, 2, 3});
        assertThatThrownBy(() -> PlacementEvaluator.migration(a, b)).isInstanceOf(InvalidInputException.class);
    }

    @Test
    void scoreRejectsLoadOfAnotherShape() {
        Placement p = placement(TWO_GPUS, 4, new int[] {0, 1, 2, 3});
        assertThatThrownBy(() -> PlacementEvaluator.score(p, load(new double[] {1, 2, 3})))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("load");
    }

    @Test
    void invariantsOnRandomPlacements() {
        qt().withExamples(300).withFixedSeed(3).forAll(BalancingCases.cases()).checkAssert(c -> {
            Placement p = new DeepSeekBalancer().rebalance(BalancingRequest.of(c.weight(), c.topology()));
            PlacementScore s = PlacementEvaluator.score(p, c.weight());
            assertThat(s.gpuBalancedness()).isBetween(0.0, 1.0).isGreaterThan(0);
            assertThat(s.slotBalancedness()).isBetween(0.0, 1.0).isGreaterThan(0);
            // Finer partitions balance no better: slots <= GPUs <= nodes.
            assertThat(s.slotBalancedness()).isLessThanOrEqualTo(s.gpuBalancedness() + 1e-12);
            assertThat(s.gpuBalancedness()).isLessThanOrEqualTo(s.nodeBalancedness() + 1e-12);
            for (int l = 0; l < p.layers(); l++) {
                double gpuSum = 0;
                for (double v : s.gpuLoads()[l]) {
                    gpuSum += v;
                }
                assertThat(gpuSum).isCloseTo(c.weight().layerTotal(l), within(1e-6 * (1 + gpuSum)));
            }
            assertThat(PlacementEvaluator.migration(p, p).expertsMoved()).isZero();
        });
    }
}
