package io.moelab.cli.eplb;

import io.moelab.cli.support.Choices;
import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.Json;
import io.moelab.cli.support.Lists;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Plots;
import io.moelab.cli.support.Progress;
import io.moelab.cli.support.Table;
import io.moelab.cli.support.Traces;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.AlgorithmSpec;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.PlacementMode;
import io.moelab.eplb.eval.AlgorithmReport;
import io.moelab.eplb.eval.EvaluationReport;
import io.moelab.eplb.eval.WindowedEvaluation;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.trace.WindowSums;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab eplb evaluate}: algorithms side by side on a trace, plan on window i, score on window i+1. */
@Command(name = "evaluate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Score load balancers side by side on a trace (plan on window i, score on window i+1).",
                "Sums W steps into a window, plans on window i (earlier windows as history) and scores GPU "
                        + "balancedness (mean GPU load / max GPU load, summed over layers) on window i+1.",
                "Traces: vLLM-style expert-load JSON (load_history), SGLang recorder dumps (JSON or .pt; a "
                        + "directory of one per_pass dump's rank files is summed pass by pass), moelab compact "
                        + "traces (gzip or not, told from the content), builtin:NAME, or - for standard input "
                        + "(one of them), e.g. 'moelab eplb generate ... --output - | moelab eplb evaluate --trace - "
                        + "...'. Several --trace are "
                        + "concatenated, e.g. one-step SGLang dumps of successive workloads."})
public final class EvaluateCommand implements Callable<Integer>, OptionFields {
    @Spec
    private CommandSpec spec;

    @Option(names = "--trace", required = true, paramLabel = "FILE", description = "Trace file, a directory of one "
            + "SGLang per_pass dump's rank files, builtin:NAME, or - for stdin (the format told from the content); "
            + "repeat to concatenate.")
    private List<String> traces;

    @Option(names = "--window", required = true, paramLabel = "W", description = "Trace steps per window.")
    private int window;

    @Option(names = "--replicas", required = true, paramLabel = "R", description = "Physical expert slots per layer.")
    private int replicas;

    @Option(names = "--groups", paramLabel = "G", defaultValue = "1", description = "Expert groups (default: 1).")
    private int groups;

    @Option(names = "--nodes", paramLabel = "N", defaultValue = "1", description = "Nodes (default: 1).")
    private int nodes;

    @Option(names = "--gpus", required = true, paramLabel = "M", description = "GPUs in total.")
    private int gpus;

    @Option(names = "--algorithms", split = ",", paramLabel = "SPEC",
            description = "Comma-separated NAME[:MODE][:KEY=VALUE...] (default: all: ${COMPLETION-CANDIDATES}).",
            completionCandidates = AlgorithmNames.class)
    private List<String> algorithms;

    @Option(names = "--mode", paramLabel = "MODE",
            description = "Mode for algorithms given without one: auto, global or hierarchical (default: auto).")
    private String mode;

