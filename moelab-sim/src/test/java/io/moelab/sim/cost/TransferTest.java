package io.moelab.sim.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;
import static org.quicktheories.generators.SourceDSL.doubles;
import static org.quicktheories.generators.SourceDSL.integers;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.sim.cost.StepModel.StepCost;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * An overlapped weight transfer sharing the links with the all-to-all, against cases worked out by hand. The units of
 * StepModelTest: 1 TFLOP/s, 1 GB/s NVLink with 2 us latency, 0.5 GB/s network with 10 us; H = 100, F = 10, so a
 * routed token's activation is 200 bytes and an expert's weights 6000 bytes. Two GPUs on one node serve experts
 * 0 and 1 with 300 and 100 tokens: alone, the dispatch and the combine each move 30000 bytes per GPU over NVLink
 * (32 us with the latency), the experts' compute takes 1.8 us, a step 65.8 us.
 */
class TransferTest {
    private static final double EPS = 1e-15;
    private static final ModelSpec MODEL = new ModelSpec("tiny", 1, 2, 1, 100, 10, 1, 2, 0, 0, 0);
    private static final ClusterSpec ONE_NODE = cluster(1, 2);

    private static ClusterSpec cluster(int nodes, int gpusPerNode) {
        return new ClusterSpec("test", nodes, gpusPerNode, 1, 1.0, 1, 1, 0.5, 2, 10, 80);
    }

    private static Placement placement(ClusterSpec c, int experts, int[]... phy2log) {
        return Placement.of(new Topology(phy2log[0].length, 1, c.nodes(), c.gpus()), experts, phy2log);
    }

    private static final Placement P = placement(ONE_NODE, 2, new int[] {0, 1});
    private static final LoadMatrix LOAD = LoadMatrix.of(new double[][] {{300, 100}}, "load");

    /** A transfer of {@code nvlink} bytes per GPU over NVLink (the larger of sent and received). */
    private static MigrationCost nvlink(double... perGpu) {
        double max = 0;
        for (double b : perGpu) {
            max = Math.max(max, b);
        }
        return new MigrationCost(1, max, 0, perGpu, new double[perGpu.length]);
    }

