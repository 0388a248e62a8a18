package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.BalancingCases;
import io.moelab.eplb.BalancingCases.Case;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.eval.Migration;
import io.moelab.eplb.eval.PlacementEvaluator;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The migration step's promises, against references written here: the balancedness given up stays within the
 * tolerance on both views of the loads, a placement in service as good as the fresh plan moves nothing, the output
 * is a valid placement (groups on their nodes in hierarchical mode, no expert twice on a GPU where the packer would
 * not put it twice, even when the placement in service does), and experts moved is the naive count of (layer, GPU,
 * expert) triples new to a GPU.
 */
class MigrationContractTest {
    private static final double[] TOLERANCES = {0, 0.002, 0.01, 0.05, 1};

    @Test
    void theBalancednessGivenUpStaysWithinTheTolerance() {
        qt().withExamples(300).withFixedSeed(23).forAll(BalancingCases.cases(), integers().all())
                .checkAssert((c, s) -> {
            SplittableRandom random = new SplittableRandom(s);
            double tolerance = TOLERANCES[random.nextInt(TOLERANCES.length)];
            String mode = random.nextBoolean() ? "global" : "auto";
            Topology t = c.topology();
            LoadMatrix w = c.weight();
            Placement previous = random.nextBoolean() ? randomPlacement(random, t, w.layers(), w.experts())
                    : Algorithms.byName("moelab:" + mode).rebalance(BalancingRequest.of(shuffled(random, w), t));
            List<LoadMatrix> history = random.nextBoolean() ? List.of()
                    : List.of(shuffled(random, w), w, shuffled(random, w), shuffled(random, w));
            MoelabBalancer aware = (MoelabBalancer) Algorithms.byName("moelab:" + mode + ":tolerance=" + tolerance);
            BalancerAlgorithm fresh = Algorithms.byName("moelab:" + mode + ":migrate=off");
            Placement a = aware.rebalance(new BalancingRequest(w, history, t, previous));
            Placement f = fresh.rebalance(new BalancingRequest(w, history, t, null));
            PlacementPropertiesTest.assertValid(a, c);
            // On the latest window as observed, and on the loads planned on (the forecast with its hedge).
            LoadMatrix planned = LoadMatrix.of(aware.planningLoads(new BalancingRequest(w, history, t, null)), "plan");
            for (LoadMatrix view : List.of(w, planned)) {
                assertThat(gpuBalancedness(a, view)).as("tolerance %s", tolerance)
                        .isGreaterThanOrEqualTo(gpuBalancedness(f, view) - tolerance - 1e-9);
            }
        });
    }

    @Test
    void aPlacementInServiceAsGoodAsTheFreshPlanMovesNothing() {
        qt().withExamples(300).withFixedSeed(29).forAll(BalancingCases.cases(), integers().all())
                .checkAssert((c, s) -> {
            SplittableRandom random = new SplittableRandom(s);
            Topology t = c.topology();
            LoadMatrix w = c.weight();
            for (String spec : List.of("moelab:global:tolerance=0", "moelab:tolerance=0", "moelab:global", "moelab")) {
                BalancerAlgorithm algorithm = Algorithms.byName(spec);
                Placement plan = algorithm.rebalance(BalancingRequest.of(w, t));
                // The same plan, and the plan with its nodes, its GPUs within nodes and the slots within GPUs
                // shuffled: the same balance under other labels.
                for (Placement previous : List.of(plan, relabeled(random, plan))) {
                    Placement next = algorithm.rebalance(new BalancingRequest(w, List.of(), t, previous));
                    assertThat(naiveMigration(previous, next).expertsMoved()).as(spec).isZero();
                    assertThat(gpuBalancedness(next, w)).as(spec)
                            .isGreaterThanOrEqualTo(gpuBalancedness(plan, w) - 1e-9);
                }
            }
        });
    }

    @Test
    void outputsAreValidAndKeepGroupsOnNodesAndExpertsOffDuplicateGpus() {
        qt().withExamples(300).withFixedSeed(31).forAll(BalancingCases.cases(), integers().all())
                .checkAssert((c, s) -> {
            SplittableRandom random = new SplittableRandom(s);
            Topology t = c.topology();
            LoadMatrix w = c.weight();
            double tolerance = TOLERANCES[random.nextInt(TOLERANCES.length)];
            for (String mode : List.of("global", "auto")) {
                Placement previous = randomPlacement(random, t, w.layers(), w.experts());
                Placement next = Algorithms.byName("moelab:" + mode + ":tolerance=" + tolerance)
                        .rebalance(new BalancingRequest(w, List.of(), t, previous));
                Placement fresh = Algorithms.byName("moelab:" + mode + ":migrate=off")
                        .rebalance(BalancingRequest.of(w, t));
                PlacementPropertiesTest.assertValid(next, c);
                boolean hierarchical = mode.equals("auto") && t.groupsDivideNodes();
                if (hierarchical) {
                    assertGroupsOnNodes(next, t);
                }
                if (colocations(fresh) == 0) {
                    // The packer put no expert twice on a GPU: neither may a layer kept or repaired from the
                    // placement in service, whatever that holds (another balancer's output may colocate).
                    assertThat(colocations(next)).as("%s from %s", mode, previous).isZero();
                }
            }
        });
    }

