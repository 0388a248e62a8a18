package io.moelab.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Validation and accessors of Topology, LoadMatrix and Placement. */
class CoreTypesTest {

    @Test
    void balancersPlanOnLoadsUpToTwoToThe53AndFilesHoldAnyFiniteLoad() {
        LoadMatrix top = LoadMatrix.of(new double[][] {{0x1p53, 1}}, "w");
        top.requirePlannable("weight");
        LoadMatrix above = LoadMatrix.of(new double[][] {{1, Math.nextUp(0x1p53)}}, "w"); // a file may hold it
        assertThatThrownBy(() -> above.requirePlannable("weight")).isInstanceOf(InvalidInputException.class)
                .hasMessage("weight[0][1]: load 9.007199254740994E15 is above 2^53 tokens, which planning cannot sum "
                        + "or square reliably");
        Topology two = new Topology(2, 1, 1, 1);
        assertThatThrownBy(() -> io.moelab.eplb.algorithm.BalancingRequest.of(above, two))
                .hasMessageStartingWith("weight[0][1]: ");
        assertThatThrownBy(() -> new io.moelab.eplb.algorithm.BalancingRequest(top, List.of(top, above), two,
                null)).hasMessageStartingWith("history[1][0][1]: ");
        // Topologies: at most 65,536 slots a layer.
        assertThat(new Topology(Topology.MAX_REPLICAS, 1, 1, 1).replicas()).isEqualTo(65536);
        assertThatThrownBy(() -> new Topology(Topology.MAX_REPLICAS + 1, 1, 1, 1))
                .hasMessage("num_replicas: R=65537 slots per layer is more than this tool plans (at most 65536)");
    }

    @Test
    void topologyLayout() {
        Topology t = new Topology(288, 8, 4, 32);
        assertThat(t.slotsPerGpu()).isEqualTo(9);
        assertThat(t.gpusPerNode()).isEqualTo(8);
        assertThat(t.slotsPerNode()).isEqualTo(72);
        assertThat(t.gpuOfSlot(17)).isEqualTo(1);
        assertThat(t.nodeOfGpu(17)).isEqualTo(2);
        assertThat(t.gpuOfSlot(287)).isEqualTo(31);
        assertThat(t.nodeOfGpu(31)).isEqualTo(3);
        // Slot R and GPU M are past the end (gpuOfSlot(288) was GPU 32, gpuOfSlot(-1) GPU 0).
        for (int outside : new int[] {-1, 288}) {
            assertThatThrownBy(() -> t.gpuOfSlot(outside)).isInstanceOf(IndexOutOfBoundsException.class);
        }
        for (int outside : new int[] {-1, 32}) {
            assertThatThrownBy(() -> t.nodeOfGpu(outside)).isInstanceOf(IndexOutOfBoundsException.class);
        }
        assertThat(t.groupsDivideNodes()).isTrue();
        assertThat(new Topology(288, 8, 18, 144).groupsDivideNodes()).isFalse();
        // Only the groups may differ between a placement and the hardware it serves.
        assertThat(t.sameHardware(new Topology(288, 1, 4, 32))).isTrue();
        assertThat(t.sameHardware(new Topology(288, 8, 2, 32))).isFalse();
        assertThat(t.sameHardware(new Topology(288, 8, 4, 16))).isFalse();
        assertThat(t.sameHardware(new Topology(320, 8, 4, 32))).isFalse();
    }

    @Test
    void topologyErrorsNameTheField() {
        assertThatThrownBy(() -> new Topology(0, 1, 1, 1)).hasMessageStartingWith("num_replicas: must be at least 1");
        assertThatThrownBy(() -> new Topology(8, 0, 1, 1)).hasMessageStartingWith("num_groups:");
        assertThatThrownBy(() -> new Topology(8, 1, -1, 1)).hasMessageStartingWith("num_nodes:");
        assertThatThrownBy(() -> new Topology(8, 1, 1, 0)).hasMessageStartingWith("num_gpus:");
        assertThatThrownBy(() -> new Topology(9, 1, 1, 2))
                .hasMessageStartingWith("num_replicas: R=9 is not a multiple");
        assertThatThrownBy(() -> new Topology(8, 1, 3, 2)).hasMessageStartingWith("num_gpus: M=2 is not a multiple");
        assertThatThrownBy(() -> new Topology(8, 1, 1, 2).requireFits(9)).hasMessageStartingWith("num_replicas: R=8");
        assertThatThrownBy(() -> new Topology(8, 3, 1, 2).requireEqualGroups(8)).hasMessageStartingWith("num_groups:");
    }

    @Test
    void loadMatrixValidatesAndNormalizesNegativeZero() {
        LoadMatrix m = LoadMatrix.of(new double[][] {{1, -0.0}, {2, 3}}, "w");
        assertThat(Double.doubleToRawLongBits(m.load(0, 1))).isZero();
        assertThat(m.layerTotal(1)).isEqualTo(5);
        assertThat(m.toArray()).isDeepEqualTo(new double[][] {{1, 0}, {2, 3}});
        assertThatThrownBy(() -> LoadMatrix.of(new double[0][], "w")).hasMessageStartingWith("w: is empty");
        assertThatThrownBy(() -> LoadMatrix.of(new double[][] {{}}, "w")).hasMessageStartingWith("w[0]: is empty");
        assertThatThrownBy(() -> LoadMatrix.of(new double[][] {{1, 2}, {3}}, "w"))
                .hasMessageStartingWith("w[1]: has 1");
        assertThatThrownBy(() -> LoadMatrix.of(new double[][] {{1, Double.NaN}}, "w"))
                .hasMessage("w[0][1]: load is NaN");
        assertThatThrownBy(() -> LoadMatrix.of(new double[][] {{Double.NEGATIVE_INFINITY}}, "w"))
                .hasMessage("w[0][0]: load is infinite");
        assertThatThrownBy(() -> LoadMatrix.of(new double[][] {{-1e-9}}, "w"))
                .hasMessage("w[0][0]: load is negative (-1.0E-9)");
        assertThatThrownBy(() -> LoadMatrix.of(new double[][] {{2, -0.25}}, "w"))
                .hasMessage("w[0][1]: load is negative (-0.25)");
    }

