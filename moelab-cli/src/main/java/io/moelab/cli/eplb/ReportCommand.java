package io.moelab.cli.eplb;

import io.moelab.cli.support.Lists;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.OutputLock;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Plots;
import io.moelab.cli.support.Progress;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.AlgorithmSpec;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.LoadForecast;
import io.moelab.eplb.eval.AlgorithmReport;
import io.moelab.eplb.eval.BenchmarkShape;
import io.moelab.eplb.eval.EplbSuite;
import io.moelab.eplb.eval.EvaluationReport;
import io.moelab.eplb.eval.PlacementEvaluator;
import io.moelab.eplb.eval.RebalanceTimer;
import io.moelab.eplb.eval.WindowedEvaluation;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.trace.WindowSums;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
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
 * {@code moelab eplb report}: every EPLB result the docs quote, regenerated: the suite side by side, what each
 * part of moelab's balancer buys, migration, history, and rebalance time; markdown tables and PNG plots.
 */
@Command(name = "report", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Regenerate the EPLB results the docs quote: the public algorithms and moelab side by side on "
                + "synthetic drifting, stationary and cycling traffic and on real DeepSeek-V3 workload pairs "
                + "(plan on window i, score on i+1), an ablation of moelab's parts, migration, history, and "
                + "rebalance time.",
                "Writes OUT/RESULTS.md and PNG plots. Takes about a minute and a half on two cores (--cases and "
                + "--timing-rounds 0 make it shorter)."})
public final class ReportCommand implements Callable<Integer>, OptionFields {
    /** The public baselines and moelab, in report order. */
    static final List<String> MAIN = List.of("deepseek", "snake", "snake:global", "moelab:hierarchical",
            "moelab:global");
    /** moelab with one part removed at a time, and the packing of the public node-unconstrained variant. */
    static final List<String> ABLATION = List.of("moelab:global", "moelab:global:hedge=0",
            "moelab:global:history=0", "moelab:global:swaps=0", "moelab:global:migrate=off", "snake:global",
            "moelab:hierarchical");
    /** Migration-awareness off, at the default tolerance and at 0.005. */
    static final List<String> MIGRATION = List.of("moelab:global:migrate=off", "moelab:global",
            "moelab:global:tolerance=0.005", "moelab:hierarchical:migrate=off", "moelab:hierarchical",
            "moelab:hierarchical:tolerance=0.005");
    /** History off, forecast without hedging, forecast with hedging. */
    static final List<String> HISTORY = List.of("moelab:global:history=0:migrate=off",
            "moelab:global:hedge=0:migrate=off", "moelab:global:migrate=off");

    @Spec
    private CommandSpec spec;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Directory for RESULTS.md and plots.")
    private Path out;

    @Option(names = "--timing-rounds", defaultValue = "5", paramLabel = "N",
            description = "Rounds of side-by-side timing per shape; 0 skips timing (default: ${DEFAULT-VALUE}).")
    private int timingRounds;

    @Option(names = "--cases", split = ",", paramLabel = "TEXT",
            description = "Only the suite cases whose name contains one of these (default: all).")
    private List<String> only;

    private final StringBuilder md = new StringBuilder();