    /**
     * Expert groups are the model's routing, not the hardware's: a placement in service made with other groups (a
     * global plan made with none, the user switching to hierarchical mode) is one to migrate from, as long as the
     * slots, nodes and GPUs are the same. A global plan ignores groups, so the same plan made with one group moves
     * nothing; a hierarchical plan from it is valid, keeps its groups on nodes, and moves as the naive count says.
     */
    @Test
    void aPlacementInServiceMadeWithOtherGroupsIsMigratedFrom() {
        qt().withExamples(200).withFixedSeed(41).forAll(BalancingCases.cases(), integers().all())
                .checkAssert((c, s) -> {
            SplittableRandom random = new SplittableRandom(s);
            Topology t = c.topology();
            Topology ungrouped = new Topology(t.replicas(), 1, t.nodes(), t.gpus());
            LoadMatrix w = c.weight();
            Placement global = Algorithms.byName("moelab:global").rebalance(BalancingRequest.of(w, ungrouped));
            Placement again = Algorithms.byName("moelab:global")
                    .rebalance(new BalancingRequest(w, List.of(), t, global));
            assertThat(PlacementEvaluator.migration(global, again)).isEqualTo(Migration.NONE);
            Placement previous = random.nextBoolean() ? global
                    : randomPlacement(random, ungrouped, w.layers(), w.experts());
            Placement next = Algorithms.byName("moelab:auto:tolerance=0.01")
                    .rebalance(new BalancingRequest(w, List.of(), t, previous));
            PlacementPropertiesTest.assertValid(next, c);
            if (t.groupsDivideNodes()) {
                assertGroupsOnNodes(next, t);
            }
            assertThat(PlacementEvaluator.migration(previous, next)).isEqualTo(naiveMigration(previous, next));
            // And back: a hierarchical plan in service, a global plan made with no groups.
            Placement back = Algorithms.byName("moelab:global")
                    .rebalance(new BalancingRequest(w, List.of(), ungrouped, next));
            assertThat(PlacementEvaluator.migration(next, back)).isEqualTo(naiveMigration(next, back));
        });
    }

    @Test
    void expertsMovedIsTheNaiveCount() {
        qt().withExamples(500).withFixedSeed(37).forAll(BalancingCases.cases(), integers().all())
                .checkAssert((c, s) -> {
            SplittableRandom random = new SplittableRandom(s);
            Topology t = c.topology();
            LoadMatrix w = c.weight();
            Placement a = randomPlacement(random, t, w.layers(), w.experts());
            Placement b = random.nextBoolean() ? randomPlacement(random, t, w.layers(), w.experts())
                    : Algorithms.byName("moelab").rebalance(new BalancingRequest(w, List.of(), t, a));
            assertThat(PlacementEvaluator.migration(a, b)).isEqualTo(naiveMigration(a, b));
        });
    }

    @Test
    void expertsMovedByHand() {
        // Two GPUs of three slots. Before: GPU 0 {0, 1, 2}, GPU 1 {3, 3, 0}. After: GPU 0 {2, 1, 3} (3 is new: one
        // copy), GPU 1 {1, 1, 0} (two new replicas of 1 on one GPU: one copy; 0 stays). Moved 2; slots changed: 0,
        // 2, 3 and 4 (slots 1 and 5 hold the same expert in both); one layer touched. Back: 0 onto GPU 0 and 3 onto
        // GPU 1 (twice, one copy).
        Topology t = new Topology(6, 1, 1, 2);
        Placement before = Placement.of(t, 4, new int[][] {{0, 1, 2, 3, 3, 0}});
        Placement after = Placement.of(t, 4, new int[][] {{2, 1, 3, 1, 1, 0}});
        assertThat(PlacementEvaluator.migration(before, after)).isEqualTo(new Migration(2, 4, 1));
        assertThat(PlacementEvaluator.migration(after, before)).isEqualTo(new Migration(2, 4, 1));
        assertThat(PlacementEvaluator.migration(before, before)).isEqualTo(Migration.NONE);
    }

    static double gpuBalancedness(Placement p, LoadMatrix load) {
        return PlacementEvaluator.score(p, load).gpuBalancedness();
    }

    /** Each layer's loads over the experts in a random order: other loads of the same shape and total. */
    private static LoadMatrix shuffled(SplittableRandom random, LoadMatrix w) {
        double[][] rows = w.toArray();
        for (double[] row : rows) {
            for (int i = row.length - 1; i > 0; i--) {
                int j = random.nextInt(i + 1);
                double tmp = row[i];
                row[i] = row[j];
                row[j] = tmp;
            }
        }
        return LoadMatrix.of(rows, "shuffled");
    }

