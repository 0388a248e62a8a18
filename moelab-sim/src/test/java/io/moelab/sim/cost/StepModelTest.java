package io.moelab.sim.cost;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.sim.cost.StepModel.Routing;
import io.moelab.sim.cost.StepModel.StepCost;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The step model against cases worked out by hand. Units are chosen to keep the arithmetic readable: 1 TFLOP/s,
 * 1 TB/s HBM, 1 GB/s links; a model with H = 100 and F = 10, so one token through one expert is
 * 6 * 100 * 10 = 6000 FLOPs, one expert's weights are 3 * 100 * 10 * 2 = 6000 bytes, and one routed token's
 * activation is 100 * 2 = 200 bytes each way.
 */
class StepModelTest {
    private static final double EPS = 1e-15;

    private static ModelSpec model(int layers, int experts) {
        return new ModelSpec("tiny", layers, experts, 1, 100, 10, 1, 2, 0, 0, 0);
    }

    private static ClusterSpec cluster(int nodes, int gpusPerNode, double nvlinkLatencyUs, double netLatencyUs) {
        return new ClusterSpec("test", nodes, gpusPerNode, 1, 1.0, 1, 1, 0.5, nvlinkLatencyUs, netLatencyUs, 80);
    }

    private static Placement placement(ClusterSpec c, int experts, int[]... phy2log) {
        return Placement.of(new Topology(phy2log[0].length, 1, c.nodes(), c.gpus()), experts, phy2log);
    }

    private static LoadMatrix load(double... perExpert) {
        return LoadMatrix.of(new double[][] {perExpert}, "load");
    }