    @Test
    void aSmallTransferSlowsTheDispatchItMeets() {
        // One expert copy each way (6000 B per GPU), planned in no time: its bytes start after NVLink's 2 us, when
        // the dispatch has 28000 B left. The two share the link at 0.5 GB/s each: the copy is done after 12 us (at
        // 14 us), having held the dispatch back by 6000 B = 6 us: 30 + 6 + 2 = 38 us. The combine has the link alone.
        Transfer transfer = new Transfer(nvlink(6000, 6000), 0, ONE_NODE);
        StepCost cost = new StepModel(MODEL, ONE_NODE, StepModel.Options.defaults()).step(P, LOAD, transfer);
        assertThat(cost.dispatch()).isCloseTo(38e-6, within(EPS));
        assertThat(cost.compute()).isCloseTo(1.8e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(32e-6, within(EPS));
        assertThat(cost.seconds()).isCloseTo(71.8e-6, within(EPS));
        assertThat(transfer.done()).isTrue();
        // 14 us, against the 8 us it takes with the link to itself.
        assertThat(transfer.seconds()).isCloseTo(14e-6, within(EPS));
        assertThat(nvlink(6000, 6000).seconds(ONE_NODE)).isCloseTo(8e-6, within(EPS));
        assertThat(transfer.elapsed()).isCloseTo(cost.seconds(), within(EPS));
    }

    @Test
    void aLargerTransferRunsThroughTheComputeIntoTheCombine() {
        // 50000 B per GPU. Dispatch: from 2 us both share the link; the dispatch's 28000 B take 56 us at half the
        // link (done at 58 us, 60 us with the latency), the transfer moving 28000 B then and 2000 B more until 60 us:
        // 20000 B left. Compute, 1.8 us: 1800 B more. Combine: 30000 B meet 18200 B; the transfer is done after
        // 36.4 us (at 60 + 1.8 + 36.4 = 98.2 us), the combine after 30 + 18.2 + 2 = 50.2 us.
        Transfer transfer = new Transfer(nvlink(50000, 50000), 0, ONE_NODE);
        StepCost cost = new StepModel(MODEL, ONE_NODE, StepModel.Options.defaults()).step(P, LOAD, transfer);
        assertThat(cost.dispatch()).isCloseTo(60e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(50.2e-6, within(1e-14));
        assertThat(cost.seconds()).isCloseTo(112e-6, within(1e-14));
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isCloseTo(98.2e-6, within(1e-14));
    }

    @Test
    void aTransferLongerThanAStepGoesOnInTheNext() {
        // 200000 B per GPU. Step 1 as above until the combine, which meets 168200 B: it takes 30 + 30 + 2 = 62 us and
        // the transfer moves 62000 - 30000 = 32000 B (136200 left): 60 + 1.8 + 62 = 123.8 us. Step 2: both phases
        // meet the transfer from their start, 62 us each, 32000 + 1800 + 32000 B moved: 70400 left, 125.8 us.
        Transfer transfer = new Transfer(nvlink(200000, 200000), 0, ONE_NODE);
        StepModel model = new StepModel(MODEL, ONE_NODE, StepModel.Options.defaults());
        assertThat(model.step(P, LOAD, transfer).seconds()).isCloseTo(123.8e-6, within(1e-14));
        assertThat(transfer.done()).isFalse();
        assertThat(model.step(P, LOAD, transfer).seconds()).isCloseTo(125.8e-6, within(1e-14));
        // Step 3 the same, 4600 B left. Step 4: the dispatch's 30000 B meet 4600 B: 30 + 4.6 + 2 = 36.6 us, the
        // transfer done 9.2 us into it, at 123.8 + 2 * 125.8 + 9.2 = 384.6 us; the combine alone: 70.4 us.
        assertThat(model.step(P, LOAD, transfer).seconds()).isCloseTo(125.8e-6, within(1e-14));
        assertThat(transfer.done()).isFalse();
        assertThat(model.step(P, LOAD, transfer).seconds()).isCloseTo(70.4e-6, within(1e-14));
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isCloseTo(384.6e-6, within(1e-13));
        // Once done it changes nothing.
        assertThat(model.step(P, LOAD, transfer)).isEqualTo(model.step(P, LOAD));
    }

    @Test
    void planningMidStepStartsTheBytesInTheCombine() {
        // 50 us of planning: bytes start at 52 us, 18.2 us into the combine (which starts at 33.8 us), when it has
        // 11800 B left. They share: the 6000 B are done 12 us later (at 64 us), the combine after
        // 30 + 6 + 2 = 38 us. The dispatch is as without a transfer.
        Transfer transfer = new Transfer(nvlink(6000, 6000), 50e-6, ONE_NODE);
        StepCost cost = new StepModel(MODEL, ONE_NODE, StepModel.Options.defaults()).step(P, LOAD, transfer);
        assertThat(cost.dispatch()).isCloseTo(32e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(38e-6, within(1e-14));
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isCloseTo(14e-6, within(1e-14));
    }

    @Test
    void planningLongerThanTheStepLeavesItAsItWas() {
        StepModel model = new StepModel(MODEL, ONE_NODE, StepModel.Options.defaults());
        Transfer transfer = new Transfer(nvlink(6000, 6000), 1e-3, ONE_NODE);
        assertThat(model.step(P, LOAD, transfer)).isEqualTo(model.step(P, LOAD));
        assertThat(transfer.done()).isFalse();
    }

    @Test
    void theNetworkIsSharedAcrossNodes() {
        // Two nodes of one GPU: every token crosses the network at 0.5 GB/s. Dispatch alone: 150 tokens * 200 B =
        // 30000 B, 60 us + 10 us. A 6000 B copy each way starts at 10 us, when the dispatch has 25000 B left; they
        // share: done at 10 + 24 = 34 us, the dispatch held back 12 us: 82 us.
        ClusterSpec two = cluster(2, 1);
        Transfer transfer = new Transfer(new MigrationCost(2, 12000, 12000, new double[2],
                new double[] {6000, 6000}), 0, two);
        StepCost cost = new StepModel(MODEL, two, StepModel.Options.defaults())
                .step(placement(two, 2, new int[] {0, 1}), LOAD, transfer);
        assertThat(cost.dispatch()).isCloseTo(82e-6, within(1e-14));
        assertThat(cost.combine()).isCloseTo(70e-6, within(1e-14));
        assertThat(transfer.seconds()).isCloseTo(34e-6, within(1e-14));
    }

    @Test
    void aTransferWithoutBytesIsDoneWhenPlanningIs() {
        StepModel model = new StepModel(MODEL, ONE_NODE, StepModel.Options.defaults());
        Transfer transfer = new Transfer(MigrationCost.NONE, 100e-6, ONE_NODE);
        assertThat(model.step(P, LOAD, transfer)).isEqualTo(model.step(P, LOAD));
        assertThat(transfer.done()).isFalse(); // 65.8 of 100 us
        model.step(P, LOAD, transfer);
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isZero();
    }

    @Test
    void refusesATransferForAnotherCluster() {
        assertThatThrownBy(() -> new Transfer(nvlink(1, 2, 3), 0, ONE_NODE))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("3 GPUs");
    }

    /**
     * Random placements, loads, clusters and transfers: sharing never makes a phase shorter, a transfer of zero bytes
     * (or one whose bytes start after the step) changes no digit, and the transfer takes at least what it takes
     * alone. Each GPU link moves at most its capacity over the step, so the transfer never beats the link.
     */
    @Test
    void sharingNeverSpeedsAStepAndZeroBytesChangeNothing() {
        qt().withExamples(300).forAll(integers().between(1, 3), integers().between(1, 4), integers().allPositive(),
                doubles().between(0, 3e-4)).checkAssert((nodes, perNode, seed, delay) -> {
                    Random random = new Random(seed);
                    ClusterSpec c = new ClusterSpec("r", nodes, perNode, 1, 1.0, 1, 0.5 + random.nextDouble(),
                            0.1 + random.nextDouble(), random.nextInt(5), random.nextInt(20), 80);
                    int gpus = c.gpus();
                    int experts = gpus * (1 + random.nextInt(2));
                    int layers = 1 + random.nextInt(3);
                    ModelSpec m = new ModelSpec("r", layers, experts, 1, 100, 10, 1, 2, 0, 0, 1000);
                    int[][] slots = new int[layers][experts];
                    double[][] loads = new double[layers][experts];
                    for (int l = 0; l < layers; l++) {
                        for (int s = 0; s < experts; s++) {
                            slots[l][s] = s;
                            loads[l][s] = random.nextInt(4) == 0 ? 0 : random.nextInt(500);
                        }
                        for (int s = experts - 1; s > 0; s--) {
                            int j = random.nextInt(s + 1);
                            int t = slots[l][s];
                            slots[l][s] = slots[l][j];
                            slots[l][j] = t;
                        }
                    }
                    Placement p = Placement.of(new Topology(experts, 1, nodes, gpus), experts, slots);
                    LoadMatrix load = LoadMatrix.of(loads, "load");
                    double[] nv = new double[gpus];
                    double[] net = new double[gpus];
                    for (int g = 0; g < gpus; g++) {
                        nv[g] = random.nextBoolean() ? random.nextInt(100_000) : 0;
                        net[g] = nodes > 1 && random.nextBoolean() ? random.nextInt(100_000) : 0;
                    }
                    StepModel model = new StepModel(m, c, StepModel.Options.defaults());
                    StepCost alone = model.step(p, load);
                    Transfer transfer = new Transfer(new MigrationCost(1, 1, 0, nv, net), delay, c);
                    StepCost shared = model.step(p, load, transfer);
                    assertThat(shared.dispatch()).isGreaterThanOrEqualTo(alone.dispatch());
                    assertThat(shared.combine()).isGreaterThanOrEqualTo(alone.combine());
                    assertThat(shared.seconds()).isGreaterThanOrEqualTo(alone.seconds());
                    assertThat(shared.compute()).isEqualTo(alone.compute());
                    assertThat(transfer.elapsed()).isCloseTo(shared.seconds(), within(1e-12));
                    if (transfer.done()) {
                        double lone = 0;
                        for (int g = 0; g < gpus; g++) {
                            lone = Math.max(lone, Math.max(nv[g] > 0 ? nv[g] / c.nvlinkBytesPerSecond()
                                    + c.nvlinkLatencyUs() * 1e-6 : 0, net[g] > 0 ? net[g]
                                    / c.networkBytesPerSecond() + c.networkLatencyUs() * 1e-6 : 0));
                        }
                        assertThat(transfer.seconds()).isGreaterThanOrEqualTo(lone * (1 - 1e-12));
                        // The time MigrationCost works out for the links to itself is the one worked out here.
                        assertThat(new MigrationCost(1, 1, 0, nv, net).seconds(c)).isEqualTo(lone);
                        assertThat(delay + transfer.seconds()).isLessThanOrEqualTo(shared.seconds() * (1 + 1e-12));
                    }
                    Transfer none = new Transfer(new MigrationCost(0, 0, 0, new double[gpus],
                            new double[gpus]), delay, c);
                    assertThat(model.step(p, load, none)).isEqualTo(alone);
                    Transfer late = new Transfer(new MigrationCost(1, 1, 0, nv, net), 2 * alone.seconds(), c);
                    assertThat(model.step(p, load, late)).isEqualTo(alone);
                });
    }

    /** Links without latency, so that a phase's capacity is exactly its rate times its length. */
    private static final ClusterSpec NO_LATENCY = new ClusterSpec("test", 1, 2, 1, 1.0, 1, 1, 0.5, 0, 0, 80);

    /**
     * A transfer whose bytes exactly fill a compute phase is done at its end: 2^-20 s at 1 GB/s moves exactly
     * 953.67431640625 bytes (both exact in binary).
     */
    @Test
    void bytesThatExactlyFillAPhaseAreDoneInIt() {
        double seconds = 0x1p-20;
        double bytes = 1e9 * seconds;
        assertThat(bytes).isEqualTo(953.67431640625);
        Transfer transfer = new Transfer(new MigrationCost(1, bytes, 0, new double[] {bytes, 0}, new double[2]), 0,
                NO_LATENCY);
        transfer.compute(seconds);
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isEqualTo(seconds);
    }

    /** A transfer without bytes is done once exactly its planning time has been served. */
    @Test
    void noBytesAreDoneExactlyWhenPlanningIs() {
        double delay = 0x1p-20;
        Transfer transfer = new Transfer(MigrationCost.NONE, delay, NO_LATENCY);
        transfer.compute(delay / 2);
        assertThat(transfer.done()).isFalse();
        transfer.compute(delay / 2);
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isZero();
    }

    /** Network bytes move in a compute phase as NVLink bytes do: 1000 B at 0.5 GB/s take 2 us of a 1 ms phase. */
    @Test
    void networkBytesMoveInAComputePhase() {
        Transfer transfer = new Transfer(new MigrationCost(1, 1000, 1000, new double[2], new double[] {1000, 1000}), 0,
                NO_LATENCY);
        transfer.compute(1e-3);
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isCloseTo(2e-6, within(EPS));
    }
}
