package io.moelab.eplb.algorithm;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
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
 * moelab's rebalance in service, bit for bit, against digests recorded before its forecast and migration step were
 * optimized: windows planned in turn with up to 32 earlier ones as history (so that seasonal models of every period
 * are tried) and the placement the window before produced in service, on the DeepSeek-V3 decode cluster (144 GPUs,
 * where the repair's partner heap matters), on the prefill cluster in both modes, and on random clusters with ties
 * and zeros; and every forecast's model, mean and volatility bits. {@link PlacementGoldenTest} covers shorter
 * sequences; this one reaches the long-history paths that the report's windowed evaluation takes.
 *
 * <p>To re-record after an intended change of results, run with {@code -Dmoelab.golden.write=FILE} and copy
 * FILE over {@code migration-digests.txt}.
 */
class MigrationGoldenTest {
    private static final String RESOURCE = "migration-digests.txt";
    private static final Topology PREFILL = new Topology(288, 8, 4, 32);
    private static final Topology DECODE = new Topology(288, 8, 18, 144);

    @Test
    void rebalancesInServiceMatchTheRecordedDigests() throws IOException {
        GoldenDigests.assertMatch(MigrationGoldenTest.class, RESOURCE, digests(), "result");
    }

    static Map<String, String> digests() {
        Map<String, String> out = new LinkedHashMap<>();
        // Drifting traffic at DeepSeek-V3's width, and two domains cycling every 8 windows (seasonal models win).
        List<LoadMatrix> drifting = SyntheticTraceGenerator.generate(
                SyntheticTraceSpec.defaults(4, 256, 200, 11).withRouting(1024, 8)).windows(5);
        List<LoadMatrix> cycling = SyntheticTraceGenerator.generate(new SyntheticTraceSpec(6, 64, 400, 4, 4096, 6,
                SyntheticTraceSpec.Skew.LOGNORMAL, 1.0, 0.0, 0.2, 5, 0.015, 2, 0.3, 80, 2.0)).windows(10);
        sequence(out, "drifting decode", drifting, DECODE, List.of("moelab:global", "moelab:global:hedge=0"));
        sequence(out, "drifting prefill", drifting, PREFILL,
                List.of("moelab:global", "moelab:hierarchical", "moelab:hierarchical:tolerance=0.02"));
        sequence(out, "cycling prefill", cycling, PREFILL, List.of("moelab:global", "moelab:hierarchical"));
        for (String name : List.of("drifting", "cycling")) {
            List<LoadMatrix> windows = name.equals("drifting") ? drifting : cycling;
            for (int i = 1; i < windows.size(); i += 3) {
                for (double decay : new double[] {Double.NaN, 0.5}) {
                    LoadForecast f = LoadForecast.of(windows.get(i), windows.subList(0, i), 32, decay);
                    out.put("forecast " + name + " window " + i + " decay " + decay, f.model() + ":"
                            + digest(f.mean(), f.volatility()));
                }
            }
        }
        SplittableRandom random = new SplittableRandom(20261205);
        for (int i = 0; i < 24; i++) {
            int nodes = 1 + random.nextInt(4);
            int gpus = nodes * (1 + random.nextInt(8));
            int replicas = gpus * (1 + random.nextInt(6));
            int groups = nodes * (1 + random.nextInt(3));
            int experts = groups * (1 + random.nextInt(Math.max(1, replicas / groups)));
            Topology t = new Topology(replicas, groups, nodes, gpus);
            boolean ties = random.nextBoolean();
            List<LoadMatrix> windows = new ArrayList<>();
            for (int w = 0; w < 12; w++) {
                double[][] load = new double[2][experts];
                for (double[] row : load) {
                    for (int e = 0; e < experts; e++) {
                        row[e] = ties ? random.nextInt(4)
                                : random.nextInt(3) == 0 ? 0 : Math.exp(3 * random.nextDouble());
                    }
                }
                windows.add(LoadMatrix.of(load, "weight"));
            }
            sequence(out, "random " + i, windows, t, List.of("moelab:global", "moelab:hierarchical:tolerance=0.01"));
        }
        return out;
    }

    /** Plans each window with the earlier ones (up to 32) as history and the placement before it in service. */
    private static void sequence(Map<String, String> out, String name, List<LoadMatrix> windows, Topology topology,
                                 List<String> specs) {
        for (String spec : specs) {
            BalancerAlgorithm balancer = Algorithms.byName(spec);
            Placement previous = null;
            for (int i = 0; i < windows.size(); i++) {
                List<LoadMatrix> history = windows.subList(Math.max(0, i - 32), i);
                previous = balancer.rebalance(new BalancingRequest(windows.get(i), history, topology, previous));
                out.put(name + " window " + i + " " + spec, PlacementGoldenTest.digest(previous));
            }
        }
    }

    /** SHA-256 over the bits of every value. */
    private static String digest(double[][] a, double[][] b) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (double[][] m : List.of(a, b)) {
                for (double[] row : m) {
                    for (double v : row) {
                        long bits = Double.doubleToRawLongBits(v);
                        for (int k = 56; k >= 0; k -= 8) {
                            md.update((byte) (bits >>> k));
                        }
                    }
                }
            }
            return HexFormat.of().formatHex(md.digest(), 0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
