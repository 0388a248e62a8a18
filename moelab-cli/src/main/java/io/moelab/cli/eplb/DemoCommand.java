package io.moelab.cli.eplb;

import io.moelab.cli.support.Choices;
import io.moelab.cli.support.Heap;
import io.moelab.cli.support.Json;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.Progress;
import io.moelab.cli.support.Table;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.eval.AlgorithmReport;
import io.moelab.eplb.eval.EvaluationReport;
import io.moelab.eplb.eval.WindowedEvaluation;
import io.moelab.eplb.trace.BuiltinTraces;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.WindowSums;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code moelab eplb demo}: every algorithm on a built-in synthetic trace and on real DeepSeek-V3 loads, side
 * by side. Needs no files.
 */
@Command(name = "demo", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Compare every load balancer on built-in synthetic and real DeepSeek-V3 loads.",
                "A synthetic trace (DeepSeek-V2-Lite-like: 26 MoE layers x 64 experts, top-6, drifting) and real "
                        + "DeepSeek-V3 loads recorded by SGLang (four prefill workloads in sequence: plan on one, "
                        + "score on the next), both on 288 slots over 32 GPUs in 4 nodes with 8 expert groups."})
public final class DemoCommand implements Callable<Integer>, OptionFields {
    static final Topology TOPOLOGY = new Topology(288, 8, 4, 32);
    static final List<String> REAL = List.of("deepseek-v3/prefill_in512", "deepseek-v3/prefill_in1024",
            "deepseek-v3/prefill_in2048", "deepseek-v3/prefill_in4096");

    @Spec
    private CommandSpec spec;

    @Option(names = "--seed", defaultValue = "2026", paramLabel = "K",
            description = "Seed of the synthetic trace (default: ${DEFAULT-VALUE}).")
    private long seed;

    @Option(names = "--steps", defaultValue = "1200", paramLabel = "S",
            description = "Synthetic trace steps (default: ${DEFAULT-VALUE}).")
    private int steps;

    @Option(names = "--window", defaultValue = "50", paramLabel = "W",
            description = "Synthetic steps per window (default: ${DEFAULT-VALUE}).")
    private int window;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "table or json (default: table).")
    private String format;

    /** The algorithms compared: moelab in both modes, the public baselines in both modes, no balancing. */
    static final List<String> ALGORITHMS = List.of("moelab:global", "moelab:hierarchical", "deepseek", "snake",
            "snake:global", "static");

    @Override
    public Integer call() {
        String format = Choices.require("--format", this.format, "table", "json");
        List<BalancerAlgorithm> balancers = Algorithms.byNames(ALGORITHMS);
        SyntheticTraceSpec synthSpec = SyntheticTraceSpec.defaults(26, 64, steps, seed).withRouting(4096, 6);
        // Summed into windows as it is generated: the windows are held, not the trace.
        Heap.requireWindows("--steps", synthSpec, window);
        EvaluationReport synthetic;
        EvaluationReport real;
        int syntheticPlans = Math.max(0, steps / Math.max(1, window) - 1);
        int total = (syntheticPlans + REAL.size() - 1) * balancers.size();
        try (Progress progress = Progress.start("demo", total)) {
            WindowSums synthWindows = new WindowSums(window);
            SyntheticTraceGenerator.generate(synthSpec, SyntheticTraceGenerator.Progress.NONE, synthWindows);
            synthetic = WindowedEvaluation.run(synthWindows, TOPOLOGY, balancers,
                    WindowedEvaluation.Options.window(window), (done, all) -> progress.stepTo(done));
            ExpertLoadTrace realTrace = ExpertLoadTrace.concat(REAL.stream().map(BuiltinTraces::read).toList());
            real = WindowedEvaluation.run(realTrace, TOPOLOGY, balancers, WindowedEvaluation.Options.window(1),
                    (done, all) -> progress.stepTo(syntheticPlans * balancers.size() + done));
        }
        PrintWriter out = spec.commandLine().getOut();
        if (format.equals("json")) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("synthetic", Json.MAPPER.convertValue(synthetic, Map.class));
            json.put("real", Json.MAPPER.convertValue(real, Map.class));
            out.println(Json.write(json));
            return 0;
        }
        out.printf(Locale.ROOT, "moelab eplb demo: plan on window i, score GPU balancedness on window i+1 "
                + "(mean GPU load / max GPU load, summed over layers; 1 = perfect)%n");
        out.printf(Locale.ROOT, "  synthetic: %d layers x %d experts, top-%d, %d steps (seed %d) in windows of %d "
                        + "steps: %d plans%n", synthSpec.layers(), synthSpec.experts(), synthSpec.topK(),
                synthSpec.steps(), seed, window, synthetic.scoredWindows());
        out.printf(Locale.ROOT, "  real: DeepSeek-V3 (58 layers x 256 experts) SGLang prefill loads, in512 -> in1024 "
                + "-> in2048 -> in4096: %d plans%n", real.scoredWindows());
        out.printf(Locale.ROOT, "  topology: %s (%d slots per GPU)%n%n", TOPOLOGY, TOPOLOGY.slotsPerGpu());
        Table table = new Table("algorithm", "synthetic", "real", "ms synthetic", "ms real", "moved synthetic",
                "moved real", "colocated real", "description");
        for (int i = 0; i < balancers.size(); i++) {
            AlgorithmReport s = synthetic.algorithms().get(i);
            AlgorithmReport r = real.algorithms().get(i);
            table.row(s.algorithm(), Formats.ratio(s.meanGpuBalancedness()), Formats.ratio(r.meanGpuBalancedness()),
                    Formats.millis(s.timing().medianMillis()), Formats.millis(r.timing().medianMillis()),
                    Formats.count(s.meanExpertsMoved()), Formats.count(r.meanExpertsMoved()),
                    Formats.count(r.meanColocatedPairs()),
                    balancers.get(i).description());
        }
        out.print(table.render());
        out.printf(Locale.ROOT, "%nglobal: any replica on any GPU; hierarchical: expert groups stay on their node "
                + "(DeepSeek's default here). ms: median rebalance time after warm-up (moelab includes its forecast "
                + "over earlier windows); moved: experts copied to a new GPU per rebalance; colocated: (layer, GPU) "
                + "pairs holding two replicas of one expert. 'moelab eplb evaluate --help' scores your own traces; "
                + "'moelab eplb report' regenerates every published result.%n");
        out.flush();
        return 0;
    }
}
