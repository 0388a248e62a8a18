package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.Topology;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The migration repair: hand-worked layers for the moves it must find, and random layers against its contract
 * (exact counts, no expert twice on a GPU, blocks respected, the target met), checked by recounting.
 */
class LayerRepairTest {
    @Test
    void lightestPartnersAreThoseOfTheReplaceTheHeaviestScan() {
        // The scan the heap replaces: fill with the first GPUs, then each lighter GPU takes the position of the
        // most loaded partner (the first such position on ties). Loads from a few values make ties common, and
        // which tied GPU stays decides the swaps tried, so the positions must match too.
        SplittableRandom random = new SplittableRandom(7);
        for (int trial = 0; trial < 2000; trial++) {
            int gpus = 1 + random.nextInt(80);
            int k = 1 + random.nextInt(12);
            double[] load = new double[gpus + 3];
            for (int g = 0; g < load.length; g++) {
                load[g] = random.nextInt(random.nextBoolean() ? 3 : 1000) * 0.5;
            }
            int first = random.nextInt(3);
            int end = first + gpus;
            int exclude = first + random.nextInt(gpus);
            int[] expected = new int[k];
            int expectedFound = 0;
            for (int g = first; g < end; g++) {
                if (g == exclude) {
                    continue;
                }
                if (expectedFound < k) {
                    expected[expectedFound++] = g;
                } else {
                    int worst = 0;
                    for (int p = 1; p < k; p++) {
                        if (load[expected[p]] > load[expected[worst]]) {
                            worst = p;
                        }
                    }
                    if (load[g] < load[expected[worst]]) {
                        expected[worst] = g;
                    }
                }
            }
            int[] partners = new int[k];
            int found = LayerRepair.lightest(load, first, end, exclude, partners, new int[k], new double[k]);
            assertThat(found).isEqualTo(expectedFound);
            assertThat(Arrays.copyOf(partners, found)).as("trial %d", trial)
                    .containsExactly(Arrays.copyOf(expected, expectedFound));
        }
    }

    @Test
    void swapsWithAnyGpuWhenTheLightestHoldNothingLightEnough() {
        // Six GPUs of two slots, one replica per expert. GPU 0 holds {100, 30}; the only replica light enough to
        // take 30's place is the 0 on GPU 1 {70, 0}, which is not among the four lightest GPUs ({30, 31} each).
        Topology t = new Topology(12, 1, 1, 6);
        double[] load = {100, 30, 70, 0, 30, 31, 30, 31, 30, 31, 30, 31};
        int[] previous = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        int[] counts = new int[12];
        Arrays.fill(counts, 1);
        int[] repaired = new LayerRepair(t, 12, false).repair(previous, counts, load, 100);
        // By hand: GPUs 0 and 1 exchange one replica each (30 for 0, or equally 100 for 70), both end at 100;
        // nothing else moves.
        assertThat(repaired).satisfiesAnyOf(
                r -> assertThat(r).containsExactly(0, 3, 2, 1, 4, 5, 6, 7, 8, 9, 10, 11),
                r -> assertThat(r).containsExactly(2, 1, 0, 3, 4, 5, 6, 7, 8, 9, 10, 11));
    }

    @Test
    void aMissingReplicaTakesAnotherReplicasSlotWhenTheFreedSlotsGpuHoldsItAlready() {
        // Three GPUs of two slots: {A, B} {B, C} {D, E}. B drops to one replica and A rises to two; B leaves the
        // more loaded GPU 0, which holds A already.
        int a = 0;
        int b = 1;
        int c = 2;
        int d = 3;
        int e = 4;
        Topology t = new Topology(6, 1, 1, 3);
        double[] load = {10, 4, 1, 3, 3};
        int[] previous = {a, b, b, c, d, e};
        int[] counts = {2, 1, 1, 1, 1};
        int[] repaired = new LayerRepair(t, 5, false).repair(previous, counts, load, 100);
        // By hand (per-replica loads A 5, B 4, C 1, D 3, E 3; GPU 0 = {A} at 5 after B leaves): a replica x from
        // another GPU moves into the free slot and A takes x's place; the larger of the two GPUs' loads is
        // 9 for x = B, 9 for C, 8 for D or E: D, the first of those, moves.
        assertThat(repaired).containsExactly(a, d, b, c, a, e);
    }

