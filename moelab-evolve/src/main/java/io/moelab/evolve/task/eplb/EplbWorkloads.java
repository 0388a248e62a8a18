package io.moelab.evolve.task.eplb;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;

/** The bundled workloads: small random validity cases (stage 1) and the scoring suites (stage 2). */
final class EplbWorkloads {
    /** DeepSeek-V3 prefill and the ADRS benchmark: R=288 on 4 nodes x 8 GPUs, 8 groups (hierarchical). */
    static final Topology PREFILL = new Topology(288, 8, 4, 32);
    /** DeepSeek-V3 decode: R=288 on 18 nodes x 8 GPUs, 8 groups (global: 8 groups do not divide 18 nodes). */
    static final Topology DECODE = new Topology(288, 8, 18, 144);

    private EplbWorkloads() {
    }

    /**
     * One stage-1 case: plan on {@code first}, then on {@code second} with {@code first} as history and the
     * first plan as the previous placement.
     */
    record Case(String name, LoadMatrix first, LoadMatrix second, Topology topology) {
    }

    /**
     * One stage-2 workload: plan on window i (earlier windows as history), score on window i+1.
     *
     * @param key     metric key suffix
     * @param windows at least two windows, oldest first
     */
    record Workload(String key, List<LoadMatrix> windows, Topology topology) {
    }

    /**
     * A scoring suite.
     *
     * @param workloads       workloads, built on demand
     * @param timingWorkload  index of the workload whose first planning request is timed (the largest shape)
     * @param warmupMillis    untimed calls before timing
     * @param minTimedCalls   timed calls at least
     * @param maxTimedCalls   timed calls at most
     * @param timingMillis    timed calls stop once this much time has passed (after {@code minTimedCalls})
     */
    record Suite(String name, List<Supplier<Workload>> workloads, int timingWorkload, long warmupMillis,
                 int minTimedCalls, int maxTimedCalls, long timingMillis) {
    }

    /** The suite names accepted by {@code --suite}. */
    static final List<String> SUITES = List.of("default", "quick");

    /**
     * {@code default}: synthetic drifting traffic at the ADRS shape (26 x 64, hierarchical) and at the
     * DeepSeek-V3 decode shape (58 x 256 on 144 GPUs, global), and real DeepSeek-V3 loads planned on the
     * prefill_in1024 workload and scored on prefill_in4096; timed at the real 58 x 256 prefill shape.
     * {@code quick}: two tiny synthetic shapes, for tests.
     */
    static Suite suite(String name) {
        return switch (name) {
            case "default" -> new Suite(name, List.of(
                    () -> synthetic("adrs", SyntheticTraceSpec.defaults(26, 64, 600, 1).withRouting(4096, 6), 50,
                            PREFILL),
                    () -> synthetic("dsv3_decode", SyntheticTraceSpec.defaults(58, 256, 300, 3).withRouting(1024, 8),
                            50, DECODE),
                    () -> new Workload("real_dsv3_prefill", List.of(
                            real("deepseek-v3/prefill_in1024"), real("deepseek-v3/prefill_in4096")), PREFILL)),
                    2, 300, 5, 200, 1500);
            case "quick" -> new Suite(name, List.of(
                    () -> synthetic("tiny_hierarchical", SyntheticTraceSpec.defaults(4, 16, 60, 7).withRouting(256, 4),
                            10, new Topology(24, 4, 2, 4)),
                    () -> synthetic("tiny_global", SyntheticTraceSpec.defaults(3, 20, 40, 8).withRouting(256, 4), 10,
                            new Topology(30, 3, 2, 6))),
                    0, 50, 5, 200, 100);
            default -> throw new IllegalArgumentException("unknown suite '" + name + "' (known: "
                    + String.join(", ", SUITES) + ")");
        };
    }

    private static Workload synthetic(String key, SyntheticTraceSpec spec, int window, Topology topology) {
        return new Workload(key, SyntheticTraceGenerator.generate(spec).windows(window), topology);
    }

    private static LoadMatrix real(String name) {
        var trace = BuiltinTraces.read(name);
        return trace.sum(0, trace.steps());
    }

    /**
     * Eight small seeded cases of varied shapes: one layer, experts not divisible by the groups, idle experts,
     * an all-zero layer, equal loads, and both hierarchical and global topologies.
     */
    static List<Case> stageOneCases() {
        Random random = new Random(20250601L);
        return List.of(
                random("1 layer, 8 experts, R=8 on 2 GPUs", random, 1, 8, new Topology(8, 1, 1, 2), 0.2, false),
                random("3 layers, 12 experts, R=16, G=4 on 2 nodes (hierarchical)", random, 3, 12,
                        new Topology(16, 4, 2, 4), 0.2, false),
                random("2 layers, 10 experts (not divisible by G=4), R=12, 3 nodes (global)", random, 2, 10,
                        new Topology(12, 4, 3, 6), 0.2, false),
                random("4 layers, 16 experts, half of them idle, R=24 on 8 GPUs", random, 4, 16,
                        new Topology(24, 4, 2, 8), 0.5, false),
                random("2 layers, 6 experts, layer 0 all zero, R=8 on 4 GPUs", random, 2, 6, new Topology(8, 1, 1, 4),
                        1.0, false),
                random("3 layers, 9 experts, equal loads, R=15 on 5 GPUs", random, 3, 9, new Topology(15, 3, 1, 5),
                        0.0, true),
                random("4 layers, 64 experts, R=80, G=8 on 4 nodes x 4 GPUs", random, 4, 64,
                        new Topology(80, 8, 4, 16), 0.1, false),
                random("2 layers, 20 experts, R=40, G=5 on 4 nodes (global)", random, 2, 20,
                        new Topology(40, 5, 4, 8), 0.1, false));
    }

    /**
     * @param zeroFraction chance that an expert is idle; 1.0 makes layer 0 entirely idle (later layers 0.2)
     * @param ties         every expert gets the same load
     */
    private static Case random(String name, Random random, int layers, int experts, Topology topology,
                               double zeroFraction, boolean ties) {
        return new Case(name, load(random, layers, experts, zeroFraction, ties),
                load(random, layers, experts, zeroFraction, ties), topology);
    }

    private static LoadMatrix load(Random random, int layers, int experts, double zeroFraction, boolean ties) {
        double[][] rows = new double[layers][experts];
        for (int l = 0; l < layers; l++) {
            double zeros = zeroFraction >= 1 ? (l == 0 ? 1.0 : 0.2) : zeroFraction;
            for (int e = 0; e < experts; e++) {
                if (ties) {
                    rows[l][e] = 100;
                } else if (random.nextDouble() >= zeros) {
                    rows[l][e] = Math.rint(Math.exp(random.nextGaussian() * 1.2) * 100);
                }
            }
        }
        return LoadMatrix.of(rows, "weight");
    }
}