    @Override
    public Integer call() throws IOException {
        List<EplbSuite.Case> allDrifting = EplbSuite.drifting();
        List<EplbSuite.Case> allStationary = EplbSuite.stationary();
        List<EplbSuite.Case> allPairs = EplbSuite.realPairs();
        List<EplbSuite.Case> drifting = selected(allDrifting);
        List<EplbSuite.Case> stationary = selected(allStationary);
        List<EplbSuite.Case> pairs = selected(allPairs);
        if (timingRounds < 0) {
            throw new InvalidInputException("--timing-rounds", "must be 0 or more, got " + timingRounds);
        }
        if (only != null) {
            // A filter that matches nothing would write an empty report and call it done.
            List<String> names = new ArrayList<>();
            for (List<EplbSuite.Case> cases : List.of(allDrifting, allStationary, allPairs)) {
                cases.forEach(c -> names.add(c.name()));
            }
            InvalidInputException.requireDistinct("--cases", "a case filter", only);
            for (String text : only) {
                if (text.isEmpty()) {
                    throw new InvalidInputException("--cases", "an empty filter matches every case (drop --cases to "
                            + "run them all)");
                }
                if (names.stream().noneMatch(n -> n.contains(text))) {
                    throw new InvalidInputException("--cases", "no case name contains '" + text + "' (cases: "
                            + String.join(", ", names) + ")");
                }
            }
            // A trailing comma, which picocli drops ("cycling," ran as "cycling").
            Lists.requireItems(spec.commandLine(), "--cases");
        }
        // Before minutes of work: a bad --out would otherwise fail only after them.
        Outputs.checkDirectory("--out", out, "RESULTS.md");
        // Held until the files are in place: two runs on one --out at the same time could mix their files.
        try (OutputLock lock = OutputLock.start("--out", out)) {
            // The plots and RESULTS.md appear together, or none (a failure part-way replaces none of an earlier
            // run's).
            AtomicFiles.together(() -> {
                write(drifting, stationary, pairs);
                lock.ensureLocked();
            });
        }
        PrintWriter w = spec.commandLine().getOut();
        w.println("wrote " + out.resolve("RESULTS.md") + " and plots in " + out);
        w.flush();
        return 0;
    }

    /** Runs every section and writes the plots and RESULTS.md. */
    private void write(List<EplbSuite.Case> drifting, List<EplbSuite.Case> stationary, List<EplbSuite.Case> pairs)
            throws IOException {
        int steps = drifting.size() * 2 + stationary.size() + pairs.size() + BenchmarkShape.values().length;
        md.append("# EPLB results\n\n");
        md.append(String.format(Locale.ROOT, "Generated by `%s` on %s: %s. GPU balancedness = Σ over layers of mean "
                        + "GPU load / Σ over layers of max GPU load "
                        + "on the window after the one planned on (1 = perfect); bound = an upper bound on it for any "
                        + "placement (docs/EPLB.md); experts moved = expert copies sent to a GPU per rebalance; µs = "
                        + "median rebalance time in the evaluation (history and migration included).%n%n", command(),
                LocalDate.now(), machine(Runtime.getRuntime().availableProcessors())));
        try (Progress progress = Progress.start("report", steps)) {
            int done = 0;
            // Sections of suites --cases left out are left out too, not written empty.
            if (!drifting.isEmpty()) {
                md.append("## Drifting traffic: the algorithms side by side\n\n");
            }
            Map<String, EvaluationReport> driftingAblation = new LinkedHashMap<>();
            for (EplbSuite.Case c : drifting) {
                WindowSums trace = windows(c);
                caseSection(c, trace, MAIN, true);
                progress.stepTo(++done);
                driftingAblation.put(c.name(), evaluate(c, trace, union(ABLATION, MIGRATION), false));
                progress.stepTo(++done);
            }
            if (!stationary.isEmpty()) {
                md.append("## Stationary and cycling traffic: what history buys\n\n");
                historySection(stationary, progress, done);
                done += stationary.size();
            }
            Map<String, EvaluationReport> realReports = new LinkedHashMap<>();
            Map<String, PairDetail> realDetails = new LinkedHashMap<>();
            for (EplbSuite.Case c : pairs) {
                WindowSums trace = windows(c);
                realReports.put(c.name(), evaluate(c, trace, union(MAIN, ABLATION), false));
                realDetails.put(c.name(), PairDetail.of(c, trace));
                progress.stepTo(++done);
            }
            if (!pairs.isEmpty()) {
                md.append("## Real DeepSeek-V3 workloads: plan on one, score on another\n\n");
                realSection(realReports);
                realDetailSection(realReports, realDetails);
            }
            if (!driftingAblation.isEmpty() || !realReports.isEmpty()) {
                md.append("## Ablation: what each part of moelab buys\n\n");
                ablationSection(driftingAblation, realReports);
            }
            if (!driftingAblation.isEmpty()) {
                md.append("## Migration: experts moved per rebalance\n\n");
                migrationSection(driftingAblation);
            }
            md.append("## Rebalance time (in-process, side by side)\n\n");
            timingSection(progress, done);
        }
        AtomicFiles.writeString(out.resolve("RESULTS.md"), md.toString());
    }

