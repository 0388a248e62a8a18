package io.moelab.cli.sim;

import io.moelab.cli.support.Json;
import io.moelab.cli.support.Lists;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.OutputLock;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Plots;
import io.moelab.cli.support.Progress;
import io.moelab.cli.support.Table;
import io.moelab.cli.support.Traces;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.sim.Policy;
import io.moelab.sim.PolicyResult;
import io.moelab.sim.Simulation;
import io.moelab.sim.SimulationReport;
import io.moelab.sim.Sweep;
import io.moelab.sim.TraceSource;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab sim sweep}: throughput against the rebalance interval and against redundant experts. */
@Command(name = "sweep", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Sweep the rebalance interval (redundancy fixed) and the redundant experts per layer "
                + "(interval fixed), every policy at every point.",
                "Writes DIR/sweep.json, DIR/throughput_vs_interval.png and DIR/throughput_vs_redundant.png; "
                        + "prints tables."})
public final class SweepCommand implements Callable<Integer>, OptionFields {
    @Spec
    private CommandSpec spec;

    @Mixin
    private SimOptions options;

    @Option(names = "--intervals", split = ",", paramLabel = "K",
            description = "Rebalance intervals to try (default: 10,25,50,100,200,400, those shorter than the trace).")
    private List<Integer> intervals;

    @Option(names = "--redundants", split = ",", paramLabel = "R",
            description = "Redundant slots per layer to try (default: the fewest that fill the GPUs evenly and "
                    + "three more steps of one slot per GPU).")
    private List<Integer> redundants;

    @Override
    public Integer call() throws Exception {
        options.require(spec.commandLine());
        Lists.requireItems(spec.commandLine(), "--intervals", "--redundants");
        // Before the sweep: a bad --out would otherwise fail only after it.
        Outputs.checkDirectory("--out", options.out, options.inputs(), "sweep.json", "throughput_vs_interval.png",
                "throughput_vs_redundant.png");
        // Held until the files are in place: two runs on one --out at the same time could mix their files.
        try (OutputLock lock = OutputLock.start("--out", options.out);
             Traces.Rereadable sources = options.traceSources()) {
            return run(SimOptions.trace(sources), lock);
        }
    }

    private int run(TraceSource trace, OutputLock lock) throws Exception {
        ModelSpec model = options.modelSpec();
        ClusterSpec cluster = options.clusterSpec();
        List<Policy> policies = options.policyList();
        Simulation.Options base = options.simulationOptions();
        List<Integer> ks = intervals != null ? intervals
                : List.of(10, 25, 50, 100, 200, 400).stream().filter(k -> k < trace.steps()).toList();
        List<Integer> rs = redundants != null ? redundants
                : Sweep.defaultRedundants(model.experts(), cluster.gpus(), 3);
        List<Sweep.Variant> variants = new ArrayList<>(Sweep.intervals(base, ks, options.window == null));
        try {
            variants.addAll(Sweep.redundants(base, rs, model, cluster));
        } catch (InvalidInputException e) {
            // A count that does not fill the GPUs is named "redundant" by the library; here --redundants listed it.
            throw e.field().equals("redundant") ? e.as("--redundants") : e;
        }
        // The trace against the model (shape, tokens) and every policy in every variant, as each variant's simulation
        // will: a trace of another model was refused only after the warnings about its length, and a policy that
        // cannot plan where a later variant first rebalances only after the earlier variants had run.
        List<Simulation> simulations = Sweep.requireCanRun(trace, model, cluster, policies, variants);
        // After the values are checked: bad input is one error line, without warnings before it.
        warnAboutShortTraces(trace.steps(), ks, rs, base.rebalanceEvery());
        List<Sweep.Point> points;
        try (Progress progress = Progress.start("sweep", (long) trace.steps() * policies.size() * variants.size())) {
            points = Sweep.run(variants, simulations, policies, (done, total) -> progress.stepTo(done));
        }
        List<Sweep.Point> byInterval = points.stream()
                .filter(p -> p.parameter() == Sweep.Parameter.REBALANCE_EVERY).toList();
        List<Sweep.Point> byRedundant = points.stream().filter(p -> p.parameter() == Sweep.Parameter.REDUNDANT)
                .toList();
        Path dir = options.out;
        String where = model.name() + " on " + cluster.name();
        // Every file or none.
        AtomicFiles.together(() -> {
            AtomicFiles.writeString(dir.resolve("sweep.json"), Json.write(json(trace, byInterval, byRedundant))
                    + "\n");
            if (!byInterval.isEmpty()) {
                plot(dir.resolve("throughput_vs_interval.png"), "Throughput vs rebalance interval (" + where + ")",
                        "rebalance every K steps (log scale)", byInterval, policies, true);
            }
            if (!byRedundant.isEmpty()) {
                plot(dir.resolve("throughput_vs_redundant.png"), "Throughput vs redundant experts (" + where
                        + ", rebalance every " + Nouns.count(base.rebalanceEvery(), "step") + ")",
                        "redundant slots per layer",
                        byRedundant, policies, false);
            }
            lock.ensureLocked();
        });
        if (byInterval.isEmpty()) {
            // An earlier sweep's plot in the directory would read as this one's, beside a sweep.json without an
            // interval sweep.
            Files.deleteIfExists(dir.resolve("throughput_vs_interval.png"));
        }
        PrintWriter out = spec.commandLine().getOut();
        out.println(options.describe(trace));
        out.println("model: " + model);
        out.println("cluster: " + cluster);
        if (!byInterval.isEmpty()) {
            out.println();
            out.println("tokens/s by rebalance interval (" + byInterval.getFirst().report().redundant()
                    + " redundant slots per layer; window " + (options.window == null ? "= K" : options.window)
                    + "):");
            out.print(table("K", byInterval, policies, false).render());
        }
        if (!byRedundant.isEmpty()) {
            out.println();
            out.println("tokens/s by redundant slots per layer (rebalance every " + base.rebalanceEvery() + "):");
            out.print(table("redundant", byRedundant, policies, true).render());
        }
        out.println();
        out.println("wrote " + dir.resolve("sweep.json") + (byInterval.isEmpty() ? "" : ", throughput_vs_interval.png")
                + (byRedundant.isEmpty() ? "" : ", throughput_vs_redundant.png"));
        out.flush();
        return 0;
    }

