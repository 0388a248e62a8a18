package io.moelab.eplb.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The bound, the scores and the migration count against naive references written from the definitions in
 * docs/EPLB.md alone: an exhaustive optimum (every replica count and every assignment of replicas to GPUs, with and
 * without two replicas of one expert on a GPU, and with groups confined to nodes as hierarchical placements are),
 * per-GPU sums of an even split, and a set difference of (layer, GPU, expert) triples.
 */
class BruteForceReferenceTest {

    /** A tiny instance: up to 2 layers, 3-6 experts, 2-4 GPUs, 1-3 slots per GPU, loads with zeros and ties. */
    private record Instance(double[][] load, Topology topology, int experts) {
    }

    private static Instance instance(int experts, int gpus, int slotsPerGpu, int layers, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        int replicas = Math.max(gpus * slotsPerGpu, experts);
        replicas += (gpus - replicas % gpus) % gpus;
        double[][] w = new double[layers][experts];
        for (double[] row : w) {
            int kind = random.nextInt(6);
            for (int e = 0; e < experts; e++) {
                row[e] = switch (kind) {
                    case 0 -> 0; // an idle layer
                    case 1 -> random.nextInt(4); // small integers: ties and zeros
                    case 2 -> e == 0 ? 100 : random.nextInt(3); // one hot expert
                    default -> random.nextDouble(10);
                };
            }
        }
        int nodes = gpus % 2 == 0 && random.nextBoolean() ? 2 : 1;
        int groups = experts % 2 == 0 && random.nextBoolean() ? 2 : experts % 3 == 0 ? 3 : 1;
        return new Instance(w, new Topology(replicas, groups, nodes, gpus), experts);
    }

    @Test
    void boundIsAtLeastTheExhaustiveOptimum() {
        qt().withExamples(300).withFixedSeed(7).forAll(integers().between(3, 6), integers().between(2, 4),
                integers().between(1, 3), integers().all()).checkAssert((experts, gpus, slots, seed) -> {
            Instance c = instance(experts, gpus, slots, 1 + Math.floorMod(seed, 2), seed);
            Topology t = c.topology();
            if (t.replicas() > 12) {
                return; // keeps the enumeration small
            }
            LoadMatrix load = LoadMatrix.of(c.load(), "w");
            double bound = BalanceBound.of(load, t);
            double meanSum = 0;
            double anyMax = 0;
            double distinctMax = 0;
            double hierMax = 0;
            boolean hierFeasible = true;
            for (double[] row : c.load()) {
                double total = Arrays.stream(row).sum();
                meanSum += total / t.gpus();
                double any = Best.of(row, t, true, false);
                anyMax += any;
                double distinct = Best.of(row, t, false, false);
                distinctMax += distinct;
                // Hierarchical placements are a subset of those without colocation (the planners' rule).
                double hier = t.nodes() > 1 ? Best.of(row, t, false, true) : Double.POSITIVE_INFINITY;
                hierFeasible &= hier < Double.POSITIVE_INFINITY;
                hierMax += hier;
                assertThat(any).isLessThanOrEqualTo(distinct);
                assertThat(distinct).isLessThanOrEqualTo(hier);
            }
            String what = Arrays.deepToString(c.load()) + " on " + t;
            assertThat(ratio(meanSum, anyMax)).as("colocation allowed: %s", what).isLessThanOrEqualTo(bound + 1e-12);
            if (distinctMax < Double.POSITIVE_INFINITY) {
                assertThat(ratio(meanSum, distinctMax)).as("no colocation: %s", what)
                        .isLessThanOrEqualTo(bound + 1e-12);
            }
            if (hierFeasible) {
                assertThat(ratio(meanSum, hierMax)).as("hierarchical: %s", what).isLessThanOrEqualTo(bound + 1e-12);
            }
            // One slot per GPU: a GPU's load is its replica's, so the best largest GPU load is the apportionment's.
            if (t.slotsPerGpu() == 1) {
                assertThat(bound).as("tight at one slot per GPU: %s", what).isCloseTo(ratio(meanSum, anyMax),
                        within(1e-12));
            }
        });
    }