    /**
     * The command that reproduces this report: its options as given, not only {@code --out} (a report of a few
     * {@code --cases}, or without timing, named the full run's command).
     */
    private String command() {
        StringBuilder sb = new StringBuilder("bin/moelab eplb report --out ").append(shellWord(out.toString()));
        if (only != null) {
            sb.append(" --cases ").append(shellWord(String.join(",", only)));
        }
        if (timingRounds != 5) {
            sb.append(" --timing-rounds ").append(timingRounds);
        }
        return sb.toString();
    }

    /**
     * The machine as RESULTS.md's header says it, with {@code cores} cores: {@code 1 core, Java 25, Linux amd64} (it
     * read "1 cores").
     */
    static String machine(int cores) {
        return Nouns.count(cores, "core") + ", Java " + Runtime.version() + ", " + System.getProperty("os.name") + " "
                + System.getProperty("os.arch");
    }

    /** The sentence before the timing table, for {@code rounds} rounds ("1 alternating round": it read "rounds"). */
    static String timingNote(int rounds) {
        return "One rebalance of every layer, no history, single thread unless marked parallel; median and p90 over "
                + Nouns.count(rounds, "alternating round") + " after 1 s of warm-up each (`bin/moelab eplb bench`). "
                + "JMH figures are in docs/BENCHMARKS.md.\n\n";
    }

    /** {@code text} as one shell word: as it is when it holds no character a shell treats specially, else quoted. */
    static String shellWord(String text) {
        return !text.isEmpty() && text.matches("[A-Za-z0-9._/:,=+@%-]+") ? text
                : "'" + text.replace("'", "'\\''") + "'";
    }

    private List<EplbSuite.Case> selected(List<EplbSuite.Case> cases) {
        return only == null ? cases
                : cases.stream().filter(c -> only.stream().anyMatch(c.name()::contains)).toList();
    }

    private static List<String> union(List<String> a, List<String> b) {
        List<String> all = new ArrayList<>(a);
        for (String s : b) {
            if (!all.contains(s)) {
                all.add(s);
            }
        }
        return all;
    }

    /**
     * A case's trace summed into its windows, once for all its evaluations (each summed them again); only the
     * windows are kept.
     */
    private static WindowSums windows(EplbSuite.Case c) {
        return WindowSums.of(c.trace().get(), c.window());
    }

    /** Evaluates the applicable specs (hierarchical ones only where groups divide nodes). */
    private static EvaluationReport evaluate(EplbSuite.Case c, WindowSums trace, List<String> specs,
                                             boolean hindsight) {
        List<BalancerAlgorithm> algorithms = specs.stream().filter(s -> applicable(s, c.topology()))
                .map(Algorithms::byName).toList();
        long warmup = c.kind() == EplbSuite.Kind.REAL_PAIR ? 20 : 200;
        WindowedEvaluation.Options options = new WindowedEvaluation.Options(c.window(), 32, warmup, 3, hindsight);
        return WindowedEvaluation.run(trace, c.topology(), algorithms, options, WindowedEvaluation.Progress.NONE);
    }

    private static boolean applicable(String spec, Topology topology) {
        return !spec.contains("hierarchical") || topology.groupsDivideNodes();
    }

    private void caseSection(EplbSuite.Case c, WindowSums trace, List<String> specs, boolean withHindsight)
            throws IOException {
        EvaluationReport report = evaluate(c, trace, specs, false);
        if (withHindsight) {
            report = report.with(evaluate(c, trace, List.of("snake:global", "moelab:global"), true).algorithms());
        }
        md.append(String.format(Locale.ROOT, "### %s%n%n%s; %s; windows of %d steps, %d scored.%n%n", c.name(),
                c.description(), c.topology(), c.window(), report.scoredWindows()));
        md.append("| algorithm | mode | GPU balancedness | of bound | slot balancedness | experts moved | µs |\n");
        md.append("|---|---|---:|---:|---:|---:|---:|\n");
        for (AlgorithmReport a : report.algorithms()) {
            md.append(String.format(Locale.ROOT, "| %s | %s | %.4f | %.3f | %.4f | %.0f | %.0f |%n", a.algorithm(),
                    mode(a.algorithm(), c.topology()), a.meanGpuBalancedness(),
                    a.meanGpuBalancedness() / report.meanBound(), a.meanSlotBalancedness(), a.meanExpertsMoved(),
                    a.timing().medianMillis() * 1000));
        }
        md.append(String.format(Locale.ROOT, "%nBound (mean over windows): %.4f.%n%n", report.meanBound()));
        String png = slug(c.name()) + ".png";
        Plots.lines(out.resolve(png), c.name() + ": GPU balancedness per window (" + c.topology() + ")",
                "scored window", "GPU balancedness", EvaluateCommand.balancednessSeries(report),
                new double[] {0.4, 1.0});
        md.append("![").append(c.name()).append("](").append(png).append(")\n\n");
    }

