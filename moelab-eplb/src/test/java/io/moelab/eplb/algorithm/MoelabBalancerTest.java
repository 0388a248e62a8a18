package io.moelab.eplb.algorithm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;
import static org.quicktheories.QuickTheory.qt;

import io.moelab.eplb.BalancingCases;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

class MoelabBalancerTest {

    @Test
    void colocatesOnlyWhenAnExpertHasMoreReplicasThanGpusInItsDomain() {
        qt().withExamples(400).withFixedSeed(51).forAll(BalancingCases.cases()).checkAssert(c -> {
            for (String spec : List.of("moelab:global", "moelab")) {
                Placement p = Algorithms.byName(spec).rebalance(BalancingRequest.of(c.weight(), c.topology()));
                boolean hierarchical = spec.equals("moelab") && c.topology().groupsDivideNodes();
                int domain = hierarchical ? c.topology().gpusPerNode() : c.topology().gpus();
                for (var colocation : PlacementEvaluator.score(p, c.weight()).colocations()) {
                    assertThat(p.replicaCount(colocation.layer(), colocation.expert())).as(spec + " " + colocation)
                            .isGreaterThan(domain);
                }
            }
        });
    }

    /**
     * More slots per GPU than experts in the domain: capped at one replica per GPU, the slots left over went as
     * extra replicas that split unevenly over the GPUs. Loads 100, 1, 1 on 8 slots of 2 GPUs got counts 3, 3, 2 and
     * GPU loads 67.4 and 34.6 (balancedness 0.7556, where {@code deepseek} reaches 1). Every GPU holding the same
     * experts balances exactly: 100 twice, 1 and 1 on each GPU.
     */
    @Test
    void moreSlotsPerGpuThanExpertsPutTheSameExpertsOnEveryGpu() {
        LoadMatrix w = LoadMatrix.of(new double[][] {{100, 1, 1}}, "weight");
        Placement p = Algorithms.byName("moelab").rebalance(BalancingRequest.of(w, new Topology(8, 1, 1, 2)));
        assertThat(PlacementEvaluator.score(p, w).gpuBalancedness()).isEqualTo(1.0);
        for (int gpu = 0; gpu < 2; gpu++) {
            int[] held = new int[3];
            for (int s = gpu * 4; s < gpu * 4 + 4; s++) {
                held[p.expertAt(0, s)]++;
            }
            assertThat(held).as("GPU " + gpu).containsExactly(2, 1, 1);
        }
        // Hierarchical: 2 experts and 3 slots per GPU in each node. Groups {0, 1} and {2, 3} weigh 100 each; the node
        // of 90 and 10 gives each GPU 90 twice and 10 once (45 + 45 + 10 per GPU), perfectly balanced.
        LoadMatrix h = LoadMatrix.of(new double[][] {{90, 10, 50, 50}}, "weight");
        Placement node = Algorithms.byName("moelab").rebalance(BalancingRequest.of(h, new Topology(12, 2, 2, 4)));
        assertThat(PlacementEvaluator.score(node, h).gpuBalancedness()).isEqualTo(1.0);
        // Random loads on such shapes: every GPU of a domain holds the same multiset of experts, so the GPUs of a
        // node carry its load equally (global: GPU balancedness 1).
        qt().withExamples(200).withFixedSeed(7).forAll(BalancingCases.cases()).checkAssert(c -> {
            Topology topology = c.topology();
            int experts = c.weight().experts();
            for (String spec : List.of("moelab:global", "moelab")) {
                boolean hierarchical = spec.equals("moelab") && topology.groupsDivideNodes();
                int domainExperts = hierarchical ? experts / topology.nodes() : experts;
                if (topology.slotsPerGpu() <= domainExperts) {
                    continue;
                }
                Placement q = Algorithms.byName(spec).rebalance(BalancingRequest.of(c.weight(), topology));
                int domainGpus = hierarchical ? topology.gpusPerNode() : topology.gpus();
                for (int l = 0; l < q.layers(); l++) {
                    for (int g = 0; g < topology.gpus(); g++) {
                        int first = g / domainGpus * domainGpus;
                        assertThat(sortedSlots(q, l, g)).as(spec + " layer " + l + " GPU " + g + " " + topology)
                                .containsExactly(sortedSlots(q, l, first));
                    }
                }
            }
        });
    }

    private static int[] sortedSlots(Placement p, int layer, int gpu) {
        int perGpu = p.topology().slotsPerGpu();
        int[] held = new int[perGpu];
        for (int j = 0; j < perGpu; j++) {
            held[j] = p.expertAt(layer, gpu * perGpu + j);
        }
        java.util.Arrays.sort(held);
        return held;
    }