    /**
     * Sweeps that a short trace leaves empty or flat, said on stderr: an interval no shorter than the trace never
     * rebalances, so every policy serves its first placement and the rows are alike (the sweep used to print them
     * without a word, and dropped the interval sweep altogether when no default interval fit).
     */
    private void warnAboutShortTraces(int steps, List<Integer> ks, List<Integer> rs, int rebalanceEvery) {
        PrintWriter err = spec.commandLine().getErr();
        if (intervals == null && ks.isEmpty()) {
            err.println("warning: the trace has " + Nouns.count(steps, "step") + ", fewer than the shortest default "
                    + "interval (10): no interval sweep (give --intervals)");
        }
        List<Integer> never = ks.stream().filter(k -> k >= steps).toList();
        if (!never.isEmpty()) {
            err.println("warning: intervals " + never + " are not shorter than the trace's "
                    + Nouns.count(steps, "step") + ": those runs never rebalance");
        }
        if (!rs.isEmpty() && rebalanceEvery >= steps) {
            err.println("warning: --rebalance-every " + rebalanceEvery + " is not shorter than the trace's "
                    + Nouns.count(steps, "step") + ": the redundancy sweep never rebalances (give a smaller "
                    + "--rebalance-every)");
        }
    }

    private Map<String, Object> json(TraceSource trace, List<Sweep.Point> byInterval,
                                     List<Sweep.Point> byRedundant) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("trace", options.traces);
        json.put("steps", trace.steps());
        json.put("rebalance_every", points(byInterval));
        json.put("redundant", points(byRedundant));
        return json;
    }

    private static List<Map<String, Object>> points(List<Sweep.Point> points) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Sweep.Point p : points) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("value", p.value());
            json.putAll(SimReports.settings(p.report()));
            json.put("policies", p.report().policies().stream().map(SimReports::policy).toList());
            list.add(json);
        }
        return list;
    }

    private static Table table(String parameter, List<Sweep.Point> points, List<Policy> policies, boolean memory) {
        List<String> header = new ArrayList<>(List.of(parameter));
        if (memory) {
            header.add("GB/GPU");
        }
        for (Policy p : policies) {
            header.add(p.name());
        }
        Table table = new Table(header.toArray(String[]::new));
        for (Sweep.Point point : points) {
            List<String> row = new ArrayList<>(List.of(String.valueOf(point.value())));
            if (memory) {
                row.add(String.format(Locale.ROOT, "%.1f", point.report().expertBytesPerGpu() / 1e9));
            }
            for (PolicyResult r : point.report().policies()) {
                row.add(SimReports.tokensPerSecond(r.throughputTokensPerSecond()));
            }
            table.row(row.toArray(String[]::new));
        }
        return table;
    }

    private static void plot(Path png, String title, String xTitle, List<Sweep.Point> points, List<Policy> policies,
                             boolean logX) throws java.io.IOException {
        double[] x = points.stream().mapToDouble(Sweep.Point::value).toArray();
        Map<String, double[]> series = new LinkedHashMap<>();
        for (int i = 0; i < policies.size(); i++) {
            int policy = i;
            series.put(policies.get(i).name(), points.stream().map(Sweep.Point::report)
                    .map(SimulationReport::policies)
                    .mapToDouble(list -> list.get(policy).throughputTokensPerSecond()).toArray());
        }
        XYChart chart = Plots.lineChart(title, xTitle, "throughput (tokens/s)", x, series,
                new Plots.Axes(null, logX, false));
        if (logX) {
            Plots.write(png, ValueLabels.render(chart, x).image()); // XChart's log axis labels only the powers of ten
        } else {
            Plots.write(png, chart);
        }
    }
}