    @Option(names = "--hindsight",
            description = "Also plan each algorithm on the window it is scored on: what perfect forecasts would reach.")
    private boolean hindsight;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "table, json or csv (default: table).")
    private String format;

    @Option(names = "--history", defaultValue = "16", paramLabel = "H",
            description = "Earlier windows given to algorithms that use history (default: ${DEFAULT-VALUE}).")
    private int history;

    @Option(names = "--warmup-ms", defaultValue = "300", paramLabel = "MS",
            description = "Time spent calling each algorithm before timing it (JIT warm-up; "
                    + "default: ${DEFAULT-VALUE}).")
    private long warmupMillis;

    @Option(names = "--output", paramLabel = "FILE", description = "Also write the report (in --format) to FILE; "
            + "- (or /dev/stdout) adds nothing: the report is printed once.")
    private Path output;

    @Option(names = "--plot", paramLabel = "FILE.png",
            description = "Also plot GPU balancedness per scored window, one line per algorithm (a file, not -).")
    private Path plot;

    @Override
    public Map<String, String> fieldOptions() {
        // The topology's checks name eplb rebalance's JSON keys; here the options set them.
        return Map.of("num_replicas", "--replicas", "num_groups", "--groups", "num_nodes", "--nodes",
                "num_gpus", "--gpus", "algorithm", "--algorithms");
    }

    @Override
    public Integer call() throws Exception {
        Lists.requireItems(spec.commandLine(), "--algorithms");
        String format = Choices.require("--format", this.format, "table", "json", "csv");
        PlacementMode defaultMode = mode == null ? PlacementMode.AUTO : PlacementMode.parse(mode);
        if (algorithms != null) {
            Algorithms.requireDistinct(algorithms);
        }
        List<BalancerAlgorithm> balancers = (algorithms == null ? Algorithms.names() : algorithms).stream()
                .map(a -> Algorithms.bySpec(AlgorithmSpec.parse(a).withDefaultMode(defaultMode))).toList();
        Topology topology = new Topology(replicas, groups, nodes, gpus);
        WindowedEvaluation.Options options = new WindowedEvaluation.Options(window, history, warmupMillis, 10, false);
        // Before the evaluation: a bad path would otherwise fail only after it.
        Outputs.refuseStdout("--plot", plot, "a PNG image");
        Outputs.check("--output", output, "--plot", plot, Map.of("--trace", Traces.files(traces)));
        // Window sums as the steps are read, not the steps: a 100,000-step DeepSeek-V3 trace held whole needed 12 GB.
        WindowSums trace = Traces.windows(traces, window);
        EvaluationReport report;
        int plans = Math.max(0, trace.windows().size() - 1) * balancers.size() * (hindsight ? 2 : 1);
        try (Progress progress = Progress.start("evaluate", plans)) {
            report = WindowedEvaluation.run(trace, topology, balancers, options,
                    (done, total) -> progress.stepTo(done));
            if (hindsight) {
                int first = plans / 2;
                EvaluationReport ideal = WindowedEvaluation.run(trace, topology, balancers,
                        options.withHindsight(true), (done, total) -> progress.stepTo(first + done));
                report = report.with(ideal.algorithms());
            }
        }
        String text = switch (format) {
            case "table" -> table(report, trace, defaultMode);
            case "json" -> Json.write(jsonReport(report, trace)) + "\n";
            default -> rows(report).csv();
        };
        Map<String, double[]> series = balancednessSeries(report);
        String title = "GPU balancedness: plan on window i, score on window i+1 (" + report.topology() + ")";
        // The report is printed anyway: an --output that is stdout (-, /dev/stdout) printed it twice.
        Path file = Outputs.isStdout(output) ? null : output;
        // Both files or neither.
        AtomicFiles.together(() -> {
            if (file != null) {
                AtomicFiles.writeString(file, text);
            }
            if (plot != null) {
                Plots.lines(plot, title, "scored window", "GPU balancedness (mean / max)", series,
                        new double[] {0, 1});
            }
        });
        PrintWriter out = spec.commandLine().getOut();
        out.print(text);
        out.flush();
        return 0;
    }

    /**
     * The lines of a plot of GPU balancedness per scored window: each algorithm's, in the report's order, then the
     * bound's ({@code bound}). {@code eplb evaluate --plot} and {@code eplb report} draw the same lines.
     */
    static Map<String, double[]> balancednessSeries(EvaluationReport report) {
        Map<String, double[]> series = new LinkedHashMap<>();
        for (AlgorithmReport a : report.algorithms()) {
            series.put(a.algorithm(), a.windowGpuBalancedness());
        }
        series.put("bound", report.windowBound());
        return series;
    }

    private Map<String, Object> jsonReport(EvaluationReport report, WindowSums trace) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("trace", traces);
        json.put("steps", trace.steps());
        json.putAll(Json.MAPPER.convertValue(report, Map.class));
        json.put("mean_bound", report.meanBound());
        return json;
    }

    private String table(EvaluationReport report, WindowSums trace, PlacementMode defaultMode) {
        // With --mode global or hierarchical every spec that names no mode of its own runs in it: "auto = ... here"
        // described a mode nothing ran in.
        String modes = defaultMode != PlacementMode.AUTO ? "--mode " + defaultMode.cliName()
                : report.topology().groupsDivideNodes() ? "auto = hierarchical here" : "auto = global here";
        StringBuilder sb = new StringBuilder();
        sb.append("trace: ").append(String.join(" + ", traces.stream().map(Inputs::name).toList())).append(" (")
                .append(Nouns.count(trace.steps(), "step"))
                .append(", ").append(Nouns.count(trace.layers(), "layer")).append(" x ")
                .append(Nouns.count(trace.experts(), "expert")).append(")\n");
        sb.append("window ").append(Nouns.count(report.window(), "step")).append(": ")
                .append(Nouns.count(report.windows(), "window")).append(", ").append(report.scoredWindows())
                .append(" scored (plan on window i, score on window i+1)\n");
        sb.append("topology: ").append(report.topology()).append(" (")
                .append(Nouns.count(report.topology().slotsPerGpu(), "slot")).append(" per GPU; ").append(modes)
                .append(")\n");
        sb.append(String.format(Locale.ROOT, "upper bound on GPU balancedness (mean over scored windows): %.4f%n%n",
                report.meanBound()));
        sb.append(rows(report).render());
        sb.append("\nbalancedness = mean load / max load summed over layers (1 = perfect); of_bound = balancedness / "
                + "bound; moved = experts copied to a new GPU per rebalance; colocated = (layer, GPU) pairs holding "
                + "two replicas of one expert; ms = rebalance time after warm-up\n");
        return sb.toString();
    }

    private static Table rows(EvaluationReport report) {
        Table t = new Table("algorithm", "gpu_balancedness", "of_bound", "min_gpu_balancedness", "slot_balancedness",
                "node_balancedness", "experts_moved", "colocated", "rebalance_ms_median", "rebalance_ms_p90");
        for (AlgorithmReport a : report.algorithms()) {
            t.row(a.algorithm(), Formats.ratio(a.meanGpuBalancedness()),
                    Formats.ratio(a.meanGpuBalancedness() / report.meanBound()), Formats.ratio(a.minGpuBalancedness()),
                    Formats.ratio(a.meanSlotBalancedness()), Formats.ratio(a.meanNodeBalancedness()),
                    Formats.count(a.meanExpertsMoved()), Formats.count(a.meanColocatedPairs()),
                    Formats.millis(a.timing().medianMillis()), Formats.millis(a.timing().p90Millis()));
        }
        return t;
    }
}