    @Test
    void degenerateLoadsAndShapes() {
        // All-zero layers: perfectly balanced, bound 1.
        Topology t = new Topology(4, 1, 1, 2);
        assertThat(BalanceBound.of(LoadMatrix.of(new double[][] {{0, 0, 0}, {0, 0, 0}}, "w"), t)).isEqualTo(1.0);
        // One expert: every GPU holds it, each replica a quarter; bound and score 1.
        LoadMatrix one = LoadMatrix.of(new double[][] {{8}}, "w");
        assertThat(BalanceBound.of(one, t)).isEqualTo(1.0);
        Placement all = Placement.of(t, 1, new int[][] {{0, 0, 0, 0}});
        assertThat(PlacementEvaluator.score(all, one).gpuBalancedness()).isEqualTo(1.0);
        // No redundancy (R = E): loads 6, 1, 1, 0 on 2 GPUs of 2 slots: the best is {6, 0} | {1, 1}, max 6, mean 4.
        LoadMatrix noSpare = LoadMatrix.of(new double[][] {{6, 1, 1, 0}}, "w");
        assertThat(BalanceBound.of(noSpare, t)).isCloseTo(4.0 / 6, within(1e-15));
        assertThat(Best.of(new double[] {6, 1, 1, 0}, t, true, false)).isEqualTo(6.0);
    }

    @Test
    void scoresMatchANaiveImplementation() {
        qt().withExamples(300).withFixedSeed(11).forAll(integers().between(1, 6), integers().between(1, 4),
                integers().between(1, 3), integers().all()).checkAssert((experts, gpus, slots, seed) -> {
            Instance c = instance(experts, gpus, slots, 1 + Math.floorMod(seed, 3), seed);
            SplittableRandom random = new SplittableRandom(seed ^ 0x9E3779B97F4A7C15L);
            Placement p = BalanceBoundPropertiesTest.randomPlacement(random, c.topology(), c.load().length, experts);
            PlacementScore s = PlacementEvaluator.score(p, LoadMatrix.of(c.load(), "w"));
            Topology t = c.topology();
            int spg = t.slotsPerGpu();
            double gm = 0;
            double gx = 0;
            double sm = 0;
            double sx = 0;
            for (int l = 0; l < c.load().length; l++) {
                int[] row = p.layerPhy2log(l);
                int[] count = new int[experts];
                for (int e : row) {
                    count[e]++;
                }
                double[] slot = new double[t.replicas()];
                for (int q = 0; q < slot.length; q++) {
                    slot[q] = c.load()[l][row[q]] / count[row[q]];
                }
                double[] gpu = new double[t.gpus()];
                for (int q = 0; q < slot.length; q++) {
                    gpu[q / spg] += slot[q];
                }
                double total = Arrays.stream(c.load()[l]).sum();
                gm += total / t.gpus();
                gx += Arrays.stream(gpu).max().orElseThrow();
                sm += total / t.replicas();
                sx += Arrays.stream(slot).max().orElseThrow();
                double layerMax = Arrays.stream(gpu).max().orElseThrow();
                assertThat(s.layerGpuBalancedness()[l]).isCloseTo(layerMax > 0 ? total / t.gpus() / layerMax : 1,
                        within(1e-12));
                for (int g = 0; g < t.gpus(); g++) {
                    assertThat(s.gpuLoads()[l][g]).isCloseTo(gpu[g], within(1e-12));
                }
            }
            assertThat(s.gpuBalancedness()).isCloseTo(ratio(gm, gx), within(1e-12));
            assertThat(s.slotBalancedness()).isCloseTo(ratio(sm, sx), within(1e-12));
        });
    }

    @Test
    void expertsMovedMatchesTheSetDifferenceOfTriples() {
        qt().withExamples(500).withFixedSeed(13).forAll(integers().between(1, 6), integers().between(1, 4),
                integers().between(1, 3), integers().all()).checkAssert((experts, gpus, slots, seed) -> {
            Instance c = instance(experts, gpus, slots, 1 + Math.floorMod(seed, 3), seed);
            SplittableRandom random = new SplittableRandom(seed);
            int layers = c.load().length;
            Placement a = BalanceBoundPropertiesTest.randomPlacement(random, c.topology(), layers, experts);
            Placement b = random.nextBoolean()
                    ? BalanceBoundPropertiesTest.randomPlacement(random, c.topology(), layers, experts)
                    : permuteWithinGpus(random, a);
            Migration m = PlacementEvaluator.migration(a, b);
            Set<List<Integer>> before = triples(a);
            int moved = 0;
            Set<Integer> touched = new HashSet<>();
            for (List<Integer> x : triples(b)) {
                if (!before.contains(x)) {
                    moved++;
                    touched.add(x.get(0));
                }
            }
            int changed = 0;
            for (int l = 0; l < layers; l++) {
                for (int q = 0; q < a.replicas(); q++) {
                    changed += a.expertAt(l, q) != b.expertAt(l, q) ? 1 : 0;
                }
            }
            assertThat(m).isEqualTo(new Migration(moved, changed, touched.size()));
            assertThat(PlacementEvaluator.migration(a, a)).isEqualTo(Migration.NONE);
        });
    }

