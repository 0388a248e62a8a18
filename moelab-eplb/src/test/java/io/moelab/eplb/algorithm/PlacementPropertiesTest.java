package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.quicktheories.QuickTheory.qt;

import io.moelab.eplb.BalancingCases;
import io.moelab.eplb.BalancingCases.Case;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** Every algorithm returns a valid placement for every legal problem. */
class PlacementPropertiesTest {

    static java.util.List<String> algorithms() {
        return Algorithms.names();
    }

    @ParameterizedTest
    @MethodSource("algorithms")
    void everyOutputIsAValidPlacement(String name) {
        BalancerAlgorithm algorithm = Algorithms.byName(name);
        qt().withExamples(400).withFixedSeed(7).forAll(BalancingCases.cases()).checkAssert(c -> {
            Placement p = algorithm.rebalance(BalancingRequest.of(c.weight(), c.topology()));
            assertValid(p, c);
        });
    }

    /** Checks the placement invariants from the raw arrays, independently of {@link Placement}'s own checks. */
    static void assertValid(Placement p, Case c) {
        Topology t = c.topology();
        int experts = c.weight().experts();
        int[][] phy2log = p.phy2log();
        int[][] logcnt = p.logcnt();
        int[][][] log2phy = p.log2phy();
        assertThat(phy2log).hasNumberOfRows(c.weight().layers());
        int width = 0;
        for (int[] row : logcnt) {
            for (int v : row) {
                width = Math.max(width, v);
            }
        }
        for (int l = 0; l < phy2log.length; l++) {
            assertThat(phy2log[l]).as("slots in layer %d", l).hasSize(t.replicas());
            int[] counted = new int[experts];
            for (int slot : phy2log[l]) {
                assertThat(slot).isBetween(0, experts - 1);
                counted[slot]++;
            }
            assertThat(logcnt[l]).as("logcnt[%d] counts phy2log", l).containsExactly(counted);
            int sum = 0;
            for (int e = 0; e < experts; e++) {
                assertThat(logcnt[l][e]).as("replicas of expert %d", e).isGreaterThanOrEqualTo(1);
                sum += logcnt[l][e];
                assertThat(log2phy[l][e]).hasSize(width);
                Set<Integer> listed = new HashSet<>();
                for (int k = 0; k < width; k++) {
                    int slot = log2phy[l][e][k];
                    if (k < logcnt[l][e]) {
                        assertThat(phy2log[l][slot]).as("log2phy[%d][%d][%d]", l, e, k).isEqualTo(e);
                        listed.add(slot);
                    } else {
                        assertThat(slot).as("padding").isEqualTo(-1);
                    }
                }
                assertThat(listed).as("distinct slots of expert %d", e).hasSize(logcnt[l][e]);
            }
            assertThat(sum).isEqualTo(t.replicas());
        }
        int[] slotsPerGpu = new int[t.gpus()];
        for (int s = 0; s < t.replicas(); s++) {
            slotsPerGpu[t.gpuOfSlot(s)]++;
        }
        for (int g = 0; g < t.gpus(); g++) {
            assertThat(slotsPerGpu[g]).isEqualTo(t.replicas() / t.gpus());
        }
    }

    /**
     * Migration with every option allowed (tolerance 1: kept layers, repairs, hierarchical group exchanges), from a
     * placement planned on other loads (each layer's loads reversed over the experts) and with four windows of
     * history, so the loads planned on and the latest window differ: valid placements, and in hierarchical mode
     * every group on one node.
     */
    @ParameterizedTest
    @ValueSource(strings = {"moelab:global:tolerance=1", "moelab:tolerance=1"})
    void migrationOutputsAreValidPlacements(String spec) {
        BalancerAlgorithm algorithm = Algorithms.byName(spec);
        qt().withExamples(300).withFixedSeed(17).forAll(BalancingCases.cases()).checkAssert(c -> {
            Topology t = c.topology();
            LoadMatrix weight = c.weight();
            double[][] reversed = new double[weight.layers()][weight.experts()];
            for (int l = 0; l < weight.layers(); l++) {
                for (int e = 0; e < weight.experts(); e++) {
                    reversed[l][e] = weight.load(l, weight.experts() - 1 - e);
                }
            }
            LoadMatrix other = LoadMatrix.of(reversed, "reversed");
            Placement previous = algorithm.rebalance(BalancingRequest.of(other, t));
            Placement p = algorithm.rebalance(new BalancingRequest(weight, List.of(other, weight, other, other), t,
                    previous));
            assertValid(p, c);
            if (spec.equals("moelab:tolerance=1") && t.groupsDivideNodes()) {
                assertGroupsOnNodes(p, c);
                // A placement in service that breaks the groups (planned globally) must not be kept or repaired.
                Placement global = Algorithms.byName("moelab:global").rebalance(BalancingRequest.of(other, t));
                Placement fromGlobal = algorithm.rebalance(new BalancingRequest(weight, List.of(), t, global));
                assertValid(fromGlobal, c);
                assertGroupsOnNodes(fromGlobal, c);
            }
        });
    }

