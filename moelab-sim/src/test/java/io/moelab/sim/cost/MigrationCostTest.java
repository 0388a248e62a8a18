package io.moelab.sim.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Weight-transfer cost of a placement change: hand-worked cases and agreement with the EPLB evaluator. */
class MigrationCostTest {
    private static final double EPS = 1e-15;
    /** One expert: 3 * 100 * 10 * 2 = 6000 bytes. */
    private static final ModelSpec MODEL = new ModelSpec("tiny", 1, 3, 1, 100, 10, 1, 2, 0, 0, 0);

    /** NVLink 1 GB/s with 2 us latency; network 0.5 GB/s with 10 us latency. */
    private static ClusterSpec cluster(int nodes, int gpusPerNode) {
        return new ClusterSpec("test", nodes, gpusPerNode, 1, 1.0, 1, 1, 0.5, 2, 10, 80);
    }

    private static Placement placement(ClusterSpec c, int experts, int[]... phy2log) {
        return Placement.of(new Topology(phy2log[0].length, 1, c.nodes(), c.gpus()), experts, phy2log);
    }

    @Test
    void noChangeCostsNothing() {
        ClusterSpec c = cluster(1, 2);
        Placement p = placement(c, 3, new int[] {0, 1, 2, 0});
        assertThat(MigrationCost.between(p, p, MODEL, c)).isEqualTo(MigrationCost.NONE);
        // Swapping slots on the same GPU moves nothing either.
        assertThat(MigrationCost.between(p, placement(c, 3, new int[] {1, 0, 0, 2}), MODEL, c))
                .isEqualTo(MigrationCost.NONE);
    }

    @Test
    void oneCopyInsideANodeUsesNvlink() {
        ClusterSpec c = cluster(1, 2);
        // GPU 1 trades its second copy of expert 0 for expert 1, which GPU 0 holds: 6000 B at 1 GB/s + 2 us.
        MigrationCost m = MigrationCost.between(placement(c, 3, new int[] {0, 1, 2, 0}),
                placement(c, 3, new int[] {0, 1, 2, 1}), MODEL, c);
        assertThat(m.copies()).isEqualTo(1);
        assertThat(m.bytes()).isEqualTo(6000);
        assertThat(m.interBytes()).isZero();
        assertThat(m.seconds(c)).isCloseTo(6e-6 + 2e-6, within(EPS));
    }

    @Test
    void oneCopyAcrossNodesUsesTheNetwork() {
        ClusterSpec c = cluster(2, 1);
        MigrationCost m = MigrationCost.between(placement(c, 3, new int[] {0, 1, 2, 0}),
                placement(c, 3, new int[] {0, 1, 2, 1}), MODEL, c);
        assertThat(m.interBytes()).isEqualTo(6000);
        assertThat(m.seconds(c)).isCloseTo(12e-6 + 10e-6, within(EPS)); // 6000 B at 0.5 GB/s + 10 us
    }

    @Test
    void theMostGpusAndExpertsNeedNoGpuByExpertTable() {
        // 8,192 nodes of 8 GPUs (65,536, the most a cluster may have), one of 65,536 experts each. A table of which
        // GPU holds which expert has 2^32 cells: the int count overflowed, and 2^30 of them (16,384 experts) ran
        // the CLI out of memory at the first rebalance.
        int gpus = 65_536;
        ClusterSpec c = cluster(gpus / 8, 8);
        ModelSpec model = new ModelSpec("tiny", 1, gpus, 1, 100, 10, 1, 2, 0, 0, 0);
        int[] before = new int[gpus];
        for (int g = 0; g < gpus; g++) {
            before[g] = g;
        }
        int[] after = before.clone();
        // GPUs 1 and 2 (one node) swap their experts over NVLink; GPUs 0 and 8 (two nodes) over the network.
        after[1] = 2;
        after[2] = 1;
        after[0] = 8;
        after[8] = 0;
        MigrationCost m = MigrationCost.between(placement(c, gpus, before), placement(c, gpus, after), model, c);
        assertThat(m.copies()).isEqualTo(4);
        assertThat(m.bytes()).isEqualTo(4 * 6000);
        assertThat(m.interBytes()).isEqualTo(2 * 6000);
        assertThat(m.nvlinkBytes()[1]).isEqualTo(6000);
        assertThat(m.networkBytes()[8]).isEqualTo(6000);
        // Each GPU sends and receives one expert: 6000 B at 0.5 GB/s + 10 us on the network, the slower link.
        assertThat(m.seconds(c)).isCloseTo(12e-6 + 10e-6, within(EPS));
    }