    private void historySection(List<EplbSuite.Case> cases, Progress progress, int done) throws IOException {
        md.append("moelab:global without migration awareness, so only planning differs. ");
        md.append("Closure = (with history - last window only) / (hindsight - last window only): the share of the "
                + "gap to perfect forecasts that history closes. With unpredictable fluctuations no forecaster can "
                + "close more than about 29% (docs/EPLB.md explains why).\n\n");
        md.append("| case | last window only | forecast, no hedge | forecast + hedge | hindsight | closure "
                + "| model |\n");
        md.append("|---|---:|---:|---:|---:|---:|---|\n");
        for (EplbSuite.Case c : cases) {
            WindowSums trace = windows(c);
            EvaluationReport r = evaluate(c, trace, HISTORY, false);
            EvaluationReport h = evaluate(c, trace, List.of("moelab:global"), true);
            double last = r.algorithms().get(0).meanGpuBalancedness();
            double full = r.algorithms().get(2).meanGpuBalancedness();
            double ideal = h.algorithms().get(0).meanGpuBalancedness();
            md.append(String.format(Locale.ROOT, "| %s: %s | %.4f | %.4f | %.4f | %.4f | %.0f%% | %s |%n", c.name(),
                    c.description(), last, r.algorithms().get(1).meanGpuBalancedness(), full, ideal,
                    100 * (full - last) / (ideal - last), ForecastProbe.model(c, trace)));
            Map<String, double[]> series = new LinkedHashMap<>();
            series.put("last window only", r.algorithms().get(0).windowGpuBalancedness());
            series.put("forecast + hedge", r.algorithms().get(2).windowGpuBalancedness());
            series.put("hindsight", h.algorithms().get(0).windowGpuBalancedness());
            String png = slug(c.name()) + ".png";
            Plots.lines(out.resolve(png), c.name() + ": GPU balancedness per window, moelab:global", "scored window",
                    "GPU balancedness", series, new double[] {0.4, 1.0});
            progress.stepTo(++done);
        }
        md.append("\n");
        for (EplbSuite.Case c : cases) {
            md.append("![").append(c.name()).append("](").append(slug(c.name())).append(".png)\n");
        }
        md.append("\n");
    }

    private void realSection(Map<String, EvaluationReport> reports) throws IOException {
        md.append("GPU balancedness on the second workload of each pair.\n\n| pair | bound |");
        for (String s : MAIN) {
            md.append(' ').append(s).append(" |");
        }
        md.append("\n|---|---:|").append("---:|".repeat(MAIN.size())).append('\n');
        Map<String, double[]> series = new LinkedHashMap<>();
        int i = 0;
        for (Map.Entry<String, EvaluationReport> e : reports.entrySet()) {
            EvaluationReport r = e.getValue();
            md.append(String.format(Locale.ROOT, "| %s | %.4f |", e.getKey(), r.meanBound()));
            for (String s : MAIN) {
                AlgorithmReport a = find(r, s);
                md.append(a == null ? " n/a |" : String.format(Locale.ROOT, " %.4f |", a.meanGpuBalancedness()));
                series.computeIfAbsent(s, k -> new double[reports.size()])[i] = a == null ? Double.NaN
                        : a.meanGpuBalancedness();
            }
            md.append('\n');
            i++;
        }
        md.append("\nPairs in order: ").append(String.join("; ", reports.keySet())).append(".\n\n");
        Plots.lines(out.resolve("real-pairs.png"), "Real DeepSeek-V3 workload pairs: GPU balancedness on the second",
                "pair (see RESULTS.md)", "GPU balancedness", series, new double[] {0.4, 1.0});
        md.append("![real pairs](real-pairs.png)\n\n");
    }

