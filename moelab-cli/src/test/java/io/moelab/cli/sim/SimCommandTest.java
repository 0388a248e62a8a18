package io.moelab.cli.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.cli.LockHolder;
import io.moelab.cli.support.DirectoryLock;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.eplb.trace.TraceFormat;
import io.moelab.sim.Policy;
import io.moelab.sim.PolicyResult;
import io.moelab.sim.Simulation;
import io.moelab.sim.cost.StepModel;
import io.moelab.sim.spec.ClusterSpec;
import io.moelab.sim.spec.ModelSpec;
import io.moelab.sim.spec.SpecFiles;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.math.MathContext;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class SimCommandTest {
    private static final byte[] PNG_MAGIC = {(byte) 0x89, 'P', 'N', 'G'};

    @TempDir
    Path dir;
    private Path trace;
    private ExpertLoadTrace loads;

    /** A DeepSeek-V2-Lite-shaped trace: 26 layers x 64 experts, top-6, 200 steps. */
    @BeforeEach
    void writeTrace() throws Exception {
        loads = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(26, 64, 200, 9).withRouting(2048, 6));
        trace = dir.resolve("trace.mlt");
        TraceFiles.write(loads, trace, TraceFormat.COMPACT);
    }

    private String[] sim(String... extra) {
        List<String> args = new ArrayList<>(List.of("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite",
                "--cluster", "4x8-h100", "--policies", "none,deepseek,moelab", "--rebalance-every", "50", "--window",
                "50", "--planning-ms", "2", "--out", dir.resolve("out").toString()));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void writesTheSummaryPlotsAndTableTheIssueSpecifies() throws Exception {
        Result r = CliRunner.run(sim());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("policy", "tokens/s", "p99 ms", "balancedness", "none", "deepseek", "moelab")
                .contains("96 slots per layer (32 redundant), 3 per GPU")
                // --planning-ms 2 read "planning 2.0 ms", as a Java double.
                .contains("; planning 2 ms)\n");
        Path out = dir.resolve("out");
        JsonNode summary = JsonMapper.builder().build().readTree(out.resolve("summary.json").toFile());
        JsonNode policies = summary.get("policies");
        assertThat(policies).hasSize(3);
        for (JsonNode p : policies) {
            assertThat(p.propertyNames()).contains("policy", "throughput_tokens_per_s", "p50_step_ms", "p99_step_ms",
                    "mean_gpu_balancedness", "migrated_bytes");
        }
        assertThat(policies.get(0).get("policy").asString()).isEqualTo("none");
        assertThat(policies.get(0).get("migrated_bytes").asDouble()).isZero();
        assertThat(policies.get(1).get("migrated_bytes").asDouble()).isPositive();
        assertThat(summary.get("replicas").asInt()).isEqualTo(96);
        assertThat(summary.get("rebalance_every").asInt()).isEqualTo(50);
        assertThat(summary.get("window").asInt()).isEqualTo(50);
        assertThat(summary.get("planning").asString()).isEqualTo("2 ms");
        assertThat(r.out()).contains(String.format(Locale.ROOT, "expert weights %.1f GB per GPU",
                summary.get("expert_memory_gb_per_gpu").asDouble()));
        // Each printed row carries the json's figures, in the table's formats.
        List<String> rows = r.out().lines().map(String::strip).toList();
        double base = policies.get(0).get("throughput_tokens_per_s").asDouble();
        for (JsonNode p : policies) {
            String[] row = rows.stream().filter(l -> l.startsWith(p.get("policy").asString() + " ")).findFirst()
                    .orElseThrow().split("\\s+");
            double tokens = p.get("throughput_tokens_per_s").asDouble();
            assertThat(row).containsExactly(p.get("policy").asString(), String.format(Locale.ROOT, "%.0f", tokens),
                    String.format(Locale.ROOT, "%.3fx", tokens / base),
                    String.format(Locale.ROOT, "%.3f", p.get("p50_step_ms").asDouble()),
                    String.format(Locale.ROOT, "%.3f", p.get("p99_step_ms").asDouble()),
                    String.format(Locale.ROOT, "%.4f", p.get("mean_gpu_balancedness").asDouble()),
                    String.format(Locale.ROOT, "%.1f%%", 100 * p.get("gpu_utilization").asDouble()),
                    p.get("rebalances").asString(),
                    String.format(Locale.ROOT, "%.2f", p.get("migrated_bytes").asDouble() / 1e9),
                    String.format(Locale.ROOT, "%.1f", p.get("stall_s").asDouble() * 1e3));
        }

        // The numbers are the library's, for the same inputs.
        Simulation.Options options = new Simulation.Options(50, 50, -1, 16, false, 2e-3, 0,
                StepModel.Options.defaults());
        PolicyResult expected = new Simulation(loads, ModelSpec.preset("deepseek-v2-lite"),
                ClusterSpec.preset("4x8-h100"), options).run(Policy.parse("deepseek"), Simulation.Progress.NONE);
        assertThat(policies.get(1).get("throughput_tokens_per_s").asDouble())
                .isEqualTo(expected.throughputTokensPerSecond());
        assertThat(policies.get(1).get("p99_step_ms").asDouble()).isEqualTo(expected.p99StepMs());

        for (String png : List.of("balancedness.png", "step_time.png")) {
            assertThat(Arrays.copyOf(Files.readAllBytes(out.resolve(png)), 4)).isEqualTo(PNG_MAGIC);
        }
        List<String> csv = Files.readAllLines(out.resolve("steps.csv"));
        assertThat(csv).hasSize(201);
        assertThat(csv.getFirst()).isEqualTo("step,none step_ms,none balancedness,deepseek step_ms,"
                + "deepseek balancedness,moelab step_ms,moelab balancedness");
    }

    /**
     * A cluster at the accepted minimum rates serves a fraction of a token a second: the table printed its
     * tokens/s as 0 (in sim and in sim sweep). It now prints three significant digits; summary.json and sweep.json
     * keep the full double.
     */
    @Test
    void aVerySlowClustersThroughputIsPrintedWithSignificantDigits() throws Exception {
        Path cluster = Files.writeString(dir.resolve("slow.json"), "{\"nodes\": 4, \"gpus_per_node\": 8, "
                + "\"peak_tflops\": 0.01, \"compute_efficiency\": 0.001, \"hbm_tbps\": 0.001, \"nvlink_gbps\": "
                + "0.001, \"network_gbps\": 0.001, \"nvlink_latency_us\": 1000000, \"network_latency_us\": "
                + "1000000}");
        Result r = CliRunner.run("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                cluster.toString(), "--policies", "none", "--out", dir.resolve("slow").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = JsonMapper.builder().build().readTree(dir.resolve("slow/summary.json").toFile());
        double tokens = summary.get("policies").get(0).get("throughput_tokens_per_s").asDouble();
        BigDecimal three = new BigDecimal(tokens).round(new MathContext(3));
        assertThat(tokens).isStrictlyBetween(0.0, 1.0).isNotEqualTo(three.doubleValue());
        String cell = r.out().lines().map(String::strip).filter(l -> l.startsWith("none ")).findFirst().orElseThrow()
                .split("\\s+")[1];
        assertThat(cell).isNotEqualTo("0");
        assertThat(Double.parseDouble(cell)).isEqualTo(three.doubleValue());

        Result sweep = CliRunner.run("sim", "sweep", "--trace", trace.toString(), "--model", "deepseek-v2-lite",
                "--cluster", cluster.toString(), "--policies", "none", "--intervals", "50", "--redundants", "32",
                "--out", dir.resolve("slow-sweep").toString());
        assertThat(sweep.exitCode()).as(sweep.err()).isZero();
        JsonNode point = JsonMapper.builder().build().readTree(dir.resolve("slow-sweep/sweep.json").toFile())
                .get("rebalance_every").get(0);
        double swept = point.get("policies").get(0).get("throughput_tokens_per_s").asDouble();
        List<String> lines = sweep.out().lines().map(String::strip).toList();
        int k = lines.indexOf("tokens/s by rebalance interval (32 redundant slots per layer; window = K):");
        assertThat(lines.get(k + 2).split("\\s+")).containsExactly("50",
                new BigDecimal(swept).round(new MathContext(3)).stripTrailingZeros().toPlainString());
    }

    /**
     * A cluster at the accepted maximum rates (and no latency) takes some microseconds a step: the table printed its
     * p50 and p99 to three decimals, 0.008 ms (and 0.000 below half a microsecond). They now keep three significant
     * digits; summary.json keeps the double.
     */
    @Test
    void aVeryFastClustersStepTimesArePrintedWithSignificantDigits() throws Exception {
        Path cluster = Files.writeString(dir.resolve("fast.json"), "{\"nodes\": 4, \"gpus_per_node\": 8, "
                + "\"peak_tflops\": 100000, \"compute_efficiency\": 1, \"hbm_tbps\": 1000, \"nvlink_gbps\": "
                + "1000000, \"network_gbps\": 1000000, \"nvlink_latency_us\": 0, \"network_latency_us\": 0}");
        Result r = CliRunner.run("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                cluster.toString(), "--policies", "none", "--out", dir.resolve("fast").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode policy = JsonMapper.builder().build().readTree(dir.resolve("fast/summary.json").toFile())
                .get("policies").get(0);
        String[] row = r.out().lines().map(String::strip).filter(l -> l.startsWith("none ")).findFirst()
                .orElseThrow().split("\\s+");
        for (var column : List.of(Map.entry(3, "p50_step_ms"), Map.entry(4, "p99_step_ms"))) {
            double ms = policy.get(column.getValue()).asDouble();
            assertThat(ms).as(column.getValue()).isStrictlyBetween(0.0, 0.01);
            assertThat(row[column.getKey()]).as(column.getValue()).isNotEqualTo("0.000");
            assertThat(Double.parseDouble(row[column.getKey()])).as(column.getValue())
                    .isEqualTo(new BigDecimal(ms).round(new MathContext(3)).doubleValue());
        }
    }

    /** Each plot's points are steps.csv's rows: the same step numbers (from 0) and values. */
    @Test
    void plotsPlotTheStepsOfTheCsv() throws Exception {
        Path out = dir.resolve("plotted");
        Result r = CliRunner.run("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                "4x8-h100", "--policies", "none,deepseek", "--rebalance-every", "50", "--window", "50", "--planning-ms",
                "2", "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String[]> rows = Files.readAllLines(out.resolve("steps.csv")).stream().skip(1)
                .map(l -> l.split(",")).toList();
        Simulation.Options options = new Simulation.Options(50, 50, -1, 16, false, 2e-3, 0,
                StepModel.Options.defaults());
        var report = new Simulation(TraceFiles.read(trace), ModelSpec.preset("deepseek-v2-lite"),
                ClusterSpec.preset("4x8-h100"), options).run(Policy.parseAll(List.of("none", "deepseek")),
                Simulation.Progress.NONE);
        var series = SimCommand.charts(report).get("balancedness.png").getSeriesMap().get("deepseek");
        assertThat(series.getXData()).hasSize(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertThat(series.getXData()[i]).isEqualTo(Double.parseDouble(rows.get(i)[0]));
            assertThat(series.getYData()[i]).isCloseTo(Double.parseDouble(rows.get(i)[4]), within(1e-6));
        }
        // The step time plot in milliseconds, as steps.csv.
        var time = SimCommand.charts(report).get("step_time.png").getSeriesMap().get("deepseek");
        assertThat(time.getXData()).hasSize(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            assertThat(time.getXData()[i]).isEqualTo(i);
            assertThat(time.getYData()[i]).isCloseTo(Double.parseDouble(rows.get(i)[3]), within(1e-6));
        }
    }

    @Test
    void missingOptionsAreUsageErrors() {
        Result r = CliRunner.run("sim", "--model", "deepseek-v2-lite", "--cluster", "4x8-h100", "--out",
                dir.resolve("x").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString()
                .startsWith("error: Missing required option: '--trace=FILE'");
    }

    @Test
    void badInputGetsOneErrorLineAndWritesNothing() throws Exception {
        Path corrupt = dir.resolve("corrupt.json");
        Files.writeString(corrupt, "{\"load_history\": [{\"logical_expert_load\": [[1, 2], [3");
        Path out = dir.resolve("out");
        List<List<String>> cases = List.of(
                List.of("--model", "deepseek-v3"),
                List.of("--model", "gpt-5"),
                List.of("--cluster", "4x8-a100"),
                List.of("--redundant", "10"),
                List.of("--policies", "none,greedy"),
                List.of("--routing", "random"),
                List.of("--rebalance-every", "0"),
                // Values the library reads as "the default" (-1, NaN, 0) are refused when a user types them.
                List.of("--redundant", "-1"),
                List.of("--redundant", "2147483647"),
                List.of("--planning-ms", "NaN"),
                List.of("--planning-ms", "1e300"),
                List.of("--tokens-per-step", "0"),
                List.of("--tokens-per-step", "1e300"),
                List.of("--combine-bytes", "0"),
                List.of("--dispatch-bytes", "0"),
                // A trailing comma was dropped without a word; an inner empty item read as "empty algorithm name".
                List.of("--policies", "none,deepseek,"),
                List.of("--policies", "none,,moelab"));
        List<String> expected = List.of(
                "error: --trace: has 26 MoE layers x 64 experts, but model deepseek-v3 has 58 x 256",
                "error: --model: unknown model 'gpt-5'",
                "error: --cluster: unknown cluster '4x8-a100'",
                "error: --redundant: 64 experts + 10 redundant = 74 slots do not fill 32 GPUs evenly; try 0 or 32",
                "error: --policies: unknown policy 'greedy'",
                "error: --routing: unknown routing 'random'",
                "error: --rebalance-every: must be at least 1 step, got 0",
                "error: --redundant: must be 0 or more, got -1",
                "error: --redundant: 64 experts + 2147483647 redundant = 2147483711 slots per layer, more than a "
                        + "placement has (at most 65536)",
                "error: --planning-ms: must be a number from 0 to 10000000 ms, got NaN",
                "error: --planning-ms: must be a number from 0 to 10000000 ms, got 1.0E300",
                "error: --tokens-per-step: must be a number > 0 and at most 1e9, got 0",
                "error: --tokens-per-step: must be a number > 0 and at most 1e9, got 1.0E300",
                "error: --combine-bytes: bytes per value must be at least 1, got 0",
                "error: --dispatch-bytes: bytes per value must be at least 1, got 0",
                "error: --policies: empty item in 'none,deepseek,'",
                "error: --policies: empty item in 'none,,moelab'");
        for (int i = 0; i < cases.size(); i++) {
            List<String> args = new ArrayList<>(List.of(sim()));
            List<String> override = cases.get(i);
            int at = args.indexOf(override.get(0));
            if (at >= 0) {
                args.set(at + 1, override.get(1));
            } else {
                args.addAll(override);
            }
            Result r = CliRunner.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as(String.join(" ", override)).isEqualTo(2);
            assertThat(r.errLines()).singleElement().asString().startsWith(expected.get(i));
        }
        // Values are quoted as given ("got 0", "got 2500000000"), not as Java doubles ("0.0", "2.5E9").
        String tokens = "error: --tokens-per-step: must be a number > 0 and at most 1e9, got ";
        String[][] exact = {{"--tokens-per-step", "0", tokens + "0"},
            {"--tokens-per-step", "2.5e9", tokens + "2500000000"},
            {"--planning-ms", "-3", "error: --planning-ms: must be a number from 0 to 10000000 ms, got -3"}};
        for (String[] c : exact) {
            List<String> args = new ArrayList<>(List.of(sim()));
            args.remove(args.indexOf("--planning-ms") + 1);
            args.remove("--planning-ms");
            args.addAll(List.of(c[0], c[1]));
            Result r = CliRunner.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as(c[1]).isEqualTo(2);
            assertThat(r.errLines()).containsExactly(c[2]);
        }
        List<String> args = new ArrayList<>(List.of(sim()));
        args.set(args.indexOf("--trace") + 1, corrupt.toString());
        Result r = CliRunner.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString().startsWith("error: " + corrupt + ": malformed JSON");
        assertThat(out).doesNotExist();

        // An output directory that cannot be made: the path and why, not the bare path; bad input the user fixes.
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        List<String> blocked = new ArrayList<>(List.of(sim()));
        blocked.set(blocked.indexOf("--out") + 1, file.resolve("out").toString());
        Result b = CliRunner.run(blocked.toArray(String[]::new));
        assertThat(b.exitCode()).isEqualTo(2);
        assertThat(b.errLines()).containsExactly("error: --out " + file.resolve("out") + ": " + file
                + " is a file, not a directory");
    }

    /** Sweeps that a short trace leaves empty or flat are said, not printed as if they meant something. */
    @Test
    void sweepWarnsWhereTheTraceIsTooShortToRebalance() throws Exception {
        Path shortTrace = dir.resolve("short.mlt");
        TraceFiles.write(SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(26, 64, 8, 9)
                .withRouting(2048, 6)), shortTrace, TraceFormat.COMPACT);
        // Over an earlier sweep's output: its interval plot must not stay beside a sweep.json without that sweep.
        Path earlier = dir.resolve("short").resolve("throughput_vs_interval.png");
        Files.createDirectories(earlier.getParent());
        Files.write(earlier, PNG_MAGIC);
        Result r = CliRunner.run("sim", "sweep", "--trace", shortTrace.toString(), "--model", "deepseek-v2-lite",
                "--cluster", "4x8-h100", "--policies", "none,moelab", "--planning-ms", "2", "--redundants", "0,32",
                "--out", dir.resolve("short").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(earlier).doesNotExist();
        assertThat(dir.resolve("short").resolve("throughput_vs_redundant.png")).exists();
        assertThat(r.out()).contains("wrote " + dir.resolve("short").resolve("sweep.json")
                + ", throughput_vs_redundant.png");
        assertThat(r.errLines()).filteredOn(l -> l.startsWith("warning: ")).containsExactly(
                "warning: the trace has 8 steps, fewer than the shortest default interval (10): no interval sweep "
                        + "(give --intervals)",
                "warning: --rebalance-every 100 is not shorter than the trace's 8 steps: the redundancy sweep never "
                        + "rebalances (give a smaller --rebalance-every)");
        Result given = CliRunner.run("sim", "sweep", "--trace", shortTrace.toString(), "--model", "deepseek-v2-lite",
                "--cluster", "4x8-h100", "--policies", "none", "--planning-ms", "2", "--intervals", "4,8",
                "--redundants", "0", "--rebalance-every", "4", "--out", dir.resolve("short2").toString());
        assertThat(given.exitCode()).as(given.err()).isZero();
        assertThat(given.errLines()).filteredOn(l -> l.startsWith("warning: ")).containsExactly(
                "warning: intervals [8] are not shorter than the trace's 8 steps: those runs never rebalance");
        // Bad input on the same short trace: the error alone, not the warnings before it.
        Result bad = CliRunner.run("sim", "sweep", "--trace", shortTrace.toString(), "--model", "deepseek-v2-lite",
                "--cluster", "4x8-h100", "--policies", "none", "--intervals", "0", "--out",
                dir.resolve("short3").toString());
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.errLines()).containsExactly("error: --intervals: must be at least 1 step, got 0");
        Result otherModel = CliRunner.run("sim", "sweep", "--trace", shortTrace.toString(), "--model", "deepseek-v3",
                "--cluster", "4x8-h100", "--policies", "none", "--out", dir.resolve("short5").toString());
        assertThat(otherModel.exitCode()).isEqualTo(2);
        assertThat(otherModel.errLines()).containsExactly(
                "error: --trace: has 26 MoE layers x 64 experts, but model deepseek-v3 has 58 x 256");
        // A policy that cannot plan (one expert group over 4 nodes), where only the redundancy sweep rebalances: it
        // was refused after the interval sweep had run, with that sweep's warning before the error.
        Result cannotPlan = CliRunner.run("sim", "sweep", "--trace", shortTrace.toString(), "--model",
                "deepseek-v2-lite", "--cluster", "4x8-h100", "--policies", "none,deepseek:hierarchical", "--intervals",
                "8", "--redundants", "0", "--rebalance-every", "4", "--out", dir.resolve("short6").toString());
        assertThat(cannotPlan.exitCode()).isEqualTo(2);
        assertThat(cannotPlan.errLines()).containsExactly("error: --policies: 'deepseek:hierarchical' cannot plan for "
                + "32 GPUs on 4 nodes with 1 expert group: hierarchical mode needs the G=1 expert groups to divide "
                + "evenly over the N=4 nodes");
        assertThat(dir.resolve("short6")).doesNotExist();
        // A redundancy that does not fill the GPUs, named by the option that gave it.
        String[][] counts = {{"--redundants", "0,10"}, {"--redundant", "10"}};
        for (String[] c : counts) {
            Result count = CliRunner.run("sim", "sweep", "--trace", shortTrace.toString(), "--model",
                    "deepseek-v2-lite", "--cluster", "4x8-h100", "--policies", "none", "--intervals", "4",
                    "--rebalance-every", "4", c[0], c[1], "--out", dir.resolve("short4").toString());
            assertThat(count.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(count.errLines()).as(c[0]).containsExactly("error: " + c[0] + ": 64 experts + 10 redundant = 74 "
                    + "slots do not fill 32 GPUs evenly; try 0 or 32");
        }
    }

    /** One step, one layer: counted in the singular ("1 layers" and "1 steps" were printed). */
    @Test
    void oneStepOfOneLayerIsCountedInTheSingular() throws Exception {
        Path one = dir.resolve("one.mlt");
        TraceFiles.write(SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(1, 4, 1, 9)
                .withRouting(64, 1)), one, TraceFormat.COMPACT);
        Path model = dir.resolve("one-layer.json");
        Files.writeString(model, "{\"moe_layers\": 1, \"experts\": 4, \"top_k\": 1, \"hidden\": 64, "
                + "\"expert_ffn\": 32}");
        Result r = CliRunner.run("sim", "--trace", one.toString(), "--model", model.toString(), "--cluster",
                "1x2-h100", "--policies", "none", "--rebalance-every", "1", "--out", dir.resolve("one").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("(1 step, 1 layer x 4 experts)", "(1 MoE layer x 4 experts, top-1",
                "rebalance: every 1 step from the last 1 (", "note: the trace has 1 step, so no rebalance");
        Result sweep = CliRunner.run("sim", "sweep", "--trace", one.toString(), "--model", model.toString(),
                "--cluster", "1x2-h100", "--policies", "none", "--redundants", "0", "--rebalance-every", "1",
                "--out", dir.resolve("one-sweep").toString());
        assertThat(sweep.exitCode()).as(sweep.err()).isZero();
        assertThat(sweep.err()).contains("the trace has 1 step, fewer than", "not shorter than the trace's 1 step: ");
        for (String text : List.of(r.out(), sweep.out(), sweep.err())) {
            assertThat(text).doesNotContainPattern("\\b1 (MoE )?(step|layer|expert)s\\b");
        }
        Result shape = CliRunner.run("sim", "--trace", one.toString(), "--model", "deepseek-v3", "--cluster",
                "4x8-h100", "--out", dir.resolve("shape").toString());
        assertThat(shape.errLines()).containsExactly(
                "error: --trace: has 1 MoE layer x 4 experts, but model deepseek-v3 has 58 x 256");
    }

    /**
     * The lines above the table, whole, for settings the other tests leave at their defaults: overlapped migration,
     * measured planning, an interval as long as the trace, and expert weights larger than the GPU's memory; and the
     * line naming what was written. summary.json records the same settings.
     */
    @Test
    void theHeaderSaysWhatWasSimulated() throws Exception {
        // 4x8-h100 with 0.01 GB of HBM a GPU: DeepSeek-V2-Lite's experts (3 matrices of 2048 x 1408 bf16 weights
        // each, 26 layers, 3 slots a GPU: 1.35 GB) do not fit.
        Path cluster = Files.writeString(dir.resolve("small-hbm.json"), "{\"nodes\": 4, \"gpus_per_node\": 8, "
                + "\"peak_tflops\": 989, \"compute_efficiency\": 0.5, \"hbm_tbps\": 3.35, \"nvlink_gbps\": 450, "
                + "\"network_gbps\": 50, \"nvlink_latency_us\": 3, \"network_latency_us\": 10, \"hbm_gb\": 0.01}");
        Path out = dir.resolve("header");
        Result r = CliRunner.run("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                cluster.toString(), "--policies", "none,moelab", "--rebalance-every", "200", "--overlap-migration",
                "--out", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        List<String> lines = r.out().lines().toList();
        assertThat(lines.subList(0, 6)).containsExactly(
                "trace: " + trace + " (200 steps, 26 layers x 64 experts)",
                "model: " + ModelSpec.preset("deepseek-v2-lite"),
                "cluster: " + SpecFiles.cluster(cluster.toString()),
                "placement: 96 slots per layer (32 redundant), 3 per GPU; expert weights 1.3 GB per GPU (more than "
                        + "the GPU's HBM!)",
                "rebalance: every 200 steps from the last 200 (overlapped with serving while weights move; planning "
                        + "measured)",
                "note: the trace has 200 steps, so no rebalance happens before it ends");
        assertThat(lines.getLast()).isEqualTo("wrote " + out.resolve("summary.json")
                + ", balancedness.png, step_time.png, steps.csv");
        JsonNode summary = JsonMapper.builder().build().readTree(out.resolve("summary.json").toFile());
        assertThat(summary.get("expert_memory_gb_per_gpu").asDouble()).isCloseTo(3.0 * 26 * 3 * 2048 * 1408 * 2 / 1e9,
                within(1e-9));
        assertThat(summary.get("experts_fit_in_hbm").asBoolean()).isFalse();
        assertThat(summary.get("overlap_migration").asBoolean()).isTrue();
        assertThat(summary.get("planning").asString()).isEqualTo("measured");
        for (JsonNode p : summary.get("policies")) {
            assertThat(p.get("rebalances").asInt()).isZero();
            assertThat(p.get("migrated_bytes").asDouble()).isZero();
        }
    }

    /** The ends of the ranges the options accept are accepted: free planning, the longest plan, a billion tokens. */
    @Test
    void theEndsOfTheAcceptedRangesRun() throws Exception {
        String[][] cases = {{"--planning-ms", "0", "0 ms"}, {"--planning-ms", "10000000", "10000000 ms"},
            {"--tokens-per-step", "1e9", "measured"}, {"--dispatch-bytes", "1", "measured"}};
        for (String[] c : cases) {
            Path out = dir.resolve("ends-" + c[0].substring(2) + "-" + c[1]);
            Result r = CliRunner.run("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                    "4x8-h100", "--policies", "none", c[0], c[1], "--out", out.toString());
            assertThat(r.exitCode()).as(c[0] + " " + c[1] + ": " + r.err()).isZero();
            JsonNode summary = JsonMapper.builder().build().readTree(out.resolve("summary.json").toFile());
            assertThat(summary.get("planning").asString()).as(c[0]).isEqualTo(c[2]);
        }
    }

    /** The default intervals are those shorter than the trace: on 200 steps, 200 itself would never rebalance. */
    @Test
    void sweepsDefaultIntervalsAreThoseShorterThanTheTrace() throws Exception {
        Result r = CliRunner.run("sim", "sweep", "--trace", trace.toString(), "--model", "deepseek-v2-lite",
                "--cluster", "4x8-h100", "--policies", "none", "--redundants", "32", "--out",
                dir.resolve("defaults").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain("warning");
        JsonNode sweep = JsonMapper.builder().build().readTree(dir.resolve("defaults/sweep.json").toFile());
        List<Integer> values = new ArrayList<>();
        sweep.get("rebalance_every").forEach(p -> values.add(p.get("value").asInt()));
        assertThat(values).containsExactly(10, 25, 50, 100);
    }

    /** The settings record the routing as --routing spells it ("node_local" was the enum constant's name). */
    @Test
    void routingIsRecordedAsTheOptionSpellsIt() throws Exception {
        Result r = CliRunner.run("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                "4x8-h100", "--policies", "none", "--routing", "node-local", "--out", dir.resolve("local").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode summary = JsonMapper.builder().build().readTree(dir.resolve("local/summary.json").toFile());
        assertThat(summary.get("routing").asString()).isEqualTo("node-local");
        Result sweep = CliRunner.run("sim", "sweep", "--trace", trace.toString(), "--model", "deepseek-v2-lite",
                "--cluster", "4x8-h100", "--policies", "none", "--routing", "node-local", "--intervals", "100",
                "--redundants", "32", "--out", dir.resolve("local-sweep").toString());
        assertThat(sweep.exitCode()).as(sweep.err()).isZero();
        JsonNode points = JsonMapper.builder().build().readTree(dir.resolve("local-sweep/sweep.json").toFile());
        assertThat(points.get("rebalance_every").get(0).get("routing").asString()).isEqualTo("node-local");
        assertThat(points.get("redundant").get(0).get("routing").asString()).isEqualTo("node-local");
    }

    @Test
    void sweepRefusesEmptyItemsInItsLists() {
        // "--intervals 25," swept 25 alone: picocli drops a trailing empty item.
        String[][] cases = {{"--intervals", "25,"}, {"--redundants", "0,32,"}, {"--policies", "moelab,"}};
        for (String[] c : cases) {
            Result r = CliRunner.run("sim", "sweep", "--trace", trace.toString(), "--model", "deepseek-v2-lite",
                    "--cluster", "4x8-h100", "--planning-ms", "2", c[0], c[1], "--out",
                    dir.resolve("sweep").toString());
            assertThat(r.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(r.errLines()).containsExactly("error: " + c[0] + ": empty item in '" + c[1] + "'");
        }
        assertThat(dir.resolve("sweep")).doesNotExist();
    }

    @Test
    void sweepWritesJsonAndBothPlots() throws Exception {
        List<String> args = new ArrayList<>(List.of("sim", "sweep", "--trace", trace.toString(), "--model",
                "deepseek-v2-lite", "--cluster", "4x8-h100", "--policies", "none,moelab", "--planning-ms", "2",
                "--rebalance-every", "50", "--intervals", "25,100", "--redundants", "0,32", "--out",
                dir.resolve("sweep").toString()));
        Result r = CliRunner.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).doesNotContain("warning");
        assertThat(r.out()).contains("tokens/s by rebalance interval", "tokens/s by redundant slots per layer",
                "GB/GPU");
        Path out = dir.resolve("sweep");
        JsonNode sweep = JsonMapper.builder().build().readTree(out.resolve("sweep.json").toFile());
        assertThat(sweep.get("rebalance_every")).hasSize(2);
        assertThat(sweep.get("rebalance_every").get(0).get("value").asInt()).isEqualTo(25);
        assertThat(sweep.get("rebalance_every").get(0).get("window").asInt()).isEqualTo(25);
        assertThat(sweep.get("redundant")).hasSize(2);
        assertThat(sweep.get("redundant").get(1).get("replicas").asInt()).isEqualTo(96);
        assertThat(sweep.get("redundant").get(1).get("policies").get(1).get("policy").asString()).isEqualTo("moelab");
        for (String png : List.of("throughput_vs_interval.png", "throughput_vs_redundant.png")) {
            assertThat(Arrays.copyOf(Files.readAllBytes(out.resolve(png)), 4)).isEqualTo(PNG_MAGIC);
        }
        // The printed tables carry the json's figures: tokens/s per policy, and the expert memory per GPU.
        List<String> lines = r.out().lines().map(String::strip).toList();
        int k = lines.indexOf("tokens/s by rebalance interval (32 redundant slots per layer; window = K):");
        assertThat(k).as(r.out()).isNotNegative();
        assertThat(lines.get(k + 1).split("\\s+")).containsExactly("K", "none", "moelab");
        int red = lines.indexOf("tokens/s by redundant slots per layer (rebalance every 50):");
        assertThat(red).as(r.out()).isNotNegative();
        assertThat(lines.get(red + 1).split("\\s+")).containsExactly("redundant", "GB/GPU", "none", "moelab");
        for (int i = 0; i < 2; i++) {
            JsonNode byK = sweep.get("rebalance_every").get(i);
            assertThat(lines.get(k + 2 + i).split("\\s+")).containsExactly(byK.get("value").asString(),
                    tokens(byK, 0), tokens(byK, 1));
            JsonNode byR = sweep.get("redundant").get(i);
            assertThat(lines.get(red + 2 + i).split("\\s+")).containsExactly(byR.get("value").asString(),
                    String.format(Locale.ROOT, "%.1f", byR.get("expert_memory_gb_per_gpu").asDouble()),
                    tokens(byR, 0), tokens(byR, 1));
        }
    }

    /**
     * A trace that cannot be read twice (a pipe, as {@code --trace /dev/stdin} gives) is read once, into a temporary
     * file, and simulated as the file is. Files are read again for the run; a pipe read again would wait for a writer
     * forever.
     */
    @Test
    @Timeout(value = 120, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
    void aTraceFromAPipeIsReadOnce() throws Exception {
        Path fifo = dir.resolve("trace.fifo");
        int made;
        try {
            made = new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor();
        } catch (IOException e) {
            made = -1;
        }
        assumeTrue(made == 0, "mkfifo is needed to make a pipe");
        byte[] bytes = Files.readAllBytes(trace);
        Thread writer = new Thread(() -> {
            try (OutputStream out = Files.newOutputStream(fifo)) {
                out.write(bytes);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
        writer.start();
        List<String> args = new ArrayList<>(List.of(sim()));
        args.set(args.indexOf("--trace") + 1, fifo.toString());
        args.set(args.indexOf("--out") + 1, dir.resolve("piped").toString());
        Result piped = CliRunner.run(args.toArray(String[]::new));
        writer.join();
        assertThat(piped.exitCode()).as(piped.err()).isZero();
        Result file = CliRunner.run(sim());
        assertThat(file.exitCode()).as(file.err()).isZero();
        for (String name : List.of("steps.csv", "summary.json")) {
            assertThat(Files.readString(dir.resolve("piped").resolve(name)).replace(fifo.toString(), trace.toString()))
                    .as(name).isEqualTo(Files.readString(dir.resolve("out").resolve(name)));
        }
    }

    /**
     * {@code --model -} and {@code --cluster -} read the JSON from standard input, as the file with the same bytes
     * (as other inputs of the CLI take {@code -}); errors name standard input, and a second {@code -} is refused.
     */
    @Test
    void modelAndClusterAreReadFromStandardInputAsFiles() throws Exception {
        byte[] model = ("{\"name\": \"toy\", \"moe_layers\": 26, \"experts\": 64, \"top_k\": 6, "
                + "\"hidden\": 2048, \"expert_ffn\": 1408, \"shared_experts\": 2, \"shared_ffn\": 1408}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        byte[] cluster = ("{\"name\": \"pair\", \"nodes\": 4, \"gpus_per_node\": 8, \"peak_tflops\": 900, "
                + "\"hbm_tbps\": 3, \"nvlink_gbps\": 400, \"network_gbps\": 40}")
                .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        Path modelFile = Files.write(dir.resolve("model.json"), model);
        Path clusterFile = Files.write(dir.resolve("cluster.json"), cluster);
        for (String command : List.of("sim", "sweep")) {
            boolean sweep = command.equals("sweep");
            String written = sweep ? "sweep.json" : "summary.json";
            List<String> common = new ArrayList<>(List.of(sim()).subList(1, sim().length));
            common.remove(common.indexOf("--out") + 1);
            common.remove("--out");
            if (sweep) {
                common.addAll(List.of("--intervals", "50", "--redundants", "32"));
            }
            for (String option : List.of("--model", "--cluster")) {
                Path file = option.equals("--model") ? modelFile : clusterFile;
                List<String> args = new ArrayList<>(sweep ? List.of("sim", "sweep") : List.of("sim"));
                args.addAll(common);
                args.set(args.indexOf(option) + 1, file.toString());
                Path fromFile = dir.resolve(command + option + "-file");
                Path fromStdin = dir.resolve(command + option + "-stdin");
                args.addAll(List.of("--out", fromFile.toString()));
                Result r = CliRunner.run(args.toArray(String[]::new));
                assertThat(r.exitCode()).as(r.err()).isZero();
                args.set(args.indexOf(option) + 1, "-");
                args.set(args.indexOf("--out") + 1, fromStdin.toString());
                Result piped = CliRunner.runWithStdin(Files.readAllBytes(file), args.toArray(String[]::new));
                assertThat(piped.exitCode()).as(command + " " + option + ": " + piped.err()).isZero();
                assertThat(fromStdin.resolve(written)).as(command + " " + option)
                        .hasSameTextualContentAs(fromFile.resolve(written));
                // Malformed: the file's error, naming standard input.
                args.set(args.indexOf("--out") + 1, dir.resolve("bad").toString());
                Result bad = CliRunner.runWithStdin("{\"nodes\": ".getBytes(java.nio.charset.StandardCharsets.UTF_8),
                        args.toArray(String[]::new));
                assertThat(bad.exitCode()).isEqualTo(2);
                assertThat(bad.errLines()).singleElement().asString()
                        .startsWith("error: standard input: malformed JSON");
                assertThat(dir.resolve("bad")).doesNotExist();
                // Standard input is read once: a second - among the inputs is refused before anything is read.
                args.set(args.indexOf("--trace") + 1, "-");
                Result twice = CliRunner.runWithStdin(Files.readAllBytes(trace), args.toArray(String[]::new));
                assertThat(twice.exitCode()).isEqualTo(2);
                assertThat(twice.errLines()).containsExactly("error: " + option + ": names standard input (-) as "
                        + "--trace does; it can be read once (name a file for the other)");
                assertThat(dir.resolve("bad")).doesNotExist();
            }
        }
        Result both = CliRunner.run("sim", "--trace", trace.toString(), "--model", "-", "--cluster", "-", "--out",
                dir.resolve("both").toString());
        assertThat(both.errLines()).containsExactly("error: --cluster: names standard input (-) as --model does; it "
                + "can be read once (name a file for the other)");
    }

    private static String tokens(JsonNode point, int policy) {
        return String.format(Locale.ROOT, "%.0f",
                point.get("policies").get(policy).get("throughput_tokens_per_s").asDouble());
    }

    /**
     * Two runs on one --out at the same time: each renamed its files together, but the renames of two processes
     * interleave, so the directory could hold one run's summary.json beside the other's plots. A directory in use is
     * refused up front, one that does not exist yet still works, and the lock file is gone at the end.
     */
    @Test
    void anOutputDirectoryAnotherRunIsUsingIsRefused() throws Exception {
        Path out = dir.resolve("out");
        List<String> files = List.of("balancedness.png", "step_time.png", "steps.csv", "summary.json");
        try (LockHolder other = LockHolder.start(out)) {
            Result r = CliRunner.run(sim());
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.err()).isEqualTo("error: --out " + out + ": another moelab run is using it (pid "
                    + other.pid() + ")\n");
            assertThat(names(out)).containsExactly(DirectoryLock.FILE);
        }
        // Killed, the holder left its lock file, which the next run takes over and removes.
        Result r = CliRunner.run(sim());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(names(out)).isEqualTo(files);
        // Held in this process (a command run in-process): refused too, and the files are left as they were.
        byte[] summary = Files.readAllBytes(out.resolve("summary.json"));
        try (DirectoryLock held = DirectoryLock.acquire("--out", out)) {
            Result again = CliRunner.run(sim("--redundant", "64"));
            assertThat(again.exitCode()).as(again.err()).isEqualTo(2);
            assertThat(again.errLines()).containsExactly("error: --out " + out + ": another moelab run is using it "
                    + "(pid " + ProcessHandle.current().pid() + ")");
        }
        assertThat(out.resolve("summary.json")).hasBinaryContent(summary);

        Path sweep = dir.resolve("sweep");
        String[] args = {"sim", "sweep", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                "4x8-h100", "--policies", "none", "--planning-ms", "2", "--intervals", "50", "--redundants", "32",
                "--out", sweep.toString()};
        try (LockHolder other = LockHolder.start(sweep)) {
            Result s = CliRunner.run(args);
            assertThat(s.exitCode()).as(s.err()).isEqualTo(2);
            assertThat(s.err()).isEqualTo("error: --out " + sweep + ": another moelab run is using it (pid "
                    + other.pid() + ")\n");
            assertThat(names(sweep)).containsExactly(DirectoryLock.FILE);
        }
        Files.delete(sweep.resolve(DirectoryLock.FILE));
        Files.delete(sweep);
        // A directory that does not exist yet: made, locked and written; the lock file is not left in it.
        Result s = CliRunner.run(args);
        assertThat(s.exitCode()).as(s.err()).isZero();
        assertThat(names(sweep)).containsExactly("sweep.json", "throughput_vs_interval.png",
                "throughput_vs_redundant.png");
        try (DirectoryLock held = DirectoryLock.acquire("--out", sweep)) {
            Result again = CliRunner.run(args);
            assertThat(again.exitCode()).as(again.err()).isEqualTo(2);
            assertThat(again.errLines()).containsExactly("error: --out " + sweep + ": another moelab run is using "
                    + "it (pid " + ProcessHandle.current().pid() + ")");
        }
        assertThat(names(sweep)).containsExactly("sweep.json", "throughput_vs_interval.png",
                "throughput_vs_redundant.png");
    }

    /** The names in {@code dir}, hidden ones included, sorted. */
    private static List<String> names(Path dir) throws IOException {
        try (var list = Files.list(dir)) {
            return list.map(p -> p.getFileName().toString()).sorted().toList();
        }
    }
}