    @Test
    void groupsThatChangeNodesArePlacedOnTheirNewNodes() {
        // Two nodes of two GPUs with two slots; groups of two experts. Groups 1 (experts 2, 3) and 2 (4, 5) trade
        // nodes: their old slots are emptied and each expert's block names its new node.
        Topology t = new Topology(8, 4, 2, 4);
        double[] load = {8, 7, 6, 5, 4, 3, 2, 1};
        int[] start = {0, 1, -1, -1, -1, -1, 6, 7};
        int[] counts = {1, 1, 1, 1, 1, 1, 1, 1};
        int[] block = {0, 0, 1, 1, 0, 0, 1, 1};
        int[] repaired = new LayerRepair(t, 8, true).repair(start, counts, load, 100, block);
        assertThat(repaired).containsExactly(0, 1, 4, 5, 2, 3, 6, 7);
    }

    @Test
    void anExpertTwiceOnAGpuIsSpreadWhereItCanBe() {
        // Two GPUs of two slots holding {0, 0} and {1, 1}, the counts unchanged: one replica of each moves to the
        // other GPU (a swap), so no GPU computes one expert twice.
        Topology t = new Topology(4, 1, 1, 2);
        int[] repaired = new LayerRepair(t, 2, false).repair(new int[] {0, 0, 1, 1}, new int[] {2, 2},
                new double[] {1, 1}, 100);
        assertThat(repaired).containsExactly(0, 1, 1, 0);
        // Three replicas of one expert on two GPUs cannot be spread: left as they are.
        Topology three = new Topology(4, 1, 1, 2);
        assertThat(new LayerRepair(three, 2, false).repair(new int[] {0, 0, 0, 1}, new int[] {3, 1},
                new double[] {3, 1}, 100)).containsExactly(0, 0, 0, 1);
    }

    @Test
    void randomRepairsKeepTheirContract() {
        SplittableRandom random = new SplittableRandom(61);
        int checked = 0;
        for (int round = 0; round < 1000; round++) {
            int nodes = 1 + random.nextInt(3);
            int gpusPerNode = 2 + random.nextInt(4);
            int slotsPerGpu = 2 + random.nextInt(3);
            int groups = nodes * (1 + random.nextInt(2));
            int groupSize = 1 + random.nextInt(3);
            int experts = groups * groupSize;
            int gpus = nodes * gpusPerNode;
            int replicas = gpus * slotsPerGpu;
            if (replicas < experts) {
                continue;
            }
            boolean nodeLocal = random.nextBoolean();
            Topology t = new Topology(replicas, groups, nodes, gpus);
            // Groups on nodes in order; a node's slots hold its experts, at least once each, none twice on a GPU.
            int[] previous = placeOnNodes(random, t, experts, randomCounts(random, t, experts));
            int[] next = randomCounts(random, t, experts);
            if (previous == null || next == null) {
                continue;
            }
            double[] load = new double[experts];
            for (int e = 0; e < experts; e++) {
                load[e] = random.nextInt(4) == 0 ? 0 : random.nextDouble(100);
            }
            double target = random.nextBoolean() ? Double.MAX_VALUE : maxGpuLoad(previous, load, next, slotsPerGpu);
            int[] repaired = new LayerRepair(t, experts, nodeLocal).repair(previous, next, load, target);
            if (repaired == null) {
                continue;
            }
            checked++;
            int[] have = new int[experts];
            for (int g = 0; g < gpus; g++) {
                Set<Integer> onGpu = new HashSet<>();
                for (int s = g * slotsPerGpu; s < (g + 1) * slotsPerGpu; s++) {
                    assertThat(onGpu.add(repaired[s])).as("expert twice on GPU %d: %s", g,
                            Arrays.toString(repaired)).isTrue();
                    have[repaired[s]]++;
                    if (nodeLocal) {
                        assertThat(t.nodeOfGpu(g)).isEqualTo(repaired[s] / groupSize / (groups / nodes));
                    }
                }
            }
            assertThat(have).containsExactly(next);
            assertThat(maxGpuLoad(repaired, load, next, slotsPerGpu)).isLessThanOrEqualTo(target);
        }
        assertThat(checked).isGreaterThan(200);
    }

