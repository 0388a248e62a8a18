package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;

import io.moelab.eplb.BalancingCases;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import org.junit.jupiter.api.Test;

/** snake against a direct transcription of its definition for the global policy. */
class SnakeTest {

    /**
     * Global policy, written out plainly: greedy replication (argmax of load / count, first on ties), then
     * items sorted heaviest first (stable), the k-th to pack k mod m on even stripes, m - 1 - k mod m on odd.
     */
    static int[] naiveGlobalSnake(double[] weight, int replicas, int gpus) {
        int experts = weight.length;
        float[] w = new float[experts];
        for (int e = 0; e < experts; e++) {
            w[e] = (float) weight[e];
        }
        int[] phy2log = new int[replicas];
        int[] count = new int[experts];
        for (int e = 0; e < experts; e++) {
            phy2log[e] = e;
            count[e] = 1;
        }
        for (int p = experts; p < replicas; p++) {
            int best = 0;
            for (int e = 1; e < experts; e++) {
                if (w[e] / count[e] > w[best] / count[best]) {
                    best = e;
                }
            }
            phy2log[p] = best;
            count[best]++;
        }
        Integer[] order = new Integer[replicas];
        float[] item = new float[replicas];
        for (int p = 0; p < replicas; p++) {
            order[p] = p;
            item[p] = w[phy2log[p]] / count[phy2log[p]];
        }
        java.util.Arrays.sort(order, (a, b) -> Float.compare(item[b], item[a])); // stable
        int perGpu = replicas / gpus;
        int[] fill = new int[gpus];
        int[] out = new int[replicas];
        for (int k = 0; k < replicas; k++) {
            int stripe = k / gpus;
            int pack = stripe % 2 == 0 ? k % gpus : gpus - 1 - k % gpus;
            out[pack * perGpu + fill[pack]++] = phy2log[order[k]];
        }
        return out;
    }

    @Test
    void globalSnakeIsTheSerpentineAssignment() {
        qt().withExamples(500).withFixedSeed(41).forAll(BalancingCases.cases()).checkAssert(c -> {
            Topology global = c.topology();
            Placement p = Algorithms.byName("snake:global").rebalance(BalancingRequest.of(c.weight(), global));
            LoadMatrix w = c.weight();
            for (int l = 0; l < w.layers(); l++) {
                double[] row = new double[w.experts()];
                w.copyLayer(l, row);
                int[] expected = naiveGlobalSnake(row, global.replicas(), global.gpus());
                // Slots within a GPU may be ordered differently; compare each GPU's experts as a sorted list.
                int perGpu = global.slotsPerGpu();
                for (int g = 0; g < global.gpus(); g++) {
                    int[] mine = java.util.Arrays.copyOfRange(p.layerPhy2log(l), g * perGpu, (g + 1) * perGpu);
                    int[] theirs = java.util.Arrays.copyOfRange(expected, g * perGpu, (g + 1) * perGpu);
                    java.util.Arrays.sort(mine);
                    java.util.Arrays.sort(theirs);
                    assertThat(mine).as("layer %d GPU %d", l, g).containsExactly(theirs);
                }
            }
        });
    }

    @Test
    void hierarchicalSnakeKeepsGroupsOnNodesLikeDeepSeek() {
        Topology t = new Topology(16, 4, 2, 8);
        LoadMatrix w = LoadMatrix.of(new double[][] {{90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86}}, "w");
        Placement snake = Algorithms.byName("snake").rebalance(BalancingRequest.of(w, t));
        Placement deepseek = Algorithms.byName("deepseek").rebalance(BalancingRequest.of(w, t));
        // Same groups on the same nodes (step 1 packs 4 groups into 2 nodes, 2 each: serpentine = balanced here).
        for (int node = 0; node < 2; node++) {
            java.util.Set<Integer> a = new java.util.TreeSet<>();
            java.util.Set<Integer> b = new java.util.TreeSet<>();
            for (int s = node * 8; s < node * 8 + 8; s++) {
                a.add(snake.expertAt(0, s) / 3);
                b.add(deepseek.expertAt(0, s) / 3);
            }
            assertThat(a).isEqualTo(b);
        }
    }
}
