package io.moelab.cli.eplb;

import io.moelab.cli.support.Choices;
import io.moelab.cli.support.Json;
import io.moelab.cli.support.Lists;
import io.moelab.cli.support.OptionFields;
import io.moelab.cli.support.StatusLine;
import io.moelab.cli.support.Table;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.algorithm.BalancerAlgorithm;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.eval.BenchmarkShape;
import io.moelab.eplb.eval.RebalanceTimer;
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

/** {@code moelab eplb bench}: microseconds per rebalance of each algorithm, in-process, side by side. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Time one rebalance (all layers, one thread unless parallel=on) of each algorithm on a "
                + "standard shape, in-process after warm-up, side by side.",
                "Shapes: dsv3-prefill (58x256, R=288 on 32 GPUs in 4 nodes), dsv3-decode (58x256, R=288 on 144 GPUs "
                        + "in 18 nodes), adrs (26x64, R=288 on 32 GPUs). JMH (bin/bench) is the reference; this is "
                        + "the quick look."})
public final class BenchCommand implements Callable<Integer>, OptionFields {
    @Spec
    private CommandSpec spec;

    @Option(names = "--shape", defaultValue = "dsv3-prefill", paramLabel = "SHAPE",
            description = "dsv3-prefill, dsv3-decode or adrs (default: ${DEFAULT-VALUE}).")
    private String shape;

    @Option(names = "--algorithms", split = ",", paramLabel = "SPEC",
            description = "Algorithms to time (default: moelab:global, moelab, deepseek, snake, snake:global).")
    private List<String> algorithms;

    @Option(names = "--warmup-ms", defaultValue = "1000", paramLabel = "MS",
            description = "Untimed calls per algorithm first, in milliseconds (default: ${DEFAULT-VALUE}).")
    private long warmupMillis;

    @Option(names = "--rounds", defaultValue = "5", paramLabel = "N",
            description = "Rounds of timed turns (default: ${DEFAULT-VALUE}).")
    private int rounds;

    @Option(names = "--round-ms", defaultValue = "400", paramLabel = "MS",
            description = "Timed milliseconds per algorithm per round (default: ${DEFAULT-VALUE}).")
    private long roundMillis;

    @Option(names = "--format", defaultValue = "table", paramLabel = "FORMAT",
            description = "table or json (default: table).")
    private String format;

    @Override
    public Map<String, String> fieldOptions() {
        return Map.of("algorithm", "--algorithms");
    }

    @Override
    public Integer call() {
        Lists.requireItems(spec.commandLine(), "--algorithms");
        String format = Choices.require("--format", this.format, "table", "json");
        BenchmarkShape s = BenchmarkShape.parse(shape);
        List<String> names = algorithms != null ? algorithms
                : List.of("moelab:global", "moelab", "deepseek", "snake", "snake:global");
        List<BalancerAlgorithm> balancers = Algorithms.byNames(names);
        List<RebalanceTimer.Result> results;
        try (StatusLine status = StatusLine.start("eplb bench")) {
            results = RebalanceTimer.time(balancers, BalancingRequest.of(s.load(), s.topology()), warmupMillis,
                    roundMillis, rounds, status::show);
        }
        PrintWriter out = spec.commandLine().getOut();
        if (format.equals("json")) {
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("shape", s.cliName());
            json.put("results", results.stream().map(r -> {
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("algorithm", r.algorithm());
                row.put("median_us", r.medianMicros());
                row.put("p90_us", r.p90Micros());
                row.put("samples", r.samples());
                return row;
            }).toList());
            out.println(Json.write(json));
            return 0;
        }
        out.printf(Locale.ROOT, "shape %s: %s; %s (median and p90 of %s, one rebalance of every layer)%n%n",
                s.cliName(), s.topology(), Runtime.version(), Nouns.count(rounds, "round"));
        Table table = new Table("algorithm", "median_us", "p90_us", "samples");
        for (RebalanceTimer.Result r : results) {
            table.row(r.algorithm(), String.format(Locale.ROOT, "%.1f", r.medianMicros()),
                    String.format(Locale.ROOT, "%.1f", r.p90Micros()), String.valueOf(r.samples()));
        }
        out.print(table.render());
        out.flush();
        return 0;
    }
}