    @Test
    void loadMatrixSum() {
        LoadMatrix a = LoadMatrix.of(new double[][] {{1, 2}}, "a");
        LoadMatrix b = LoadMatrix.of(new double[][] {{10, 20}}, "b");
        assertThat(LoadMatrix.sum(List.of(a, b))).isEqualTo(LoadMatrix.of(new double[][] {{11, 22}}, "s"));
        assertThatThrownBy(() -> LoadMatrix.sum(List.of(a, LoadMatrix.of(new double[][] {{1}}, "c"))))
                .isInstanceOf(InvalidInputException.class);
    }

    @Test
    void placementDerivesCountsRanksAndLog2phy() {
        Placement p = Placement.of(new Topology(6, 1, 1, 2), 4, new int[][] {{2, 0, 1, 2, 3, 2}});
        assertThat(p.logcnt()).isDeepEqualTo(new int[][] {{1, 1, 3, 1}});
        assertThat(p.maxReplicaCount()).isEqualTo(3);
        assertThat(p.log2phy()[0]).isDeepEqualTo(new int[][] {{1, -1, -1}, {2, -1, -1}, {0, 3, 5}, {4, -1, -1}});
        assertThat(p.rankAt(0, 5)).isEqualTo(2);
    }

    @Test
    void placementWithRanksOrdersLog2phyByRank() {
        Placement p = Placement.withRanks(new Topology(4, 1, 1, 2), 3, new int[][] {{0, 1, 0, 2}},
                new int[][] {{1, 0, 0, 0}});
        assertThat(p.log2phy()[0][0]).containsExactly(2, 0);
    }

    @Test
    void invalidPlacementsAreRejectedNamingTheSlot() {
        Topology t = new Topology(4, 1, 1, 2);
        assertThatThrownBy(() -> Placement.of(t, 3, new int[][] {{0, 1, 2, 3}}))
                .hasMessageStartingWith("phy2log[0][3]: expert 3 is out of range");
        assertThatThrownBy(() -> Placement.of(t, 3, new int[][] {{0, 1, 1, 1}}))
                .hasMessageStartingWith("phy2log[0]: expert 2 has no replica");
        assertThatThrownBy(() -> Placement.of(t, 3, new int[][] {{0, 1, 2}}))
                .hasMessageStartingWith("phy2log[0]: has 3 slots, expected num_replicas=4");
        assertThatThrownBy(() -> Placement.of(t, 5, new int[][] {{0, 1, 2, 3}}))
                .hasMessageStartingWith("num_replicas: R=4 is less than");
        assertThatThrownBy(() -> Placement.withRanks(t, 3, new int[][] {{0, 1, 0, 2}}, new int[][] {{0, 0, 0, 0}}))
                .hasMessageStartingWith("phyrank[0][2]: rank 0 of expert 0");
        assertThatThrownBy(() -> Placement.withRanks(t, 3, new int[][] {{0, 1, 0, 2}}, new int[][] {{0, 0, 2, 0}}))
                .hasMessageStartingWith("phyrank[0][2]: rank 2 of expert 0");
    }

    @Test
    void ownedPlacementsCountLazilyAsCopiedOnesDo() {
        Topology t = new Topology(6, 1, 1, 2);
        int[][] slots = {{2, 0, 1, 2, 3, 2}, {3, 3, 0, 1, 2, 0}};
        Placement copied = Placement.of(t, 4, slots);
        Placement owned = Placement.ofOwned(t, 4, new int[][] {slots[0].clone(), slots[1].clone()});
        assertThat(owned.logcnt()).isDeepEqualTo(new int[][] {{1, 1, 3, 1}, {2, 1, 1, 2}});
        assertThat(owned.replicaCount(1, 3)).isEqualTo(2);
        assertThat(owned.maxReplicaCount()).isEqualTo(3);
        assertThat(owned.log2phy()).isDeepEqualTo(copied.log2phy());
        assertThat(owned).isEqualTo(copied);
    }

    @Test
    void invalidOwnedPlacementsAreRejectedNamingTheSlot() {
        Topology t = new Topology(4, 1, 1, 2);
        assertThatThrownBy(() -> Placement.ofOwned(t, 3, new int[][] {{0, 1, 2, 0}, {0, 1, 2, 3}}))
                .hasMessageStartingWith("phy2log[1][3]: expert 3 is out of range");
        assertThatThrownBy(() -> Placement.ofOwned(t, 3, new int[][] {{0, 1, 2, -1}}))
                .hasMessageStartingWith("phy2log[0][3]: expert -1 is out of range");
        // Each layer is checked on its own: layer 1 places every expert of layer 0 but 2.
        assertThatThrownBy(() -> Placement.ofOwned(t, 3, new int[][] {{0, 1, 2, 0}, {0, 1, 1, 0}}))
                .hasMessageStartingWith("phy2log[1]: expert 2 has no replica");
        assertThatThrownBy(() -> Placement.ofOwned(t, 3, new int[][] {{0, 1, 2}}))
                .hasMessageStartingWith("phy2log[0]: has 3 slots, expected num_replicas=4");
        assertThatThrownBy(() -> Placement.ofOwned(t, 3, new int[0][]))
                .hasMessageStartingWith("phy2log: is empty");
    }
}
