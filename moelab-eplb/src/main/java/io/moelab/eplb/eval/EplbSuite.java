package io.moelab.eplb.eval;

import io.moelab.eplb.Topology;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * The workloads moelab's EPLB results are reported on: synthetic drifting traffic at the shapes the
 * literature uses, stationary and cycling traffic (where history can help), and real DeepSeek-V3 loads,
 * planned on one workload and scored on another. Everything is deterministic.
 */
public final class EplbSuite {
    private static final Topology PREFILL = new Topology(288, 8, 4, 32);
    private static final Topology DECODE = new Topology(288, 8, 18, 144);

    /** What a case exercises. */
    public enum Kind {
        /** Synthetic traffic that drifts: random walk, mean-reverting noise, cycling domain mix. */
        DRIFTING,
        /** Synthetic traffic around a fixed or periodic mean: the case for forecasting from history. */
        STATIONARY,
        /** Real loads: plan on one workload, score on another. */
        REAL_PAIR
    }

    /**
     * One workload.
     *
     * @param name        short name
     * @param description one line for reports
     * @param kind        what it exercises
     * @param trace       builds the trace (deterministic)
     * @param window      steps per window
     * @param topology    the cluster
     */
    public record Case(String name, String description, Kind kind, Supplier<ExpertLoadTrace> trace, int window,
                       Topology topology) {
    }

    private EplbSuite() {
    }

    /** Every case, drifting first, then stationary, then real pairs. */
    public static List<Case> all() {
        List<Case> all = new ArrayList<>(drifting());
        all.addAll(stationary());
        all.addAll(realPairs());
        return all;
    }

    /** Generator defaults (drifting) at the ADRS, DeepSeek-V3 prefill and decode shapes. */
    public static List<Case> drifting() {
        return List.of(
                synthetic("adrs-26x64", "26 x 64, top-6, 4096 tokens/step, 2400 steps", Kind.DRIFTING,
                        SyntheticTraceSpec.defaults(26, 64, 2400, 1).withRouting(4096, 6), 50, PREFILL),
                synthetic("dsv3-prefill", "58 x 256, top-8, 8192 tokens/step, 1200 steps", Kind.DRIFTING,
                        SyntheticTraceSpec.defaults(58, 256, 1200, 2).withRouting(8192, 8), 50, PREFILL),
                synthetic("dsv3-decode", "58 x 256, top-8, 1024 tokens/step, 1200 steps, 144 GPUs", Kind.DRIFTING,
                        SyntheticTraceSpec.defaults(58, 256, 1200, 3).withRouting(1024, 8), 50, DECODE));
    }

    /**
     * Traffic around a stable mean at the ADRS shape: fixed popularity with sampling noise from small batches
     * (unpredictable fluctuations only), and a domain mix cycling every 8 windows with small or large
     * fluctuations on top.
     */
    public static List<Case> stationary() {
        return List.of(
                synthetic("stationary-noise", "fixed popularity, 256 tokens/step, windows of 2 steps", Kind.STATIONARY,
                        new SyntheticTraceSpec(26, 64, 120, 4, 256, 6, SyntheticTraceSpec.Skew.LOGNORMAL, 1.0, 0, 0,
                                5, 0.015, 1, 1, 200, 0), 2, PREFILL),
                synthetic("cycling", "two domains cycling every 8 windows, small fluctuations (0.1)", Kind.STATIONARY,
                        cycling(0.1), 25, PREFILL),
                synthetic("cycling-noisy", "two domains cycling every 8 windows, large fluctuations (0.3)",
                        Kind.STATIONARY, cycling(0.3), 25, PREFILL));
    }

    private static SyntheticTraceSpec cycling(double fluctuation) {
        return new SyntheticTraceSpec(26, 64, 2400, 4, 4096, 6, SyntheticTraceSpec.Skew.LOGNORMAL, 1.0, 0.0,
                fluctuation, 5, 0.015, 2, 0.3, 200, 2.0);
    }

    /**
     * Real DeepSeek-V3 loads recorded by SGLang: every ordered pair of the four distinct prefill workloads
     * (prefill topology) and both orders of the two distinct decode workloads (decode topology).
     */
    public static List<Case> realPairs() {
        List<Case> pairs = new ArrayList<>();
        String[] prefill = {"prefill_in512", "prefill_in1024", "prefill_in2048", "prefill_in4096"};
        for (String from : prefill) {
            for (String to : prefill) {
                if (!from.equals(to)) {
                    pairs.add(pair(from, to, PREFILL));
                }
            }
        }
        pairs.add(pair("decode_in1000out1000", "decode_in1800out100", DECODE));
        pairs.add(pair("decode_in1800out100", "decode_in1000out1000", DECODE));
        return pairs;
    }

    private static Case pair(String from, String to, Topology topology) {
        return new Case(from + " > " + to, "DeepSeek-V3 SGLang loads: plan on " + from + ", score on " + to,
                Kind.REAL_PAIR, () -> ExpertLoadTrace.concat(List.of(BuiltinTraces.read("deepseek-v3/" + from),
                BuiltinTraces.read("deepseek-v3/" + to))), 1, topology);
    }

    private static Case synthetic(String name, String description, Kind kind, SyntheticTraceSpec spec, int window,
                                  Topology topology) {
        return new Case(name, description, kind, () -> SyntheticTraceGenerator.generate(spec), window, topology);
    }
}
