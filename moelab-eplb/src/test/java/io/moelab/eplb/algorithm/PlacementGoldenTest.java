package io.moelab.eplb.algorithm;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.eval.BenchmarkShape;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.io.IOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * Every balancer's placements, bit for bit, against digests recorded before the planners were optimized: the
 * result tables in docs/eplb depend on them, so speed work must not change a single slot. Covers the benchmark
 * shapes, a forecast-and-migrate sequence on a real trace, and random loads with ties and zeros.
 *
 * <p>To re-record after an intended change of results, run with {@code -Dmoelab.golden.write=FILE} and copy
 * FILE over {@code placement-digests.txt}.
 */
class PlacementGoldenTest {
    private static final String RESOURCE = "placement-digests.txt";

    @Test
    void placementsMatchTheRecordedDigests() throws IOException {
        GoldenDigests.assertMatch(PlacementGoldenTest.class, RESOURCE, digests(), "placement");
    }

    private static final List<String> ALGORITHMS = List.of("moelab", "moelab:global", "moelab:hierarchical",
            "moelab:global:swaps=0", "deepseek", "deepseek:global", "snake", "snake:global");

    static Map<String, String> digests() {
        Map<String, String> out = new LinkedHashMap<>();
        for (BenchmarkShape shape : BenchmarkShape.values()) {
            LoadMatrix load = shape.load();
            for (String spec : ALGORITHMS) {
                if (spec.contains("hierarchical") && !shape.topology().groupsDivideNodes()) {
                    continue;
                }
                out.put(shape.cliName() + " " + spec,
                        digest(Algorithms.byName(spec).rebalance(BalancingRequest.of(load, shape.topology()))));
            }
        }
        // Forecast, hedge and migration: a sequence of windows, each planned with the earlier ones as history and
        // the placement the previous window produced in service. Real DeepSeek-V3 loads (one window per builtin
        // prefill trace) and a synthetic ADRS-shaped trace.
        List<LoadMatrix> real = new ArrayList<>();
        for (String name : List.of("prefill_in512", "prefill_in1024", "prefill_in2048", "prefill_in4096",
                "prefill_in1000out1000", "prefill_in1800out100", "prefill_in2000out100", "prefill_in500out1500")) {
            real.add(BuiltinTraces.read("deepseek-v3/" + name).step(0));
        }
        ExpertLoadTrace synthetic = SyntheticTraceGenerator.generate(
                SyntheticTraceSpec.defaults(26, 64, 10, 7).withRouting(4096, 6));
        Map<String, List<LoadMatrix>> sequences = Map.of("dsv3", real, "adrs", synthetic.stepList());
        Topology dsv3 = BenchmarkShape.DSV3_PREFILL.topology();
        for (String sequence : List.of("dsv3", "adrs")) {
            for (String spec : List.of("moelab", "moelab:global", "moelab:global:tolerance=0.05",
                    "moelab:hierarchical:hedge=0:forecast=0.5")) {
                BalancerAlgorithm balancer = Algorithms.byName(spec);
                List<LoadMatrix> history = new ArrayList<>();
                Placement previous = null;
                for (LoadMatrix w : sequences.get(sequence)) {
                    previous = balancer.rebalance(new BalancingRequest(w, history, dsv3, previous));
                    history.add(w);
                    out.put(sequence + " window " + history.size() + " " + spec, digest(previous));
                }
            }
        }
        SplittableRandom random = new SplittableRandom(20261202);
        for (int i = 0; i < 300; i++) {
            Topology t = randomTopology(random);
            boolean hierarchicalOk = t.groupsDivideNodes();
            int experts = hierarchicalOk ? t.groups() * (1 + random.nextInt(t.replicas() / t.groups()))
                    : 1 + random.nextInt(t.replicas());
            int layers = 1 + random.nextInt(3);
            int kind = random.nextInt(4);
            double[][] w = new double[layers][experts];
            for (double[] row : w) {
                for (int e = 0; e < experts; e++) {
                    row[e] = switch (kind) {
                        case 0 -> random.nextInt(5); // ties and zeros
                        case 1 -> random.nextInt(1_000_000) / 1000.0;
                        case 2 -> random.nextInt(3) == 0 ? 0 : Math.exp(4 * random.nextDouble()); // skew
                        default -> 7; // all equal
                    };
                }
            }
            LoadMatrix load = LoadMatrix.of(w, "weight");
            for (String spec : ALGORITHMS) {
                if (spec.contains("hierarchical") && !hierarchicalOk) {
                    continue;
                }
                out.put("random " + i + " " + spec,
                        digest(Algorithms.byName(spec).rebalance(BalancingRequest.of(load, t))));
            }
        }
        return out;
    }

    private static Topology randomTopology(SplittableRandom random) {
        if (random.nextInt(4) == 0) {
            // The DeepSeek-V3 shapes themselves.
            return random.nextBoolean() ? new Topology(288, 8, 4, 32) : new Topology(288, 8, 18, 144);
        }
        int nodes = 1 + random.nextInt(4);
        int gpus = nodes * (1 + random.nextInt(8));
        int replicas = gpus * (1 + random.nextInt(9));
        int groups = random.nextBoolean() ? nodes * (1 + random.nextInt(3))
                : nodes == 1 ? 1 : (1 + random.nextInt(8)) * nodes + 1 + random.nextInt(nodes - 1);
        if (replicas < groups) {
            groups = nodes;
        }
        return new Topology(replicas, groups, nodes, gpus);
    }

    /** SHA-256 over every layer's slots and ranks (replica counts follow from the slots). */
    static String digest(Placement p) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (int l = 0; l < p.layers(); l++) {
                for (int s = 0; s < p.replicas(); s++) {
                    int e = p.expertAt(l, s);
                    int r = p.rankAt(l, s);
                    md.update(new byte[] {(byte) (e >>> 24), (byte) (e >>> 16), (byte) (e >>> 8), (byte) e,
                            (byte) r});
                }
            }
            return HexFormat.of().formatHex(md.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