    /** Replica counts per expert that fill each node's slots with its own groups' experts, or null. */
    private static int[] randomCounts(SplittableRandom random, Topology t, int experts) {
        int perNode = experts / t.nodes();
        int slotsPerNode = t.slotsPerNode();
        if (slotsPerNode < perNode) {
            return null;
        }
        int[] counts = new int[experts];
        for (int n = 0; n < t.nodes(); n++) {
            for (int e = n * perNode; e < (n + 1) * perNode; e++) {
                counts[e] = 1;
            }
            for (int extra = slotsPerNode - perNode; extra > 0; extra--) {
                int e = n * perNode + random.nextInt(perNode);
                if (counts[e] >= t.gpusPerNode()) {
                    return null; // more replicas than the node has GPUs
                }
                counts[e]++;
            }
        }
        return counts;
    }

    /** Each node's replicas dealt round-robin over its GPUs (so no GPU gets an expert twice), or null. */
    private static int[] placeOnNodes(SplittableRandom random, Topology t, int experts, int[] counts) {
        if (counts == null) {
            return null;
        }
        int perNode = experts / t.nodes();
        int gpusPerNode = t.gpusPerNode();
        int slotsPerGpu = t.slotsPerGpu();
        int[] slots = new int[t.replicas()];
        for (int n = 0; n < t.nodes(); n++) {
            int k = 0;
            for (int e = n * perNode; e < (n + 1) * perNode; e++) {
                for (int r = 0; r < counts[e]; r++, k++) {
                    int gpu = n * gpusPerNode + k % gpusPerNode;
                    slots[gpu * slotsPerGpu + k / gpusPerNode] = e;
                }
            }
        }
        // Shuffle slots within each GPU: order must not matter.
        for (int g = 0; g < t.gpus(); g++) {
            for (int j = slotsPerGpu - 1; j > 0; j--) {
                int i = random.nextInt(j + 1);
                int tmp = slots[g * slotsPerGpu + j];
                slots[g * slotsPerGpu + j] = slots[g * slotsPerGpu + i];
                slots[g * slotsPerGpu + i] = tmp;
            }
        }
        return slots;
    }

    private static double maxGpuLoad(int[] slots, double[] load, int[] counts, int slotsPerGpu) {
        double max = 0;
        for (int s = 0; s < slots.length; s += slotsPerGpu) {
            double sum = 0;
            for (int j = s; j < s + slotsPerGpu; j++) {
                sum += load[slots[j]] / counts[slots[j]];
            }
            max = Math.max(max, sum);
        }
        return max;
    }

    /**
     * An expert held twice on a GPU whose new count equals the GPUs of its domain has its second replica placed anew:
     * it then sits once on every GPU. Its freed slot is on the GPU that holds it, so a replica from the other GPU moves
     * in (B, the first of the equally good) and the expert takes its place.
     */
    @Test
    void aDuplicateIsSpreadWhenTheCountEqualsTheGpus() {
        Topology t = new Topology(4, 1, 1, 2);
        int[] repaired = new LayerRepair(t, 3, false).repair(new int[] {0, 0, 1, 2}, new int[] {2, 1, 1},
                new double[] {2, 1, 1}, 100);
        assertThat(repaired).containsExactly(0, 1, 0, 2);
    }

    /**
     * An expert with more replicas than GPUs keeps a GPU's duplicates, but a surplus replica leaves a GPU holding it
     * twice or more before the more loaded GPU holding it once: otherwise GPU 0 keeps three of expert A's replicas.
     * Worked by hand: A's freed slot is on GPU 0, which holds B, so C (the first of GPU 1's equally good replicas)
     * moves in and the missing B takes C's slot.
     */
    @Test
    void aSurplusReplicaLeavesADuplicateFirst() {
        Topology t = new Topology(8, 1, 1, 2);
        int[] previous = {0, 0, 0, 1, 0, 2, 3, 4};
        int[] repaired = new LayerRepair(t, 5, false).repair(previous, new int[] {3, 2, 1, 1, 1},
                new double[] {3, 2, 5, 5, 5}, 100);
        assertThat(repaired).containsExactly(2, 0, 0, 1, 0, 1, 3, 4);
    }
}