    private static Set<List<Integer>> triples(Placement p) {
        Set<List<Integer>> out = new HashSet<>();
        for (int l = 0; l < p.layers(); l++) {
            for (int q = 0; q < p.replicas(); q++) {
                out.add(List.of(l, q / p.topology().slotsPerGpu(), p.expertAt(l, q)));
            }
        }
        return out;
    }

    /** The same experts on every GPU, in another slot order: nothing moves, slots change. */
    private static Placement permuteWithinGpus(SplittableRandom random, Placement p) {
        int[][] rows = p.phy2log();
        int spg = p.topology().slotsPerGpu();
        for (int[] row : rows) {
            for (int first = 0; first < row.length; first += spg) {
                for (int i = spg - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    int tmp = row[first + i];
                    row[first + i] = row[first + j];
                    row[first + j] = tmp;
                }
            }
        }
        return Placement.of(p.topology(), p.experts(), rows);
    }

    private static double ratio(double mean, double max) {
        return max > 0 ? Math.min(1, mean / max) : 1;
    }

    /** Exhaustive smallest largest GPU load of one layer. */
    private static final class Best {
        private final double[] load;
        private final Topology t;
        private final List<int[]> contents;
        private final boolean hierarchical;
        private final int[] chosen;
        private double best = Double.POSITIVE_INFINITY;

        private Best(double[] load, Topology t, boolean colocation, boolean hierarchical) {
            this.load = load;
            this.t = t;
            this.hierarchical = hierarchical;
            this.contents = new ArrayList<>();
            multisets(new int[t.slotsPerGpu()], 0, 0, colocation);
            this.chosen = new int[t.gpus()];
        }

        /**
         * The best over every way to fill the GPUs; GPUs are interchangeable in global placement, so GPU contents
         * are taken in non-decreasing order of index (hierarchical placement is not symmetric across nodes, and
         * enumerates every order).
         */
        static double of(double[] load, Topology t, boolean colocation, boolean hierarchical) {
            Best b = new Best(load, t, colocation, hierarchical);
            b.fill(0, 0);
            return b.best;
        }

        private void multisets(int[] prefix, int at, int from, boolean colocation) {
            if (at == prefix.length) {
                contents.add(prefix.clone());
                return;
            }
            for (int e = from; e < load.length; e++) {
                prefix[at] = e;
                multisets(prefix, at + 1, colocation ? e : e + 1, colocation);
            }
        }

        private void fill(int gpu, int from) {
            if (gpu == t.gpus()) {
                evaluate();
                return;
            }
            for (int i = hierarchical ? 0 : from; i < contents.size(); i++) {
                chosen[gpu] = i;
                fill(gpu + 1, i);
            }
        }

        private void evaluate() {
            int experts = load.length;
            int[] count = new int[experts];
            int[] node = new int[experts];
            Arrays.fill(node, -1);
            int perGroup = experts / t.groups();
            int[] groupNode = new int[t.groups()];
            Arrays.fill(groupNode, -1);
            for (int g = 0; g < t.gpus(); g++) {
                for (int e : contents.get(chosen[g])) {
                    count[e]++;
                    if (hierarchical) {
                        int n = g / t.gpusPerNode();
                        int group = e / perGroup;
                        if (groupNode[group] >= 0 && groupNode[group] != n) {
                            return; // a group's replicas stay on one node
                        }
                        groupNode[group] = n;
                    }
                }
            }
            for (int c : count) {
                if (c == 0) {
                    return;
                }
            }
            if (hierarchical) {
                int[] groupsOn = new int[t.nodes()];
                for (int n : groupNode) {
                    groupsOn[n]++;
                }
                for (int n : groupsOn) {
                    if (n != t.groups() / t.nodes()) {
                        return;
                    }
                }
            }
            double max = 0;
            for (int g = 0; g < t.gpus(); g++) {
                double sum = 0;
                for (int e : contents.get(chosen[g])) {
                    sum += load[e] / count[e];
                }
                max = Math.max(max, sum);
            }
            best = Math.min(best, max);
        }
    }
}