    /**
     * A random valid placement: every expert once, the other slots random experts, all shuffled over the slots
     * (so groups may straddle nodes and an expert may sit twice on a GPU); half the time dealt so that no expert
     * sits twice on a GPU where that can be done simply.
     */
    static Placement randomPlacement(SplittableRandom random, Topology t, int layers, int experts) {
        int[][] phy2log = new int[layers][t.replicas()];
        for (int l = 0; l < layers; l++) {
            int[] slots = phy2log[l];
            int[] counts = new int[experts];
            for (int e = 0; e < experts; e++) {
                counts[e] = 1;
            }
            for (int extra = t.replicas() - experts; extra > 0; extra--) {
                counts[random.nextInt(experts)]++;
            }
            List<Integer> replicas = new ArrayList<>();
            for (int e = 0; e < experts; e++) {
                for (int k = 0; k < counts[e]; k++) {
                    replicas.add(e);
                }
            }
            if (random.nextBoolean()) {
                // Expert by expert, replica k on GPU (offset + k) mod M, columns filled in turn: no colocation
                // unless an expert has more replicas than GPUs.
                int k = 0;
                int gpus = t.gpus();
                for (int e : replicas) {
                    int gpu = k % gpus;
                    slots[gpu * t.slotsPerGpu() + k / gpus] = e;
                    k++;
                }
            } else {
                for (int i = replicas.size() - 1; i > 0; i--) {
                    int j = random.nextInt(i + 1);
                    replicas.set(i, replicas.set(j, replicas.get(i)));
                }
                for (int i = 0; i < slots.length; i++) {
                    slots[i] = replicas.get(i);
                }
            }
        }
        return Placement.of(t, experts, phy2log);
    }

    /** The plan with nodes, GPUs within each node and slots within each GPU permuted at random. */
    private static Placement relabeled(SplittableRandom random, Placement p) {
        Topology t = p.topology();
        int[] nodeOrder = permutation(random, t.nodes());
        int[][] phy2log = new int[p.layers()][t.replicas()];
        int[] gpuOrder = new int[t.gpus()];
        for (int n = 0; n < t.nodes(); n++) {
            int[] within = permutation(random, t.gpusPerNode());
            for (int i = 0; i < t.gpusPerNode(); i++) {
                gpuOrder[n * t.gpusPerNode() + i] = nodeOrder[n] * t.gpusPerNode() + within[i];
            }
        }
        int spg = t.slotsPerGpu();
        for (int l = 0; l < p.layers(); l++) {
            for (int g = 0; g < t.gpus(); g++) {
                int[] slotOrder = permutation(random, spg);
                for (int j = 0; j < spg; j++) {
                    phy2log[l][gpuOrder[g] * spg + slotOrder[j]] = p.expertAt(l, g * spg + j);
                }
            }
        }
        return Placement.of(t, p.experts(), phy2log);
    }

    private static int[] permutation(SplittableRandom random, int n) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int tmp = p[i];
            p[i] = p[j];
            p[j] = tmp;
        }
        return p;
    }

    /** (layer, GPU) pairs holding some expert twice or more. */
    static int colocations(Placement p) {
        Topology t = p.topology();
        int pairs = 0;
        for (int l = 0; l < p.layers(); l++) {
            for (int g = 0; g < t.gpus(); g++) {
                Set<Integer> seen = new HashSet<>();
                boolean twice = false;
                for (int s = g * t.slotsPerGpu(); s < (g + 1) * t.slotsPerGpu(); s++) {
                    twice |= !seen.add(p.expertAt(l, s));
                }
                pairs += twice ? 1 : 0;
            }
        }
        return pairs;
    }

    /** Experts moved (set differences per layer and GPU), slots changed and layers touched, counted plainly. */
    static Migration naiveMigration(Placement before, Placement after) {
        Topology t = after.topology();
        int moved = 0;
        int changed = 0;
        int touched = 0;
        for (int l = 0; l < after.layers(); l++) {
            int inLayer = 0;
            for (int g = 0; g < t.gpus(); g++) {
                Set<Integer> had = new HashSet<>();
                Set<Integer> has = new HashSet<>();
                for (int s = g * t.slotsPerGpu(); s < (g + 1) * t.slotsPerGpu(); s++) {
                    had.add(before.expertAt(l, s));
                    has.add(after.expertAt(l, s));
                    changed += before.expertAt(l, s) != after.expertAt(l, s) ? 1 : 0;
                }
                has.removeAll(had);
                inLayer += has.size();
            }
            moved += inLayer;
            touched += inLayer > 0 ? 1 : 0;
        }
        return new Migration(moved, changed, touched);
    }

    private static void assertGroupsOnNodes(Placement p, Topology t) {
        int groupSize = p.experts() / t.groups();
        for (int l = 0; l < p.layers(); l++) {
            int[] nodeOfGroup = new int[t.groups()];
            java.util.Arrays.fill(nodeOfGroup, -1);
            for (int s = 0; s < t.replicas(); s++) {
                int g = p.expertAt(l, s) / groupSize;
                int node = t.nodeOfGpu(t.gpuOfSlot(s));
                assertThat(nodeOfGroup[g] == -1 || nodeOfGroup[g] == node).as("group %d of layer %d", g, l).isTrue();
                nodeOfGroup[g] = node;
            }
        }
    }
}
