package io.moelab.eplb.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.BalancingCases;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * {@link BalanceBound} is an upper bound for every valid placement, not only for the algorithms': random placements
 * never exceed it, and on problems small enough to try every placement the best one does not either.
 */
class BalanceBoundPropertiesTest {
    @Test
    void randomPlacementsNeverExceedTheBound() {
        qt().withExamples(500).withFixedSeed(41).forAll(BalancingCases.cases(), integers().all())
                .checkAssert((c, s) -> {
            SplittableRandom random = new SplittableRandom(s);
            double bound = BalanceBound.of(c.weight(), c.topology());
            for (int i = 0; i < 20; i++) {
                Placement p = randomPlacement(random, c.topology(), c.weight().layers(), c.weight().experts());
                assertThat(PlacementEvaluator.score(p, c.weight()).gpuBalancedness())
                        .isLessThanOrEqualTo(bound + 1e-12);
            }
        });
    }

    @Test
    void theBestPlacementOfATinyProblemDoesNotExceedTheBound() {
        SplittableRandom random = new SplittableRandom(43);
        int tight = 0;
        for (int round = 0; round < 400; round++) {
            int gpus = 1 + random.nextInt(3);
            int replicas = gpus * (1 + random.nextInt(7 / gpus));
            int experts = 1 + random.nextInt(Math.min(4, replicas));
            int layers = 1 + random.nextInt(2);
            double[][] w = new double[layers][experts];
            for (double[] row : w) {
                for (int e = 0; e < experts; e++) {
                    row[e] = random.nextInt(3) == 0 ? random.nextInt(4) : random.nextDouble(10);
                }
            }
            Topology t = new Topology(replicas, 1, 1, gpus);
            LoadMatrix load = LoadMatrix.of(w, "w");
            // Layers are independent: the best placement has each layer's smallest largest GPU load.
            double meanSum = 0;
            double maxSum = 0;
            for (int l = 0; l < layers; l++) {
                double total = 0;
                for (double v : w[l]) {
                    total += v;
                }
                meanSum += total / gpus;
                maxSum += bestLargestGpuLoad(w[l], replicas, gpus);
            }
            double best = maxSum > 0 ? Math.min(1, meanSum / maxSum) : 1;
            double bound = BalanceBound.of(load, t);
            assertThat(best).as("%s on %s", java.util.Arrays.deepToString(w), t).isLessThanOrEqualTo(bound + 1e-12);
            tight += Math.abs(best - bound) < 1e-12 ? 1 : 0;
        }
        // Not vacuous: the bound is reached on many of them (one slot per GPU, or a hot expert's floor).
        assertThat(tight).isGreaterThan(100);
    }

    /** The smallest largest GPU load over every assignment of experts to the slots that gives each expert one. */
    private static double bestLargestGpuLoad(double[] load, int replicas, int gpus) {
        int experts = load.length;
        int[] slots = new int[replicas];
        double best = Double.POSITIVE_INFINITY;
        long total = (long) Math.pow(experts, replicas);
        int[] counts = new int[experts];
        int perGpu = replicas / gpus;
        for (long code = 0; code < total; code++) {
            long c = code;
            java.util.Arrays.fill(counts, 0);
            for (int s = 0; s < replicas; s++) {
                slots[s] = (int) (c % experts);
                c /= experts;
                counts[slots[s]]++;
            }
            boolean all = true;
            for (int n : counts) {
                all &= n > 0;
            }
            if (!all) {
                continue;
            }
            double max = 0;
            for (int g = 0; g < gpus; g++) {
                double sum = 0;
                for (int s = g * perGpu; s < (g + 1) * perGpu; s++) {
                    sum += load[slots[s]] / counts[slots[s]];
                }
                max = Math.max(max, sum);
            }
            best = Math.min(best, max);
        }
        return best;
    }

    /** Every expert once, the other slots random experts, shuffled over the slots (colocations allowed). */
    static Placement randomPlacement(SplittableRandom random, Topology t, int layers, int experts) {
        int[][] phy2log = new int[layers][t.replicas()];
        for (int[] slots : phy2log) {
            for (int s = 0; s < slots.length; s++) {
                slots[s] = s < experts ? s : random.nextInt(experts);
            }
            for (int i = slots.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                int tmp = slots[i];
                slots[i] = slots[j];
                slots[j] = tmp;
            }
        }
        return Placement.of(t, experts, phy2log);
    }
}