    /**
     * Per real pair, the columns of the drifting cases' tables: each algorithm of {@link #MAIN}, then
     * {@code moelab:global} planned with hindsight. Experts moved: the copies sent to GPUs when the plan on the
     * second workload replaces the plan on the first, which is in service ({@code --previous}); one rebalance per
     * pair, so the evaluation's own count (moves between its consecutive plans) has nothing to count.
     */
    private void realDetailSection(Map<String, EvaluationReport> reports, Map<String, PairDetail> details) {
        md.append("### Each pair in detail\n\n");
        md.append("Experts moved: expert copies sent to a GPU when the plan on the second workload replaces the plan "
                + "on the first, which is in service (migration-aware algorithms keep what they can); hindsight: "
                + "planned on the second workload itself.\n\n");
        md.append("| pair | algorithm | mode | GPU balancedness | of bound | slot balancedness | experts moved "
                + "| µs |\n");
        md.append("|---|---|---|---:|---:|---:|---:|---:|\n");
        for (Map.Entry<String, EvaluationReport> e : reports.entrySet()) {
            EvaluationReport r = e.getValue();
            PairDetail detail = details.get(e.getKey());
            List<AlgorithmReport> rows = new ArrayList<>();
            for (String s : MAIN) {
                AlgorithmReport a = find(r, s);
                if (a != null) {
                    rows.add(a);
                }
            }
            rows.add(detail.hindsight());
            for (AlgorithmReport a : rows) {
                Integer moved = detail.moved().get(a.algorithm());
                md.append(String.format(Locale.ROOT, "| %s | %s | %s | %.4f | %.3f | %.4f | %s | %.0f |%n", e.getKey(),
                        a.algorithm(), mode(a.algorithm(), detail.topology()), a.meanGpuBalancedness(),
                        a.meanGpuBalancedness() / r.meanBound(), a.meanSlotBalancedness(),
                        moved == null ? "n/a" : moved.toString(),
                        a.timing().medianMillis() * 1000));
            }
        }
        md.append('\n');
    }

    /** What a real pair's detail table adds to its evaluation: the hindsight row and the experts moved. */
    private record PairDetail(Topology topology, AlgorithmReport hindsight, Map<String, Integer> moved) {
        static PairDetail of(EplbSuite.Case c, WindowSums trace) {
            AlgorithmReport hindsight = evaluate(c, trace, List.of("moelab:global"), true).algorithms().getFirst();
            List<LoadMatrix> windows = trace.windows();
            Map<String, Integer> moved = new LinkedHashMap<>();
            for (String spec : MAIN) {
                if (applicable(spec, c.topology())) {
                    BalancerAlgorithm algorithm = Algorithms.byName(spec);
                    Placement first = algorithm.rebalance(BalancingRequest.of(windows.get(0), c.topology()));
                    Placement second = algorithm.rebalance(
                            new BalancingRequest(windows.get(1), List.of(), c.topology(), first));
                    moved.put(spec, PlacementEvaluator.migration(first, second).expertsMoved());
                }
            }
            return new PairDetail(c.topology(), hindsight, moved);
        }
    }

    private void ablationSection(Map<String, EvaluationReport> drifting, Map<String, EvaluationReport> real) {
        long prefillPairs = real.keySet().stream().filter(k -> k.startsWith("prefill")).count();
        md.append("Mean GPU balancedness; `moelab:global` is everything on.")
                .append(prefillPairs == 0 ? "" : " Real pairs: mean over the "
                        + Nouns.count(prefillPairs, "prefill pair") + ".")
                .append("\n\n| variant | what changes |");
        for (String name : drifting.keySet()) {
            md.append(' ').append(name).append(" |");
        }
        int realColumns = prefillPairs == 0 ? 0 : 1;
        md.append(realColumns == 0 ? "" : " real prefill pairs |").append("\n|---|---|")
                .append("---:|".repeat(drifting.size() + realColumns)).append('\n');
        Map<String, String> what = Map.of(
                "moelab:global", "everything on",
                "moelab:global:hedge=0", "no hedging (plan on the forecast alone)",
                "moelab:global:history=0", "no forecast (plan on the last window)",
                "moelab:global:swaps=0", "LPT without the improving swaps",
                "moelab:global:migrate=off", "no migration awareness",
                "snake:global", "serpentine packing with colocation instead of LPT + swaps; no forecast",
                "moelab:hierarchical", "expert groups kept on nodes");
        for (String s : ABLATION) {
            md.append("| ").append(s).append(" | ").append(what.get(s)).append(" |");
            for (EvaluationReport r : drifting.values()) {
                AlgorithmReport a = find(r, s);
                md.append(a == null ? " n/a |" : String.format(Locale.ROOT, " %.4f |", a.meanGpuBalancedness()));
            }
            double sum = 0;
            int n = 0;
            for (Map.Entry<String, EvaluationReport> e : real.entrySet()) {
                AlgorithmReport a = find(e.getValue(), s);
                if (a != null && e.getKey().startsWith("prefill")) {
                    sum += a.meanGpuBalancedness();
                    n++;
                }
            }
            if (realColumns > 0) {
                md.append(n == 0 ? " n/a |" : String.format(Locale.ROOT, " %.4f |", sum / n));
            }
            md.append('\n');
        }
        md.append('\n');
    }