    @Test
    void parallelPlansEqualSerialPlans() {
        LoadMatrix w = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(13, 64, 5, 3)).sum(0, 5);
        Topology t = new Topology(96, 8, 4, 16);
        for (String mode : List.of("global", "hierarchical")) {
            Placement serial = Algorithms.byName("moelab:" + mode).rebalance(BalancingRequest.of(w, t));
            Placement parallel = Algorithms.byName("moelab:" + mode + ":parallel=on")
                    .rebalance(BalancingRequest.of(w, t));
            assertThat(parallel).isEqualTo(serial);
        }
    }

    /**
     * Layers planned on the common pool's threads, each with its own planner and in any order, give the bits of
     * one thread planning them in turn: for random problems (ties, zeros, both policies), many layers (so that
     * several threads share them), with and without history (the forecast path) and a placement in service (the
     * migration path).
     */
    @Test
    void parallelPlansEqualSerialPlansForRandomProblems() {
        qt().withExamples(80).withFixedSeed(83).forAll(BalancingCases.cases()).checkAssert(c -> {
            // The case's layers repeated and scaled to 9-15 layers: more pairs than one thread plans alone.
            double[][] base = c.weight().toArray();
            int layers = 9 + (base.length * 7 + base[0].length) % 7;
            double[][] rows = new double[layers][];
            for (int l = 0; l < layers; l++) {
                rows[l] = base[l % base.length].clone();
                for (int e = 0; e < rows[l].length; e++) {
                    rows[l][e] *= 1 + (l / base.length) % 3;
                }
            }
            LoadMatrix w = LoadMatrix.of(rows, "weight");
            double[][] shifted = new double[layers][];
            for (int l = 0; l < layers; l++) {
                shifted[l] = rows[(l + 1) % layers].clone();
            }
            LoadMatrix other = LoadMatrix.of(shifted, "weight");
            Topology t = c.topology();
            List<String> specs = t.groupsDivideNodes() ? List.of("moelab:global", "moelab:hierarchical", "moelab")
                    : List.of("moelab:global", "moelab");
            for (String spec : specs) {
                Placement previous = Algorithms.byName(spec).rebalance(BalancingRequest.of(other, t));
                List<BalancingRequest> requests = List.of(BalancingRequest.of(w, t),
                        new BalancingRequest(w, List.of(other, w, other, other, w), t, null),
                        new BalancingRequest(w, List.of(), t, previous),
                        new BalancingRequest(w, List.of(other, w, other, w), t, previous));
                for (int i = 0; i < requests.size(); i++) {
                    Placement serial = Algorithms.byName(spec).rebalance(requests.get(i));
                    Placement parallel = Algorithms.byName(spec + ":parallel=on").rebalance(requests.get(i));
                    assertThat(parallel).as("%s request %d", spec, i).isEqualTo(serial);
                }
            }
        });
    }

    /**
     * Placements do not depend on the unit of load: the same loads scaled by 2^-1057 (tiny, mostly subnormal
     * doubles) got an {@code ArrayIndexOutOfBoundsException} from the bucket order, or more replicas than slots.
     */
    @Test
    void tinyLoadsArePlacedAsTheSameLoadsAtAnyScale() {
        LoadMatrix w = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(6, 64, 5, 4)).sum(0, 5);
        double[][] rows = w.toArray();
        for (double[] row : rows) {
            for (int e = 0; e < row.length; e++) {
                assertThat(row[e]).isLessThan(0x1p17); // so that 2^-1057 times it is exact
                row[e] = Math.scalb(row[e], -1057);
            }
        }
        LoadMatrix tiny = LoadMatrix.of(rows, "weight");
        Topology t = new Topology(96, 8, 4, 16);
        for (String spec : List.of("moelab:global", "moelab:hierarchical")) {
            Placement expected = Algorithms.byName(spec).rebalance(BalancingRequest.of(w, t));
            assertThat(Algorithms.byName(spec).rebalance(BalancingRequest.of(tiny, t))).as(spec).isEqualTo(expected);
            assertThat(Algorithms.byName(spec + ":parallel=on").rebalance(BalancingRequest.of(tiny, t))).as(spec)
                    .isEqualTo(expected);
            // With history (a forecast, whose shares of tiny totals failed) and a placement in service.
            BalancingRequest withHistory = new BalancingRequest(tiny, List.of(tiny, tiny, tiny, tiny), t, expected);
            Placement planned = Algorithms.byName(spec).rebalance(withHistory);
            assertThat(PlacementEvaluator.score(planned, tiny).gpuBalancedness())
                    .isCloseTo(PlacementEvaluator.score(expected, w).gpuBalancedness(), within(1e-9));
        }
    }

    /**
     * A balancer keeps its planner between rebalances: one instance used on problems of other shapes in turn, and
     * from several threads at once, must plan each exactly as a fresh instance does.
     */
    @Test
    void aReusedBalancerPlansAsAFreshOne() throws Exception {
        List<BalancingRequest> requests = List.of(
                BalancingRequest.of(
                        SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(5, 64, 3, 1)).sum(0, 3),
                        new Topology(96, 8, 4, 16)),
                BalancingRequest.of(
                        SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(4, 60, 3, 2)).sum(0, 3),
                        new Topology(96, 6, 3, 12)),
                BalancingRequest.of(
                        SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(3, 64, 3, 3)).sum(0, 3),
                        new Topology(128, 8, 4, 32)));
        for (String spec : List.of("moelab:global", "moelab:hierarchical", "moelab")) {
            BalancerAlgorithm reused = Algorithms.byName(spec);
            List<Placement> fresh = requests.stream().map(r -> Algorithms.byName(spec).rebalance(r)).toList();
            for (int round = 0; round < 2; round++) {
                for (int i = 0; i < requests.size(); i++) {
                    assertThat(reused.rebalance(requests.get(i))).as(spec + " request " + i).isEqualTo(fresh.get(i));
                }
            }
            List<Placement> concurrent = java.util.stream.IntStream.range(0, 60).parallel()
                    .mapToObj(i -> reused.rebalance(requests.get(i % requests.size()))).toList();
            for (int i = 0; i < concurrent.size(); i++) {
                assertThat(concurrent.get(i)).as(spec + " concurrent " + i).isEqualTo(fresh.get(i % requests.size()));
            }
        }
    }

    /**
     * Layers are planned several at a time with their packings interleaved (and a layer's nodes likewise); each
     * layer must still get exactly the slots it gets when it is the only layer, whatever the layer count and the
     * number of nodes (odd counts leave one packing alone).
     */
    @Test
    void layersPlannedTogetherEqualLayersPlannedAlone() {
        for (int layers : new int[] {1, 2, 3, 7}) {
            LoadMatrix w = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(layers, 60, 3, layers))
                    .sum(0, 3);
            for (Topology t : List.of(new Topology(96, 6, 3, 12), new Topology(80, 4, 2, 16),
                    new Topology(120, 12, 6, 24))) {
                for (String spec : List.of("moelab:global", "moelab:hierarchical", "moelab:global:parallel=on")) {
                    Placement together = Algorithms.byName(spec).rebalance(BalancingRequest.of(w, t));
                    for (int l = 0; l < layers; l++) {
                        double[][] row = {new double[w.experts()]};
                        w.copyLayer(l, row[0]);
                        Placement alone = Algorithms.byName(spec)
                                .rebalance(BalancingRequest.of(LoadMatrix.of(row, "weight"), t));
                        assertThat(together.layerPhy2log(l)).as("%s %s layer %d of %d", spec, t, l, layers)
                                .containsExactly(alone.layerPhy2log(0));
                    }
                }
            }
        }
    }

    @Test
    void globalBeatsHierarchicalAndBothBeatNothingInSample() {
        LoadMatrix w = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(20, 64, 10, 5)).sum(0, 10);
        Topology t = new Topology(96, 8, 4, 16);
        double global = score("moelab:global", w, t);
        double hierarchical = score("moelab:hierarchical", w, t);
        double deepseek = score("deepseek", w, t);
        assertThat(global).isGreaterThanOrEqualTo(hierarchical);
        assertThat(global).isGreaterThan(0.97);
        // In-sample, LPT + swaps without colocation packs at least as well as DeepSeek's balanced packing.
        assertThat(hierarchical).isGreaterThanOrEqualTo(deepseek - 1e-9);
    }

    private static double score(String spec, LoadMatrix w, Topology t) {
        return PlacementEvaluator.score(Algorithms.byName(spec).rebalance(BalancingRequest.of(w, t)), w)
                .gpuBalancedness();
    }

    @Test
    void migrationMovesFewerExpertsAndRelabelingAloneCostsNoBalance() {
        var windows = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(16, 64, 200, 9)).windows(50);
        Topology t = new Topology(96, 8, 4, 16);
        for (String mode : List.of("global", "hierarchical")) {
            BalancerAlgorithm fresh = Algorithms.byName("moelab:" + mode + ":migrate=off:history=0");
            BalancerAlgorithm relabel = Algorithms.byName("moelab:" + mode + ":tolerance=0:history=0");
            BalancerAlgorithm aware = Algorithms.byName("moelab:" + mode + ":tolerance=0.01:history=0");
            Placement previous = fresh.rebalance(BalancingRequest.of(windows.get(1), t));
            BalancingRequest next = new BalancingRequest(windows.get(2), List.of(), t, previous);
            Placement a = fresh.rebalance(next);
            Placement b = relabel.rebalance(next);
            Placement c = aware.rebalance(next);
            int movedFresh = PlacementEvaluator.migration(previous, a).expertsMoved();
            int movedAware = PlacementEvaluator.migration(previous, c).expertsMoved();
            // Global mode can repair anywhere. Hierarchical repairs stay inside nodes, except for one exchange of
            // groups between two nodes: measured 705 of 1,323 here, 793 without the exchange.
            assertThat((double) movedAware).as(mode)
                    .isLessThan(movedFresh * (mode.equals("global") ? 0.5 : 0.57));
            double balanceFresh = PlacementEvaluator.score(a, windows.get(2)).gpuBalancedness();
            double balanceAware = PlacementEvaluator.score(c, windows.get(2)).gpuBalancedness();
            // Planned on window 2 itself (no history): the predicted loss is the real one, within the tolerance.
            assertThat(balanceAware).as(mode).isGreaterThanOrEqualTo(balanceFresh - 0.01 - 1e-9);
            assertThat(PlacementEvaluator.score(b, windows.get(2)).gpuBalancedness()).as(mode)
                    .isGreaterThanOrEqualTo(balanceFresh - 1e-9);
        }
    }

    @Test
    void hierarchicalMigrationKeepsGroupsOnNodes() {
        var windows = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(8, 64, 150, 4)).windows(50);
        Topology t = new Topology(96, 8, 4, 16);
        BalancerAlgorithm aware = Algorithms.byName("moelab:hierarchical:tolerance=0.05");
        Placement previous = aware.rebalance(BalancingRequest.of(windows.get(0), t));
        Placement next = aware.rebalance(new BalancingRequest(windows.get(1), List.of(windows.get(0)), t, previous));
        for (int l = 0; l < next.layers(); l++) {
            int[] nodeOfGroup = new int[8];
            java.util.Arrays.fill(nodeOfGroup, -1);
            for (int s = 0; s < 96; s++) {
                int g = next.expertAt(l, s) / 8;
                int node = t.nodeOfGpu(t.gpuOfSlot(s));
                assertThat(nodeOfGroup[g] == -1 || nodeOfGroup[g] == node).isTrue();
                nodeOfGroup[g] = node;
            }
        }
    }

    @Test
    void optionsAreValidated() {
        assertThatThrownBy(() -> Algorithms.byName("moelab:speed=fast")).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining("unknown option 'speed' for moelab");
        assertThatThrownBy(() -> Algorithms.byName("moelab:hedge=-1")).hasMessageContaining("hedge=-1");
        assertThatThrownBy(() -> Algorithms.byName("moelab:upside")).hasMessageContaining("unknown mode 'upside'");
        assertThatThrownBy(() -> Algorithms.byName("deepseek:hedge=1")).hasMessageContaining("takes none");
        Topology noGroupsPerNode = new Topology(96, 3, 4, 16);
        LoadMatrix w = LoadMatrix.of(new double[][] {new double[24]}, "w");
        assertThatThrownBy(() -> Algorithms.byName("moelab:hierarchical").rebalance(BalancingRequest.of(w,
                noGroupsPerNode))).hasMessageStartingWith("num_groups: hierarchical mode needs");
    }

    @Test
    void theHedgeScalesTheForecastsVolatility() {
        // Plan loads are the forecast plus hedge x volatility: moelab:hedge=2.5 adds 2.5 times the volatility
        // that LoadForecast reports for the same windows (32 at most, model chosen from the data) to hedge=0's.
        java.util.Random random = new java.util.Random(17);
        List<LoadMatrix> windows = new java.util.ArrayList<>();
        for (int w = 0; w < 7; w++) {
            double[][] rows = new double[2][8];
            for (double[] row : rows) {
                for (int e = 0; e < row.length; e++) {
                    row[e] = 100 + random.nextInt(900);
                }
            }
            windows.add(LoadMatrix.of(rows, "w" + w));
        }
        LoadMatrix latest = windows.getLast();
        List<LoadMatrix> history = windows.subList(0, windows.size() - 1);
        BalancingRequest request = new BalancingRequest(latest, history, new Topology(16, 1, 1, 4), null);
        double[][] plain = ((MoelabBalancer) Algorithms.byName("moelab:global:hedge=0")).planningLoads(request);
        double[][] hedged = ((MoelabBalancer) Algorithms.byName("moelab:global:hedge=2.5")).planningLoads(request);
        double[][] volatility = LoadForecast.of(latest, history, 32, Double.NaN).volatility();
        assertThat(volatility[0][0]).isPositive();
        for (int l = 0; l < 2; l++) {
            for (int e = 0; e < 8; e++) {
                assertThat(hedged[l][e]).isCloseTo(plain[l][e] + 2.5 * volatility[l][e],
                        within(1e-9 * hedged[l][e]));
            }
        }
    }
}