    @Test
    void noCopiesTakeNoTimeAndAnotherClusterIsRefused() {
        assertThat(MigrationCost.NONE.seconds(cluster(2, 2))).isZero();
        ClusterSpec c = cluster(1, 2);
        MigrationCost m = MigrationCost.between(placement(c, 3, new int[] {0, 1, 2, 0}),
                placement(c, 3, new int[] {0, 1, 2, 1}), MODEL, c);
        assertThatThrownBy(() -> m.seconds(cluster(2, 2))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("transfer is for 2 GPUs, cluster has 4");
    }

    /**
     * Per-GPU arrays of two lengths say no one time: with its NVLink bytes left out, a cost of 6000 network bytes a
     * GPU was worked out as taking 0 s (which a {@link Transfer} of it refused), and with its network bytes left
     * out, seconds failed with an index out of bounds. Such a cost is refused as it is made.
     */
    @Test
    void perGpuBytesOfTwoLengthsAreRefused() {
        assertThatThrownBy(() -> new MigrationCost(2, 12000, 12000, new double[0], new double[] {6000, 6000}))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("NVLink bytes for 0 GPUs, network bytes for 2");
        assertThatThrownBy(() -> new MigrationCost(1, 6000, 0, new double[] {6000, 0}, new double[0]))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("NVLink bytes for 2 GPUs, network bytes for 0");
        // Network bytes alone, for every GPU: 6000 B at 0.5 GB/s + 10 us.
        MigrationCost network = new MigrationCost(2, 12000, 12000, new double[2], new double[] {6000, 6000});
        assertThat(network.seconds(cluster(2, 1))).isCloseTo(12e-6 + 10e-6, within(EPS));
    }

    @Test
    void copiesComeFromTheReceiversNodeWhenItHasTheExpert() {
        // Two nodes of two GPUs, one slot each (E = 3, R = 4). Expert 0 is on GPU 1 (node 0) and GPU 2 (node 1);
        // GPU 3 (node 1) swaps expert 2 for expert 0 and GPU 0 takes expert 2: the copy of expert 0 comes over
        // NVLink from GPU 2, but expert 2 must cross the network from GPU 3.
        ClusterSpec c = cluster(2, 2);
        MigrationCost m = MigrationCost.between(placement(c, 3, new int[] {1, 0, 0, 2}),
                placement(c, 3, new int[] {2, 1, 0, 0}), MODEL, c);
        assertThat(m.copies()).isEqualTo(3); // GPUs 0, 1 and 3 gain experts 2, 1 and 0
        // Expert 1 goes from GPU 0 to GPU 1 (NVLink), expert 2 from GPU 3 to GPU 0 (network), expert 0 from GPU 2
        // to GPU 3 (NVLink).
        assertThat(m.interBytes()).isEqualTo(6000);
        assertThat(m.bytes()).isEqualTo(18000);
        assertThat(m.seconds(c)).isCloseTo(22e-6, within(EPS)); // the network copy is the slowest
    }

    @Test
    void copiesOfOneExpertFanOutOverItsHolders() {
        // One node of four GPUs, two slots each (E = 4, R = 8). Expert 0 is on GPUs 0 and 1; GPUs 2 and 3 each
        // take a copy. Each holder sends one, so the transfer takes one copy's time, not two.
        ClusterSpec c = cluster(1, 4);
        ModelSpec model = new ModelSpec("tiny", 1, 4, 1, 100, 10, 1, 2, 0, 0, 0);
        MigrationCost m = MigrationCost.between(
                placement(c, 4, new int[] {0, 1, 0, 2, 3, 1, 2, 3}),
                placement(c, 4, new int[] {0, 1, 0, 2, 3, 0, 2, 0}), model, c);
        // GPU 2 trades expert 1 for 0, GPU 3 trades expert 3 for 0; experts 1 and 3 keep a replica elsewhere.
        assertThat(m.copies()).isEqualTo(2);
        assertThat(m.seconds(c)).isCloseTo(6e-6 + 2e-6, within(EPS));
    }

    @Test
    void countsTheSameCopiesAsTheEvaluatorOnRandomPlacements() {
        Random random = new Random(11);
        ClusterSpec c = cluster(2, 4);
        ModelSpec model = new ModelSpec("tiny", 3, 20, 2, 100, 10, 1, 2, 0, 0, 0);
        for (int trial = 0; trial < 200; trial++) {
            Placement from = randomPlacement(random, c, 24, 20, 3);
            Placement to = randomPlacement(random, c, 24, 20, 3);
            MigrationCost m = MigrationCost.between(from, to, model, c);
            assertThat(m.copies()).isEqualTo(PlacementEvaluator.migration(from, to).expertsMoved());
            assertThat(m.bytes()).isEqualTo(m.copies() * model.expertBytes());
            assertThat(m.interBytes()).isBetween(0.0, m.bytes());
            // At least the busiest receiver's copies must cross its fastest link.
            assertThat(m.seconds(c)).isGreaterThanOrEqualTo(m.copies() == 0 ? 0
                    : model.expertBytes() / c.nvlinkBytesPerSecond());
        }
    }

    /** Every expert once, the remaining slots random, shuffled. */
    private static Placement randomPlacement(Random random, ClusterSpec c, int replicas, int experts, int layers) {
        int[][] phy2log = new int[layers][replicas];
        for (int[] row : phy2log) {
            for (int p = 0; p < replicas; p++) {
                row[p] = p < experts ? p : random.nextInt(experts);
            }
            for (int p = replicas - 1; p > 0; p--) {
                int q = random.nextInt(p + 1);
                int t = row[p];
                row[p] = row[q];
                row[q] = t;
            }
        }
        return Placement.of(new Topology(replicas, 1, c.nodes(), c.gpus()), experts, phy2log);
    }

    /**
     * Among holders that have sent equally, the first sends: one node of three GPUs (two slots each), GPU 2 trades an
     * expert 1 for expert 0, which GPUs 0 and 1 hold, so GPU 0 sends it over NVLink. On three nodes of one GPU the
     * same copy crosses the network from GPU 0.
     */
    @Test
    void theFirstOfEquallyBusyHoldersSends() {
        ModelSpec model = new ModelSpec("tiny", 1, 2, 1, 100, 10, 1, 2, 0, 0, 0);
        int[] from = {0, 1, 0, 1, 1, 1};
        int[] to = {0, 1, 0, 1, 0, 1};
        ClusterSpec oneNode = cluster(1, 3);
        MigrationCost intra = MigrationCost.between(placement(oneNode, 2, from), placement(oneNode, 2, to), model,
                oneNode);
        assertThat(intra.nvlinkBytes()).containsExactly(6000, 0, 6000);
        assertThat(intra.networkBytes()).containsExactly(0, 0, 0);
        ClusterSpec threeNodes = cluster(3, 1);
        MigrationCost inter = MigrationCost.between(placement(threeNodes, 2, from), placement(threeNodes, 2, to), model,
                threeNodes);
        assertThat(inter.networkBytes()).containsExactly(6000, 0, 6000);
        assertThat(inter.nvlinkBytes()).containsExactly(0, 0, 0);
        assertThat(inter.interBytes()).isEqualTo(6000);
    }

    /**
     * A holder on the receiver's node sends even when it has sent more across the network than a holder elsewhere.
     * Two nodes of two GPUs, two slots each; layer 0: GPU 2 gains expert 0, which only GPU 0 holds (a network copy);
     * layer 1: GPU 1 gains expert 0, which GPU 0 (its node) and GPU 3 (the other node, nothing sent) hold: GPU 0 sends
     * it over NVLink.
     */
    @Test
    void aHolderOnTheReceiversNodeSendsWhateverItSentAcrossNodes() {
        ClusterSpec c = cluster(2, 2);
        Placement from = Placement.of(new Topology(8, 1, 2, 4), 3,
                new int[][] {{0, 1, 1, 2, 2, 1, 1, 2}, {0, 1, 1, 2, 2, 1, 0, 2}});
        Placement to = Placement.of(new Topology(8, 1, 2, 4), 3,
                new int[][] {{0, 1, 1, 2, 2, 0, 1, 2}, {0, 1, 0, 2, 2, 1, 0, 2}});
        MigrationCost m = MigrationCost.between(from, to, MODEL, c);
        assertThat(m.copies()).isEqualTo(2);
        assertThat(m.interBytes()).isEqualTo(6000);
        assertThat(m.networkBytes()).containsExactly(6000, 0, 6000, 0);
        assertThat(m.nvlinkBytes()).containsExactly(6000, 6000, 0, 0);
    }

    @Test
    void equalCostsAreEqualAndDifferentOnesAreNot() {
        MigrationCost a = new MigrationCost(1, 6000, 0, new double[] {6000, 6000}, new double[2]);
        MigrationCost same = new MigrationCost(1, 6000, 0, new double[] {6000, 6000}, new double[2]);
        assertThat(a).isEqualTo(same).hasSameHashCodeAs(same);
        assertThat(a).isNotEqualTo(new MigrationCost(2, 6000, 0, new double[] {6000, 6000}, new double[2]))
                .isNotEqualTo(new MigrationCost(1, 12000, 0, new double[] {6000, 6000}, new double[2]))
                .isNotEqualTo(new MigrationCost(1, 6000, 6000, new double[] {6000, 6000}, new double[2]))
                .isNotEqualTo(new MigrationCost(1, 6000, 0, new double[] {6000, 0}, new double[2]))
                .isNotEqualTo(new MigrationCost(1, 6000, 0, new double[] {6000, 6000}, new double[] {0, 1}))
                .isNotEqualTo("1 expert copies");
        assertThat(a.toString()).isEqualTo("1 expert copies, 6000.0 bytes (0.0 across nodes)");
    }
}