    @Test
    void twoGpusOneLayerWorkedByHand() {
        // One node, two GPUs; expert 0 on GPU 0 with 300 tokens, expert 1 on GPU 1 with 100. NVLink latency 2 us.
        ClusterSpec c = cluster(1, 2, 2, 10);
        StepModel m = new StepModel(model(1, 2), c, StepModel.Options.defaults());
        StepCost cost = m.step(placement(c, 2, new int[] {0, 1}), load(300, 100));

        // Compute: GPU 0 runs 300 * 6000 FLOPs = 1.8e6 at 1e12/s = 1.8 us; its bytes (6000 weights + 4 * 100 * 300
        // activations = 126000) take 0.126 us, so it is compute-bound. GPU 1: 0.6 us.
        assertThat(cost.compute()).isCloseTo(1.8e-6, within(EPS));
        // Dispatch: 400 tokens start 200 per GPU. GPU 0 keeps 150 of its tokens for expert 0 and sends 50 to
        // GPU 1; it receives 150 from GPU 1. The worst side is 150 tokens * 200 B = 30000 B at 1 GB/s = 30 us,
        // plus 2 us latency. Combine is the mirror image.
        assertThat(cost.dispatch()).isCloseTo(32e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(32e-6, within(EPS));
        assertThat(cost.seconds()).isCloseTo(32e-6 + 1.8e-6 + 32e-6, within(EPS));
        assertThat(cost.tokens()).isEqualTo(400);
        assertThat(cost.balancedness()).isCloseTo(200.0 / 300.0, within(1e-12));
        // Average GPU compute: (1.8 + 0.6) / 2 us.
        assertThat(cost.computeBusy()).isCloseTo(1.2e-6, within(EPS));
        assertThat(cost.utilization()).isCloseTo(1.2e-6 / cost.seconds(), within(1e-12));
    }

    @Test
    void evenRoutingOnFiftyThousandNodesNeedsNoNodeByGpuTable() {
        // 50,000 nodes of one GPU, each GPU holding one expert that gets 100 tokens. A table of the tokens each node
        // sends each GPU would hold 2.5e9 doubles (20 GB); under even routing a node's share is the same 1/N of
        // every GPU's tokens, so none is needed.
        int gpus = 50_000;
        ClusterSpec c = cluster(gpus, 1, 2, 10);
        int[] slots = new int[gpus];
        double[] perExpert = new double[gpus];
        for (int g = 0; g < gpus; g++) {
            slots[g] = g;
            perExpert[g] = 100;
        }
        StepCost cost = new StepModel(model(1, gpus), c, StepModel.Options.defaults())
                .step(placement(c, gpus, slots), load(perExpert));
        // By hand: a GPU serves 100 tokens, 100 / 50,000 = 0.002 of them from its own node (itself) and 99.998 over
        // the network; as an origin it sends its node's 100 tokens less the 0.002 it keeps. 99.998 * 200 B at
        // 0.5 GB/s = 39.9992 us, plus 10 us of network latency, each way. Compute: 100 * 6000 FLOPs at 1 TFLOP/s.
        assertThat(cost.dispatch()).isCloseTo(49.9992e-6, within(1e-12));
        assertThat(cost.combine()).isCloseTo(49.9992e-6, within(1e-12));
        assertThat(cost.compute()).isCloseTo(0.6e-6, within(EPS));
        assertThat(cost.balancedness()).isCloseTo(1, within(1e-12));
    }

    @Test
    void nodeLocalRoutingOnTheMostGpusNeedsNoExpertByNodeTable() {
        // 65,536 nodes of one GPU (the most a cluster may have), each holding one of 65,536 experts that gets 100
        // tokens. An expert x node table of replica counts has 2^32 cells: more than an int array holds (the CLI
        // failed with "ArithmeticException: integer overflow"), and 2^31 of them took 8 GB.
        int gpus = 65_536;
        ClusterSpec c = cluster(gpus, 1, 2, 10);
        int[] slots = new int[gpus];
        double[] perExpert = new double[gpus];
        for (int g = 0; g < gpus; g++) {
            slots[g] = g;
            perExpert[g] = 100;
        }
        StepCost cost = new StepModel(model(1, gpus), c, new StepModel.Options(Routing.NODE_LOCAL, 2, 2))
                .step(placement(c, gpus, slots), load(perExpert));
        // By hand: one replica per expert, so node-local routing sends as even routing does. A GPU serves 100
        // tokens, 100 / 65,536 of them from its own node (itself), the rest over the network; as an origin it sends
        // its node's 100 tokens less those it keeps. (100 - 100 / 65,536) * 200 B at 0.5 GB/s = 39.99939 us, plus
        // 10 us of network latency, each way.
        double seconds = (100 - 100.0 / gpus) * 200 / 0.5e9 + 10e-6;
        assertThat(cost.dispatch()).isCloseTo(seconds, within(1e-12));
        assertThat(cost.combine()).isCloseTo(seconds, within(1e-12));
        assertThat(cost.compute()).isCloseTo(0.6e-6, within(EPS));
        assertThat(cost.balancedness()).isCloseTo(1, within(1e-12));
    }

    @Test
    void aStepTimeNoDoubleHoldsIsBadInputNamingThePart() {
        // Each value passes its range check; together they make an infinite time, which reached the report as NaN
        // rates and failed in the plot library (exit 1) or printed "Infinity" (sim sweep, exit 0).
        // The slowest links a cluster may have (1 MB/s) and loads whose bytes overflow a double.
        ClusterSpec slowLinks = new ClusterSpec("slow", 1, 2, 1, 1.0, 1, 0.001, 0.5, 0, 0, 80);
        StepModel links = new StepModel(model(1, 2), slowLinks, StepModel.Options.defaults());
        assertThatThrownBy(() -> links.step(placement(slowLinks, 2, new int[] {0, 1}), load(3e306, 1e306)))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("the all-to-all")
                .hasMessageContaining("cluster slow");
        ClusterSpec c = cluster(1, 2, 0, 0);
        ModelSpec dense = new ModelSpec("dense", 1, 2, 1, 100, 10, 1, 2, 0, 0, 1e308);
        StepModel m = new StepModel(dense, c, StepModel.Options.defaults());
        assertThatThrownBy(() -> m.step(placement(c, 2, new int[] {0, 1}), load(3e12, 1e12)))
                .isInstanceOf(InvalidInputException.class).hasMessageContaining("the non-expert work");
    }

    @Test
    void acrossNodesTrafficUsesTheNetwork() {
        // Two nodes of one GPU: every token that changes GPU crosses the network (0.5 GB/s, 10 us latency).
        ClusterSpec c = cluster(2, 1, 2, 10);
        StepModel m = new StepModel(model(1, 2), c, StepModel.Options.defaults());
        StepCost cost = m.step(placement(c, 2, new int[] {0, 1}), load(300, 100));
        // GPU 0 receives 150 tokens * 200 B = 30000 B over 0.5 GB/s = 60 us, plus 10 us.
        assertThat(cost.dispatch()).isCloseTo(70e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(70e-6, within(EPS));
    }

    @Test
    void fp8DispatchHalvesDispatchBytesOnly() {
        ClusterSpec c = cluster(1, 2, 0, 0);
        StepModel m = new StepModel(model(1, 2), c, new StepModel.Options(Routing.EVEN, 1, 2));
        StepCost cost = m.step(placement(c, 2, new int[] {0, 1}), load(300, 100));
        assertThat(cost.dispatch()).isCloseTo(15e-6, within(EPS)); // 150 tokens * 100 B at 1 GB/s
        assertThat(cost.combine()).isCloseTo(30e-6, within(EPS));
    }

    @Test
    void aHotExpertsReplicasHalveItsGpusTime() {
        // Four experts on two GPUs, three slots each; all 10000 tokens go to expert 0.
        ClusterSpec c = cluster(1, 2, 0, 0);
        StepModel m = new StepModel(model(1, 4), c, StepModel.Options.defaults());
        LoadMatrix hot = load(10000, 0, 0, 0);
        StepCost alone = m.step(placement(c, 4, new int[] {0, 1, 2, 3, 1, 2}), hot);
        StepCost replicated = m.step(placement(c, 4, new int[] {0, 1, 2, 0, 3, 1}), hot);
        // Alone: 10000 * 6000 FLOPs = 60 us on GPU 0 (bytes: 6000 + 4e6 = 4 us, compute-bound).
        assertThat(alone.compute()).isCloseTo(60e-6, within(EPS));
        // Two replicas, one per GPU: 5000 tokens each, half the time.
        assertThat(replicated.compute()).isCloseTo(alone.compute() / 2, within(EPS));
        assertThat(alone.balancedness()).isCloseTo(0.5, within(1e-12));
        assertThat(replicated.balancedness()).isCloseTo(1.0, within(1e-12));
        // Traffic: alone, GPU 0 receives GPU 1's 5000 tokens; replicated (even split), each GPU sends half of
        // its 5000 tokens to the other replica and receives as many: half the bytes.
        assertThat(alone.dispatch()).isCloseTo(5000 * 200 / 1e9, within(EPS));
        assertThat(replicated.dispatch()).isCloseTo(2500 * 200 / 1e9, within(EPS));
    }

    /**
     * Node-local routing on nodes that hold every expert keeps every token on its node, so no step may pay the
     * network's latency (here a second), nor, on a node of one GPU, NVLink's. Rounding left about 1e-13 tokens
     * "sent" across nodes for some loads (a node's kept tokens and all its tokens, summed in different orders), and
     * the step took the latency.
     */
    @Test
    void nodeLocalRoutingOnNodesHoldingEveryExpertPaysNoLatencyOfAnUnusedLink() {
        ClusterSpec c = cluster(2, 2, 0, 1e6);
        StepModel m = new StepModel(model(1, 3), c, new StepModel.Options(Routing.NODE_LOCAL, 2, 2));
        Placement p = placement(c, 3, new int[] {0, 1, 2, 0, 1, 2, 0, 1});
        ClusterSpec single = cluster(2, 1, 1e6, 1e6);
        StepModel alone = new StepModel(model(1, 2), single, new StepModel.Options(Routing.NODE_LOCAL, 2, 2));
        Placement three = placement(single, 2, new int[] {0, 0, 0, 1, 1, 1, 1, 0});
        Random rng = new Random(3);
        for (int trial = 0; trial < 1000; trial++) {
            double l0 = rng.nextDouble() * 1000;
            double l1 = rng.nextDouble() * 1000;
            double l2 = rng.nextDouble() * 1000;
            StepCost cost = m.step(p, load(l0, l1, l2));
            // By hand: each node sends half of each expert's tokens to its own replicas of it: GPU 0 serves
            // l0/4 + l1/2, GPU 1 l2/2 + l0/4, GPU 2 l1/4 + l2/2, GPU 3 l0/2 + l1/4, all from its own node. Over
            // NVLink a GPU receives half of those (its node's other GPU's share) and sends half of what its node's
            // other GPU serves: the larger of the two at 200 B a token and 1 GB/s, no latency.
            double node = (l0 + l1 + l2) / 2;
            double worst = 0;
            for (double own : new double[] {l0 / 4 + l1 / 2, l2 / 2 + l0 / 4, l1 / 4 + l2 / 2, l0 / 2 + l1 / 4}) {
                worst = Math.max(worst, Math.max(own, node - own) / 2);
            }
            String as = "loads " + l0 + ", " + l1 + ", " + l2;
            assertThat(cost.dispatch()).as(as).isCloseTo(worst * 200 / 1e9, within(1e-15));
            assertThat(cost.combine()).as(as).isCloseTo(worst * 200 / 1e9, within(1e-15));
            // One GPU a node, three replicas of an expert on each: nothing leaves a GPU.
            StepCost home = alone.step(three, load(l0, l1));
            assertThat(home.dispatch()).as(as).isZero();
            assertThat(home.combine()).as(as).isZero();
        }
    }

    @Test
    void fewTokensAreBoundByReadingTheWeights() {
        // One token on expert 0: 6000 FLOPs = 6 ns, but 6000 weight bytes + 400 activation bytes = 6.4 ns of HBM.
        ClusterSpec c = cluster(1, 2, 0, 0);
        StepModel m = new StepModel(model(1, 2), c, StepModel.Options.defaults());
        StepCost cost = m.step(placement(c, 2, new int[] {0, 1}), load(1, 0));
        assertThat(cost.compute()).isCloseTo(6.4e-9, within(1e-20));
    }

    @Test
    void nodeLocalRoutingKeepsTokensOnTheirNode() {
        // Two nodes of one GPU, two slots each: GPU 0 holds experts 0 and 1, GPU 1 holds experts 0 and 2.
        ClusterSpec c = cluster(2, 1, 0, 0);
        Placement p = placement(c, 3, new int[] {0, 1, 0, 2});
        LoadMatrix l = load(400, 100, 100);
        StepCost even = new StepModel(model(1, 3), c, StepModel.Options.defaults()).step(p, l);
        StepCost local = new StepModel(model(1, 3), c, new StepModel.Options(Routing.NODE_LOCAL, 2, 2)).step(p, l);
        // Even: expert 0's 400 tokens split 200/200, half of each from the other node; with expert 1 (or 2),
        // each GPU receives 100 + 50 = 150 tokens from the other node: 30000 B at 0.5 GB/s = 60 us.
        assertThat(even.dispatch()).isCloseTo(60e-6, within(EPS));
        // Node-local: expert 0's tokens stay home; only experts 1 and 2 cross: 50 tokens = 10000 B = 20 us.
        assertThat(local.dispatch()).isCloseTo(20e-6, within(EPS));
        // Both serve 300 tokens per GPU.
        assertThat(local.compute()).isCloseTo(even.compute(), within(EPS));
    }

    @Test
    void stepSumsLayersAndAddsTheUniformWork() {
        // Two identical layers; 1000 dense FLOPs per token: 400 tokens over 2 GPUs = 200 * 1000 = 0.2 us per layer.
        ClusterSpec c = cluster(1, 2, 0, 0);
        ModelSpec dense = new ModelSpec("tiny", 2, 2, 1, 100, 10, 1, 2, 0, 0, 1000);
        StepModel m = new StepModel(dense, c, StepModel.Options.defaults());
        Placement p = Placement.of(new Topology(2, 1, 1, 2), 2, new int[][] {{0, 1}, {0, 1}});
        StepCost cost = m.step(p, LoadMatrix.of(new double[][] {{300, 100}, {300, 100}}, "load"));
        double layer = 30e-6 + 1.8e-6 + 30e-6 + 0.2e-6;
        assertThat(cost.seconds()).isCloseTo(2 * layer, within(EPS));
        assertThat(cost.tokens()).isEqualTo(400);
    }

    /**
     * docs/SIM.md's step model, every formula at once, on two GPUs and two layers that differ: top-2, a shared
     * expert, dense FLOPs, one compute-bound layer and one memory-bound with an idle GPU.
     */
    @Test
    void twoGpusTwoLayersWorkedByHandFromTheDocsFormulas() {
        // H = 100, F = 10, top-2, one shared expert of F_s = 10, 1000 dense FLOPs per token; links without latency.
        ClusterSpec c = cluster(1, 2, 0, 0);
        ModelSpec toy = new ModelSpec("toy", 2, 2, 2, 100, 10, 1, 2, 1, 10, 1000);
        Placement p = Placement.of(new Topology(2, 1, 1, 2), 2, new int[][] {{0, 1}, {0, 1}});
        StepCost cost = new StepModel(toy, c, StepModel.Options.defaults())
                .step(p, LoadMatrix.of(new double[][] {{300, 100}, {1, 0}}, "load"));
        // 1. Tokens: T = (400 / 2 + 1 / 2) / 2 layers = 100.25.
        assertThat(cost.tokens()).isCloseTo(100.25, within(1e-12));
        // 3. Compute, t_g = max(x_g 6HF / P, (a_g 3HF b + 4H x_g) / B_hbm). Layer 0: 300 x 6000 = 1.8e6 FLOPs,
        // 1.8 us, over 0.126 us of bytes; GPU 1 0.6 us. Layer 1: GPU 0's one token is 6 ns of FLOPs and
        // (6000 + 400) B = 6.4 ns of HBM, memory-bound; GPU 1 serves nothing and reads no weights (a_g = 0): 0.
        assertThat(cost.compute()).isCloseTo(1.8e-6 + 6.4e-9, within(EPS));
        // 4. Dispatch, one node: GPU g receives x_g (G - 1) / G and sends (sum_d x_d - x_g) / G. Layer 0: GPU 0
        // receives 150 and sends 50, GPU 1 receives 50 and sends 150: 150 x H x 2 B = 30000 B at 1 GB/s = 30 us.
        // Layer 1: GPU 0 receives 0.5, GPU 1 sends 0.5: 100 B = 0.1 us. Combine mirrors it.
        assertThat(cost.dispatch()).isCloseTo(30.1e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(30.1e-6, within(EPS));
        // 5. u = (T_l / M)(dense + 6H F_s n_s) / P per layer: (100 + 0.25) x (1000 + 6000) FLOPs = 0.70175 us.
        double u = (100 + 0.25) * 7000 / 1e12;
        // 6. Step = sum over layers of D + max_g t_g + C + u.
        assertThat(cost.seconds()).isCloseTo(30.1e-6 + 1.8064e-6 + 30.1e-6 + u, within(EPS));
        // Balancedness: sum_l mean_g x_g / sum_l max_g x_g = (200 + 0.5) / (300 + 1), not the layers' mean ratio.
        assertThat(cost.balancedness()).isCloseTo(200.5 / 301, within(1e-12));
        // Busy: sum_l (mean_g t_g + u_l) = (1.8 + 0.6) / 2 us + 6.4 / 2 ns + u; utilization = busy / step.
        assertThat(cost.computeBusy()).isCloseTo(1.2e-6 + 3.2e-9 + u, within(EPS));
        assertThat(cost.utilization()).isCloseTo((1.2e-6 + 3.2e-9 + u) / cost.seconds(), within(1e-12));
    }

    @Test
    void twoNodesOfTwoGpusWorkedByHand() {
        // GPUs 0, 1 on node 0 and 2, 3 on node 1, one expert each; 400 tokens for expert 0 (GPU 0) and 200 for
        // expert 3 (GPU 3), starting evenly: each node sends GPU 0 200 tokens and GPU 3 100, half from each of
        // its GPUs. GPU 0 receives 100 over NVLink (from GPU 1; GPU 0's own 100 stay) and 200 over the network:
        // 200 tokens * 200 B = 40000 B at 0.5 GB/s = 80 us, the slowest link of any GPU. GPU 3 receives 50 and
        // 100 and sends 100 across: 40 us; GPU 1 sends 100 within its node and 50 across: 20 us.
        ClusterSpec c = cluster(2, 2, 0, 0);
        StepCost cost = new StepModel(model(1, 4), c, StepModel.Options.defaults())
                .step(placement(c, 4, new int[] {0, 1, 2, 3}), load(400, 0, 0, 200));
        assertThat(cost.dispatch()).isCloseTo(80e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(80e-6, within(EPS));
        assertThat(cost.tokens()).isEqualTo(600);
        // GPU 0 computes 400 tokens: 2.4 us; mean load 150 against the largest 400.
        assertThat(cost.compute()).isCloseTo(2.4e-6, within(EPS));
        assertThat(cost.balancedness()).isCloseTo(150.0 / 400, within(1e-12));
        // Node-local routing: each node's share goes to a replica on the node when there is one, else to the
        // expert's replicas wherever they are; here every expert has one replica, so nothing changes.
        StepCost local = new StepModel(model(1, 4), c, new StepModel.Options(Routing.NODE_LOCAL, 2, 2))
                .step(placement(c, 4, new int[] {0, 1, 2, 3}), load(400, 0, 0, 200));
        assertThat(local).isEqualTo(cost);
    }

    @Test
    void uniformLoadIsPerfectlyBalancedWhateverThePermutation() {
        ClusterSpec c = cluster(2, 2, 3, 10);
        StepModel m = new StepModel(model(1, 8), c, StepModel.Options.defaults());
        LoadMatrix flat = load(64, 64, 64, 64, 64, 64, 64, 64);
        StepCost a = m.step(placement(c, 8, new int[] {0, 1, 2, 3, 4, 5, 6, 7}), flat);
        StepCost b = m.step(placement(c, 8, new int[] {7, 2, 5, 0, 3, 6, 1, 4}), flat);
        assertThat(a.balancedness()).isEqualTo(1.0);
        assertThat(b).isEqualTo(a);
    }

    /**
     * Layers are independent in the model: a step of several layers costs the sum of one-layer steps (tokens
     * averaged), whatever the routing, and a model reused across steps prices each as a fresh one. Scratch state
     * left from an earlier layer (served tokens, active slots, flows, replicas per node) would break this; random
     * placements on two nodes of two GPUs, with colocated replicas and loads from memory-bound to compute-bound.
     */
    @Test
    void aStepIsTheSumOfItsLayersAndReuseChangesNothing() {
        Random rng = new Random(5);
        ClusterSpec c = cluster(2, 2, 3, 10);
        int experts = 6;
        int replicas = 8;
        for (int trial = 0; trial < 200; trial++) {
            int layers = 2 + rng.nextInt(3);
            int[][] phy2log = new int[layers][replicas];
            double[][] loads = new double[layers][experts];
            for (int l = 0; l < layers; l++) {
                List<Integer> slots = new ArrayList<>();
                for (int e = 0; e < experts; e++) {
                    slots.add(e);
                }
                while (slots.size() < replicas) {
                    slots.add(rng.nextInt(experts));
                }
                Collections.shuffle(slots, rng);
                for (int s = 0; s < replicas; s++) {
                    phy2log[l][s] = slots.get(s);
                }
                for (int e = 0; e < experts; e++) {
                    loads[l][e] = rng.nextInt(4) == 0 ? 0 : rng.nextInt(rng.nextBoolean() ? 3 : 5000);
                }
            }
            Placement p = Placement.of(new Topology(replicas, 1, 2, 4), experts, phy2log);
            for (StepModel.Options options : new StepModel.Options[] {StepModel.Options.defaults(),
                    new StepModel.Options(Routing.NODE_LOCAL, 2, 2)}) {
                StepModel reused = new StepModel(model(layers, experts), c, options);
                // Another step first (the layers in reverse order), so that the step below starts from used scratch.
                double[][] other = new double[layers][];
                for (int l = 0; l < layers; l++) {
                    other[l] = loads[layers - 1 - l].clone();
                }
                reused.step(p, LoadMatrix.of(other, "load"));
                StepCost whole = reused.step(p, LoadMatrix.of(loads, "load"));
                double seconds = 0;
                double dispatch = 0;
                double compute = 0;
                double combine = 0;
                double busy = 0;
                double tokens = 0;
                for (int l = 0; l < layers; l++) {
                    Placement one = Placement.of(new Topology(replicas, 1, 2, 4), experts, new int[][] {phy2log[l]});
                    StepCost layer = new StepModel(model(1, experts), c, options)
                            .step(one, LoadMatrix.of(new double[][] {loads[l]}, "load"));
                    seconds += layer.seconds();
                    dispatch += layer.dispatch();
                    compute += layer.compute();
                    combine += layer.combine();
                    busy += layer.computeBusy();
                    tokens += layer.tokens();
                }
                String as = "trial " + trial + " " + options;
                assertThat(whole.seconds()).as(as).isCloseTo(seconds, within(1e-12 * seconds + 1e-18));
                assertThat(whole.dispatch()).as(as).isCloseTo(dispatch, within(1e-12 * dispatch + 1e-18));
                assertThat(whole.compute()).as(as).isCloseTo(compute, within(1e-12 * compute + 1e-18));
                assertThat(whole.combine()).as(as).isCloseTo(combine, within(1e-12 * combine + 1e-18));
                assertThat(whole.computeBusy()).as(as).isCloseTo(busy, within(1e-12 * busy + 1e-18));
                assertThat(whole.tokens()).as(as).isCloseTo(tokens / layers, within(1e-9));
            }
        }
    }

    /**
     * Node-local routing's per-slot sums against the [origin node][GPU] table they replace, built as the routing is
     * defined (node n's share of expert e to e's replicas on n when it has any, else to all of e's replicas): random
     * placements with colocated replicas, experts on several nodes or one, idle experts, 1-5 nodes.
     */
    @Test
    void nodeLocalRoutingMatchesTheFlowTableItSums() {
        Random rng = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int nodes = 1 + rng.nextInt(5);
            int gpusPerNode = 1 + rng.nextInt(3);
            int slotsPerGpu = 1 + rng.nextInt(3);
            int gpus = nodes * gpusPerNode;
            int replicas = gpus * slotsPerGpu;
            int experts = 1 + rng.nextInt(replicas);
            List<Integer> slots = new ArrayList<>();
            for (int e = 0; e < replicas; e++) {
                slots.add(e < experts ? e : rng.nextInt(experts));
            }
            Collections.shuffle(slots, rng);
            int[] phy2log = slots.stream().mapToInt(Integer::intValue).toArray();
            double[] w = new double[experts];
            for (int e = 0; e < experts; e++) {
                w[e] = rng.nextInt(4) == 0 ? 0 : rng.nextInt(1000) + rng.nextDouble();
            }
            ClusterSpec c = cluster(nodes, gpusPerNode, 0, 0);
            Placement p = Placement.of(new Topology(replicas, 1, nodes, gpus), experts, new int[][] {phy2log});
            double[][] flow = new double[nodes][gpus];
            int slotsPerNode = replicas / nodes;
            for (int s = 0; s < replicas; s++) {
                int e = phy2log[s];
                for (int n = 0; n < nodes; n++) {
                    int local = 0;
                    for (int t = n * slotsPerNode; t < (n + 1) * slotsPerNode; t++) {
                        local += phy2log[t] == e ? 1 : 0;
                    }
                    boolean here = s / slotsPerNode == n;
                    flow[n][s / slotsPerGpu] += local > 0 ? (here ? w[e] / nodes / local : 0)
                            : w[e] / nodes / p.replicaCount(0, e);
                }
            }
            double[][] got = new StepModel(model(1, experts), c, new StepModel.Options(Routing.NODE_LOCAL, 2, 2))
                    .routeLayer(p, LoadMatrix.of(new double[][] {w}, "load"), 0);
            String as = "trial " + trial;
            for (int g = 0; g < gpus; g++) {
                double served = 0;
                for (int n = 0; n < nodes; n++) {
                    served += flow[n][g];
                }
                assertThat(got[0][g]).as(as + " served " + g).isCloseTo(served, within(1e-9 * (1 + served)));
                double own = flow[g / gpusPerNode][g];
                assertThat(got[1][g]).as(as + " own " + g).isCloseTo(own, within(1e-9 * (1 + own)));
            }
            for (int n = 0; n < nodes; n++) {
                double total = 0;
                double local = 0;
                for (int g = 0; g < gpus; g++) {
                    total += flow[n][g];
                    local += g / gpusPerNode == n ? flow[n][g] : 0;
                }
                assertThat(got[2][n]).as(as + " total " + n).isCloseTo(total, within(1e-9 * (1 + total)));
                assertThat(got[3][n]).as(as + " local " + n).isCloseTo(local, within(1e-9 * (1 + local)));
            }
        }
    }

    @Test
    void aLoadOfAnotherShapeIsRefused() {
        ClusterSpec c = cluster(1, 2, 2, 10);
        StepModel m = new StepModel(model(1, 2), c, StepModel.Options.defaults());
        assertThatThrownBy(() -> m.step(placement(c, 2, new int[] {0, 1}), load(300, 100, 5)))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("load");
    }

    /** A step without tokens takes no time and counts as perfectly balanced (not 0 / 0), with either routing. */
    @Test
    void aStepWithoutTokensIsFreeAndBalanced() {
        ClusterSpec c = cluster(1, 2, 2, 10);
        for (Routing routing : Routing.values()) {
            StepCost cost = new StepModel(model(1, 2), c, new StepModel.Options(routing, 2, 2))
                    .step(placement(c, 2, new int[] {0, 1}), load(0, 0));
            assertThat(cost.seconds()).as("%s", routing).isZero();
            assertThat(cost.tokens()).as("%s", routing).isZero();
            assertThat(cost.balancedness()).as("%s", routing).isEqualTo(1);
            assertThat(cost.utilization()).as("%s", routing).isZero();
        }
    }

    /**
     * Only slots that get tokens read their weights, with either routing: GPU 0 holds experts 0 (one token) and 1
     * (none), so its compute reads one expert's 6000 bytes and 400 activation bytes: 6.4 ns, not 12.4.
     */
    @Test
    void anIdleSlotReadsNoWeights() {
        ClusterSpec c = cluster(1, 2, 0, 0);
        for (Routing routing : Routing.values()) {
            StepCost cost = new StepModel(model(1, 4), c, new StepModel.Options(routing, 2, 2))
                    .step(placement(c, 4, new int[] {0, 1, 2, 3}), load(1, 0, 1, 0));
            assertThat(cost.compute()).as("%s", routing).isCloseTo(6.4e-9, within(1e-20));
        }
    }

    /**
     * A GPU that serves nothing still sends its tokens, and a transfer on its link meets them. One node of two GPUs:
     * expert 1 (GPU 1) gets all 400 tokens, so GPU 0 sends its 200 (40,000 B) and GPU 1 receives as many: 42 us each
     * way alone. A copy of 6000 B on GPU 0's NVLink starts after the 2 us latency, when 38,000 B of the dispatch are
     * left: sharing the link it holds the dispatch back by 6 us (48 us) and is done at 14 us; the compute is
     * 400 x 6000 FLOPs = 2.4 us and the combine has the link alone: 92.4 us.
     */
    @Test
    void aTransferMeetsTheTokensOfAGpuThatOnlySends() {
        ClusterSpec c = cluster(1, 2, 2, 10);
        StepModel m = new StepModel(model(1, 2), c, StepModel.Options.defaults());
        Placement p = placement(c, 2, new int[] {0, 1});
        assertThat(m.step(p, load(0, 400)).dispatch()).isCloseTo(42e-6, within(EPS));
        Transfer transfer = new Transfer(new MigrationCost(1, 6000, 0, new double[] {6000, 0}, new double[2]), 0, c);
        StepCost cost = m.step(p, load(0, 400), transfer);
        assertThat(cost.dispatch()).isCloseTo(48e-6, within(EPS));
        assertThat(cost.compute()).isCloseTo(2.4e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(42e-6, within(EPS));
        assertThat(cost.seconds()).isCloseTo(92.4e-6, within(EPS));
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isCloseTo(14e-6, within(EPS));
    }

    /**
     * The same across nodes: two nodes of one GPU, GPU 0 sends its 200 tokens over the network (40,000 B at 0.5 GB/s
     * = 80 us + 10 us latency). A copy of 6000 B on GPU 0's network link starts at 10 us with 35,000 B of the
     * dispatch left: it holds the dispatch back by 12 us (102 us) and is done at 10 + 24 = 34 us.
     */
    @Test
    void aTransferMeetsTheNetworkTokensOfANodeThatOnlySends() {
        ClusterSpec c = cluster(2, 1, 2, 10);
        StepModel m = new StepModel(model(1, 2), c, StepModel.Options.defaults());
        Placement p = placement(c, 2, new int[] {0, 1});
        assertThat(m.step(p, load(0, 400)).dispatch()).isCloseTo(90e-6, within(EPS));
        Transfer transfer = new Transfer(new MigrationCost(1, 6000, 6000, new double[2], new double[] {6000, 0}), 0, c);
        StepCost cost = m.step(p, load(0, 400), transfer);
        assertThat(cost.dispatch()).isCloseTo(102e-6, within(EPS));
        assertThat(cost.combine()).isCloseTo(90e-6, within(EPS));
        assertThat(cost.seconds()).isCloseTo(194.4e-6, within(EPS));
        assertThat(transfer.done()).isTrue();
        assertThat(transfer.seconds()).isCloseTo(34e-6, within(EPS));
    }

    /**
     * Node-local routing on nodes that hold every expert with tokens keeps every token home, even where an idle
     * expert lives on one node only (expert 3, on node 1): no step pays the network's second. The nodes add their
     * experts' tokens up in other orders than the expert order ((2 + 1) + 0 and (2 + 0) + 1 against (0 + 1) + 2), so
     * that counting the idle expert as one with tokens (or as one node 1 must keep) would leave a rounding residue
     * "sent" across nodes.
     */
    @Test
    void nodeLocalRoutingIgnoresIdleExpertsWhenTokensStayHome() {
        ClusterSpec c = cluster(2, 2, 0, 1e6);
        StepModel m = new StepModel(model(1, 4), c, new StepModel.Options(Routing.NODE_LOCAL, 2, 2));
        Placement p = placement(c, 4, new int[] {2, 1, 0, 0, 2, 3, 0, 1});
        Random rng = new Random(7);
        for (int trial = 0; trial < 1000; trial++) {
            StepCost cost = m.step(p, load(rng.nextDouble() * 1000, rng.nextDouble() * 1000,
                    rng.nextDouble() * 1000, 0));
            assertThat(cost.dispatch()).as("trial %d", trial).isLessThan(1e-3);
            assertThat(cost.combine()).as("trial %d", trial).isLessThan(1e-3);
        }
    }
}
