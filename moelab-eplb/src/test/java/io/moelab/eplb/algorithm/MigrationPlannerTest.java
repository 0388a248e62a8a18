package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import org.junit.jupiter.api.Test;

/**
 * The migration step's budget, worked by hand on one layer of four experts on two GPUs of two slots; and the
 * relabeling on a cluster too large for a GPU-by-GPU table.
 */
class MigrationPlannerTest {
    private static final Topology TWO_GPUS = new Topology(4, 1, 1, 2);
    /** In service: GPU 0 holds experts 0 and 1, GPU 1 holds 2 and 3. */
    private static final Placement PREVIOUS = Placement.of(TWO_GPUS, 4, new int[][] {{0, 1, 2, 3}});

    private static int[] reconcile(double[] planned, double[] observed) {
        // The fresh plan pairs 0 with 2 and 1 with 3.
        int[][] phy2log = {{0, 2, 1, 3}};
        double[][] load = {planned};
        new MigrationPlanner(TWO_GPUS, 4, false, () -> new LayerPlanner(TWO_GPUS, 4, false, 64), false)
                .reconcile(PREVIOUS, phy2log, load, observed == planned ? load : new double[][] {observed}, 0.002);
        return phy2log[0];
    }

    @Test
    void aLayerThatCostsNothingOnTheForecastIsKept() {
        // Equal planned loads: every layout balances perfectly, so keeping the layer in service (no move) is free.
        double[] equal = {1, 1, 1, 1};
        assertThat(reconcile(equal, equal)).containsExactly(0, 1, 2, 3);
    }

    @Test
    void theLatestWindowVetoesKeepingALayerThatOnlyFitsTheForecast() {
        // Observed loads 10, 10, 1, 1: the layer in service puts 20 on GPU 0 (balancedness 11 / 20), the fresh
        // plan 11 on each (1.0). Free on the forecast, 0.45 on the observed window: the fresh plan goes in,
        // relabeled so that expert 0 stays on GPU 0 and expert 3 on GPU 1 in their slots.
        assertThat(reconcile(new double[] {1, 1, 1, 1}, new double[] {10, 10, 1, 1})).containsExactly(0, 2, 1, 3);
    }

    @Test
    void aWindowWithoutLoadVetoesNothing() {
        // Every layout balances an empty window equally (no load, no balance to lose).
        assertThat(reconcile(new double[] {1, 1, 1, 1}, new double[] {0, 0, 0, 0})).containsExactly(0, 1, 2, 3);
    }

    @Test
    void withoutAnyLoadTheLayerInServiceStays() {
        // Nothing to balance: the fresh plan (arbitrary on zeros) would move two experts for nothing.
        double[] zero = {0, 0, 0, 0};
        assertThat(reconcile(zero, zero)).containsExactly(0, 1, 2, 3);
    }

    @Test
    void theObservedLossIsHeldToTheTolerance() {
        // Keeping the layer costs 1 - (Σ / 2) / (l0 + l1) of observed balancedness (the fresh plan balances it
        // exactly): 0.0015 for loads 1.003, 1.003, 1, 1 (within 0.002: kept) and 0.0025 for 1.005, 1.005, 1, 1 (not).
        double[] equal = {1, 1, 1, 1};
        assertThat(reconcile(equal, new double[] {1.003, 1.003, 1, 1})).containsExactly(0, 1, 2, 3);
        assertThat(reconcile(equal, new double[] {1.005, 1.005, 1, 1})).containsExactly(0, 2, 1, 3);
    }

    @Test
    void aLayerInServiceWithAnExpertTwiceOnAGpuIsNotKept() {
        // In service (another balancer's output): GPU 0 holds expert 0 twice, GPU 1 expert 1 twice. On equal loads
        // it balances as well as the fresh plan (one of each per GPU), but a GPU computing one expert twice wastes
        // a slot the packer never wastes: the fresh plan goes in (relabeled: 0 stays on GPU 0, 1 on GPU 1).
        Topology t = new Topology(4, 1, 1, 2);
        int[][] phy2log = {{0, 1, 0, 1}};
        double[][] load = {{1, 1}};
        new MigrationPlanner(t, 2, false, () -> new LayerPlanner(t, 2, false, 64), false)
                .reconcile(Placement.of(t, 2, new int[][] {{0, 0, 1, 1}}), phy2log, load, load, 0.002);
        assertThat(phy2log[0]).containsExactly(0, 1, 1, 0);
    }

    @Test
    void relabelingScalesPastAGpuByGpuTable() {
        // 50,000 GPUs of one slot: a table of bin x GPU overlaps would hold 2.5e9 entries (more than an int counts,
        // 10 GB of ints). The fresh plan is the layer in service shifted by one GPU, the same bins under other
        // labels: relabeled, every expert stays where it is.
        int gpus = 50_000;
        Topology topology = new Topology(gpus, 1, 1, gpus);
        int[] inService = new int[gpus];
        int[] shifted = new int[gpus];
        double[] load = new double[gpus];
        for (int g = 0; g < gpus; g++) {
            inService[g] = g;
            shifted[g] = (g + 1) % gpus;
            load[g] = 1 + g % 7;
        }
        int[][] phy2log = {shifted};
        double[][] loads = {load};
        new MigrationPlanner(topology, gpus, false, () -> new LayerPlanner(topology, gpus, false, 64), false)
                .reconcile(Placement.of(topology, gpus, new int[][] {inService}), phy2log, loads, loads, 0.002);
        assertThat(phy2log[0]).isEqualTo(inService);
    }
}
