package io.moelab.bench;

import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;

/** The problem shapes the EPLB literature reports times for, with the loads the benchmarks use. */
final class BenchmarkShapes {
    private BenchmarkShapes() {
    }

    /** A load matrix and the topology to place it on. */
    record Shape(LoadMatrix load, Topology topology) {
    }

    /**
     * {@code dsv3-prefill}: DeepSeek-V3 prefill, 58 layers x 256 experts, R=288, G=8, N=4, M=32, on real SGLang
     * loads. {@code adrs-26x64}: the ADRS benchmark shape, 26 x 64, same topology, on 50 synthetic steps.
     * {@code dsv3-decode}: DeepSeek-V3 decode, R=288 on 144 GPUs in 18 nodes (global policy).
     */
    static Shape of(String name) {
        return switch (name) {
            case "dsv3-prefill" -> new Shape(BuiltinTraces.read("deepseek-v3/prefill_in4096").step(0),
                    new Topology(288, 8, 4, 32));
            case "dsv3-decode" -> new Shape(BuiltinTraces.read("deepseek-v3/decode_in1000out1000").step(0),
                    new Topology(288, 8, 18, 144));
            case "adrs-26x64" -> {
                ExpertLoadTrace trace = SyntheticTraceGenerator.generate(
                        SyntheticTraceSpec.defaults(26, 64, 50, 42).withRouting(4096, 6));
                yield new Shape(trace.sum(0, trace.steps()), new Topology(288, 8, 4, 32));
            }
            default -> throw new IllegalArgumentException("unknown shape " + name);
        };
    }
}
