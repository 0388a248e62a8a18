package io.moelab.cli.sim;

import io.moelab.cli.support.Json;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.OutputLock;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Plots;
import io.moelab.cli.support.Progress;
import io.moelab.cli.support.Traces;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.sim.PolicyResult;
import io.moelab.sim.Simulation;
import io.moelab.sim.SimulationReport;
import io.moelab.sim.TraceSource;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import org.knowm.xchart.XYChart;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code moelab sim}: replay a trace through an expert-parallel deployment under each policy. */
@Command(name = "sim", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Simulate expert-parallel serving of a trace: what rebalancing buys in throughput and latency.",
                "Each step's routed tokens run through every MoE layer: dispatch all-to-all, expert compute "
                        + "(roofline per GPU), combine all-to-all; the slowest GPU sets each phase. Policies: none "
                        + "(the initial placement, kept) or EPLB algorithms re-planning every K steps from the last "
                        + "W steps, paying planning time and weight transfer. Formulas: docs/SIM.md.",
                "Writes DIR/summary.json, DIR/balancedness.png, DIR/step_time.png and DIR/steps.csv; prints a table."},
        subcommands = SweepCommand.class)
public final class SimCommand implements Callable<Integer>, OptionFields {
    @Spec
    private CommandSpec spec;

    @Mixin
    private SimOptions options;

    @Override
    public Integer call() throws Exception {
        options.require(spec.commandLine());
        // Before the simulation: a bad --out would otherwise fail only after it.
        Outputs.checkDirectory("--out", options.out, options.inputs(), "summary.json", "steps.csv", "balancedness.png",
                "step_time.png");
        // Held until the files are in place: two runs on one --out at the same time could mix their files.
        try (OutputLock lock = OutputLock.start("--out", options.out);
             Traces.Rereadable sources = options.traceSources()) {
            return run(SimOptions.trace(sources), lock);
        }
    }

    private int run(TraceSource trace, OutputLock lock) throws Exception {
        Simulation simulation = new Simulation(trace, options.modelSpec(), options.clusterSpec(),
                options.simulationOptions());
        var policies = options.policyList();
        SimulationReport report;
        try (Progress progress = Progress.start("sim", (long) trace.steps() * policies.size())) {
            report = simulation.run(policies, (done, total) -> progress.stepTo(done));
        }
        Path dir = options.out;
        // All four files or none (over an earlier run's: none of them replaced).
        AtomicFiles.together(() -> {
            AtomicFiles.writeString(dir.resolve("summary.json"), Json.write(summary(report)) + "\n");
            AtomicFiles.writeString(dir.resolve("steps.csv"), steps(report.policies()));
            plot(report, dir);
            lock.ensureLocked();
        });
        PrintWriter out = spec.commandLine().getOut();
        out.print(options.describe(trace) + "\n" + SimReports.header(report) + "\n"
                + SimReports.table(report.policies()).render());
        out.println();
        out.println("wrote " + dir.resolve("summary.json") + ", balancedness.png, step_time.png, steps.csv");
        out.flush();
        return 0;
    }

    private Map<String, Object> summary(SimulationReport report) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("trace", options.traces);
        json.putAll(SimReports.settings(report));
        json.put("policies", report.policies().stream().map(SimReports::policy).toList());
        return json;
    }

    /** Per-step series, one column pair per policy, for plotting elsewhere. */
    private static String steps(List<PolicyResult> results) {
        StringBuilder sb = new StringBuilder("step");
        for (PolicyResult r : results) {
            sb.append(',').append(r.policy()).append(" step_ms,").append(r.policy()).append(" balancedness");
        }
        sb.append("\r\n");
        for (int t = 0; t < results.getFirst().stepSeconds().length; t++) {
            sb.append(t);
            for (PolicyResult r : results) {
                sb.append(String.format(Locale.ROOT, ",%.6f,%.6f", r.stepSeconds()[t] * 1e3, r.balancedness()[t]));
            }
            sb.append("\r\n");
        }
        return sb.toString();
    }

    private static void plot(SimulationReport report, Path dir) throws java.io.IOException {
        for (Map.Entry<String, XYChart> chart : charts(report).entrySet()) {
            Plots.write(dir.resolve(chart.getKey()), chart.getValue());
        }
    }

    /** The two plots by file name: balancedness and step time per step, steps numbered from 0 as in steps.csv. */
    static Map<String, XYChart> charts(SimulationReport report) {
        Map<String, double[]> balance = new LinkedHashMap<>();
        Map<String, double[]> time = new LinkedHashMap<>();
        for (PolicyResult r : report.policies()) {
            balance.put(r.policy(), r.balancedness());
            double[] ms = r.stepSeconds().clone();
            for (int i = 0; i < ms.length; i++) {
                ms[i] *= 1e3;
            }
            time.put(r.policy(), ms);
        }
        // The table, steps.csv and the docs ("before steps K, 2K") count steps from 0; the plots' default x of
        // 1, 2, ... showed each rebalance's stall one step late.
        double[] steps = new double[report.steps()];
        for (int i = 0; i < steps.length; i++) {
            steps[i] = i;
        }
        String where = report.model().name() + " on " + report.cluster().name() + ", rebalance every "
                + Nouns.count(report.options().rebalanceEvery(), "step");
        Map<String, XYChart> charts = new LinkedHashMap<>();
        charts.put("balancedness.png", Plots.lineChart("GPU balancedness per step (" + where + ")", "step",
                "GPU balancedness (mean / max)", steps, balance, new Plots.Axes(new double[] {0, 1}, false, false)));
        charts.put("step_time.png", Plots.lineChart("Step time, rebalance stalls included (" + where + ")", "step",
                "step time (ms)", steps, time, Plots.Axes.LINEAR));
        return charts;
    }
}