    private void migrationSection(Map<String, EvaluationReport> drifting) {
        md.append("| case | variant | GPU balancedness | experts moved | moved vs migrate=off |\n");
        md.append("|---|---|---:|---:|---:|\n");
        for (Map.Entry<String, EvaluationReport> e : drifting.entrySet()) {
            for (String s : MIGRATION) {
                AlgorithmReport a = find(e.getValue(), s);
                if (a == null) {
                    continue;
                }
                String base = s.startsWith("moelab:global") ? "moelab:global:migrate=off"
                        : "moelab:hierarchical:migrate=off";
                AlgorithmReport off = find(e.getValue(), base);
                md.append(String.format(Locale.ROOT, "| %s | %s | %.4f | %.0f | %+.0f%% |%n", e.getKey(), s,
                        a.meanGpuBalancedness(), a.meanExpertsMoved(),
                        100 * (a.meanExpertsMoved() / off.meanExpertsMoved() - 1)));
            }
        }
        md.append('\n');
    }

    private void timingSection(Progress progress, int done) {
        if (timingRounds <= 0) {
            md.append("(timing skipped: --timing-rounds 0)\n\n");
            return;
        }
        md.append(timingNote(timingRounds));
        md.append("| shape | algorithm | median µs | p90 µs |\n|---|---|---:|---:|\n");
        for (BenchmarkShape shape : BenchmarkShape.values()) {
            List<String> specs = union(List.of("moelab:global", "moelab:global:parallel=on"),
                    shape.topology().groupsDivideNodes() ? List.of("moelab:hierarchical", "deepseek", "snake",
                            "snake:global") : List.of("deepseek", "snake"));
            List<RebalanceTimer.Result> results = RebalanceTimer.time(Algorithms.byNames(specs),
                    BalancingRequest.of(shape.load(), shape.topology()), 1000, 300, timingRounds);
            for (RebalanceTimer.Result r : results) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %.0f |%n", shape.cliName(), r.algorithm(),
                        r.medianMicros(), r.p90Micros()));
            }
            progress.stepTo(++done);
        }
        md.append('\n');
    }

    private static AlgorithmReport find(EvaluationReport r, String name) {
        for (AlgorithmReport a : r.algorithms()) {
            if (a.algorithm().equals(name)) {
                return a;
            }
        }
        return null;
    }

    /** global or hierarchical, as the spec resolves on this topology. */
    private static String mode(String algorithm, Topology topology) {
        String name = algorithm.replace(" (hindsight)", "");
        AlgorithmSpec spec = AlgorithmSpec.parse(name);
        return switch (spec.mode()) {
            case GLOBAL -> "global";
            case HIERARCHICAL -> "hierarchical";
            case AUTO -> topology.groupsDivideNodes() ? "auto = hierarchical" : "auto = global";
        };
    }

    private static String slug(String name) {
        return name.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-|-$", "");
    }

    /** The forecast model moelab picks on a case's last window, for the history table. */
    private static final class ForecastProbe {
        static String model(EplbSuite.Case c, WindowSums trace) {
            var windows = trace.windows();
            int last = windows.size() - 2;
            return LoadForecast.of(windows.get(last),
                    windows.subList(0, last), 32, Double.NaN).model();
        }
    }
}