    @Test
    void deepSeekHierarchicalKeepsEachGroupOnOneNode() {
        qt().withExamples(400).withFixedSeed(11).forAll(BalancingCases.cases())
                .assuming(c -> c.topology().groupsDivideNodes())
                .checkAssert(c -> assertGroupsOnNodes(
                        new DeepSeekBalancer().rebalance(BalancingRequest.of(c.weight(), c.topology())), c));
    }

    @Test
    void staticHierarchicalKeepsEachGroupOnOneNode() {
        BalancerAlgorithm algorithm = Algorithms.byName("static:hierarchical");
        qt().withExamples(400).withFixedSeed(13).forAll(BalancingCases.cases())
                .assuming(c -> c.topology().groupsDivideNodes())
                .checkAssert(c -> {
                    Placement p = algorithm.rebalance(BalancingRequest.of(c.weight(), c.topology()));
                    assertValid(p, c);
                    assertGroupsOnNodes(p, c);
                });
    }

    @Test
    void staticLayoutsByHand() {
        // E=8 in G=2 groups on N=2 nodes of 8 slots: contiguous fills slots 0-7 with experts 0-7 and wraps (experts
        // 0-3, group 0, get their second replicas on node 1); hierarchical keeps node 0 to group 0 and node 1 to
        // group 1, each round-robin over its own slots.
        Topology t = new Topology(16, 2, 2, 4);
        LoadMatrix w = LoadMatrix.of(new double[][] {{5, 1, 1, 1, 2, 2, 3, 1}}, "by hand");
        assertThat(Algorithms.byName("static").rebalance(BalancingRequest.of(w, t)).phy2log()[0])
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(Algorithms.byName("static:global").rebalance(BalancingRequest.of(w, t)).phy2log()[0])
                .containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
        assertThat(Algorithms.byName("static:hierarchical").rebalance(BalancingRequest.of(w, t)).phy2log()[0])
                .containsExactly(0, 1, 2, 3, 0, 1, 2, 3, 4, 5, 6, 7, 4, 5, 6, 7);
        assertThat(Algorithms.byName("static:hierarchical").name()).isEqualTo("static:hierarchical");
        // Groups that cannot stay on nodes: refused, as for the other algorithms' hierarchical mode.
        Topology three = new Topology(16, 3, 2, 4);
        LoadMatrix six = LoadMatrix.of(new double[][] {{5, 1, 1, 1, 2, 2}}, "by hand");
        assertThatThrownBy(() -> Algorithms.byName("static:hierarchical")
                .rebalance(BalancingRequest.of(six, three))).hasMessageContaining("G=3 expert groups");
    }

    private static void assertGroupsOnNodes(Placement p, Case c) {
        Topology t = c.topology();
        int groupSize = c.weight().experts() / t.groups();
        int expertsPerNode = c.weight().experts() / t.nodes();
        for (int l = 0; l < p.layers(); l++) {
            int[] nodeOfGroup = new int[t.groups()];
            java.util.Arrays.fill(nodeOfGroup, -1);
            Set<Integer>[] expertsOnNode = newSets(t.nodes());
            for (int s = 0; s < t.replicas(); s++) {
                int e = p.expertAt(l, s);
                int node = t.nodeOfGpu(t.gpuOfSlot(s));
                int g = e / groupSize;
                assertThat(nodeOfGroup[g] == -1 || nodeOfGroup[g] == node).as("group %d on one node", g).isTrue();
                nodeOfGroup[g] = node;
                expertsOnNode[node].add(e);
            }
            for (Set<Integer> onNode : expertsOnNode) {
                assertThat(onNode).as("each node hosts E/N experts").hasSize(expertsPerNode);
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Set<Integer>[] newSets(int n) {
        Set<Integer>[] sets = new Set[n];
        for (int i = 0; i < n; i++) {
            sets[i] = new HashSet<>();
        }
        return sets;
    }
}
