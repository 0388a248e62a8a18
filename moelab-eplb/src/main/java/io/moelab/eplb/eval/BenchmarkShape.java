package io.moelab.eplb.eval;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.Supplier;

/**
 * The problem shapes the EPLB literature reports rebalance times for, with the loads timing runs use.
 */
public enum BenchmarkShape {
    /** DeepSeek-V3 prefill: 58 layers x 256 experts, R=288, G=8, N=4, M=32 (hierarchical), real SGLang loads. */
    DSV3_PREFILL("dsv3-prefill", new Topology(288, 8, 4, 32),
            () -> BuiltinTraces.read("deepseek-v3/prefill_in4096").step(0)),
    /** DeepSeek-V3 decode: 58 x 256, R=288 on M=144 GPUs in N=18 nodes (global), real SGLang loads. */
    DSV3_DECODE("dsv3-decode", new Topology(288, 8, 18, 144),
            () -> BuiltinTraces.read("deepseek-v3/decode_in1000out1000").step(0)),
    /** The ADRS benchmark shape: 26 x 64 (DeepSeek-V2-Lite), R=288, G=8, N=4, M=32, 50 synthetic steps. */
    ADRS("adrs", new Topology(288, 8, 4, 32), () -> {
        ExpertLoadTrace trace = SyntheticTraceGenerator.generate(
                SyntheticTraceSpec.defaults(26, 64, 50, 42).withRouting(4096, 6));
        return trace.sum(0, trace.steps());
    });

    private final String cliName;
    private final Topology topology;
    private final Supplier<LoadMatrix> load;

    BenchmarkShape(String cliName, Topology topology, Supplier<LoadMatrix> load) {
        this.cliName = cliName;
        this.topology = topology;
        this.load = load;
    }

    /** The command-line name. */
    public String cliName() {
        return cliName;
    }

    /** The cluster. */
    public Topology topology() {
        return topology;
    }

    /** The load to rebalance (built on each call). */
    public LoadMatrix load() {
        return load.get();
    }

    /**
     * Parses a command-line name ({@code adrs-26x64} is accepted for {@code adrs}).
     *
     * @throws InvalidInputException naming {@code shape}
     */
    public static BenchmarkShape parse(String name) {
        String n = name.toLowerCase(Locale.ROOT);
        for (BenchmarkShape s : values()) {
            if (s.cliName.equals(n) || (s == ADRS && n.equals("adrs-26x64"))) {
                return s;
            }
        }
        throw new InvalidInputException("shape", "unknown shape '" + name + "' (known: "
                + String.join(", ", names()) + ")");
    }

    /** Every command-line name. */
    public static List<String> names() {
        return Arrays.stream(values()).map(BenchmarkShape::cliName).toList();
    }
}
