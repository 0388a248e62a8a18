package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.eval.EvaluationReport;
import io.moelab.eplb.eval.WindowedEvaluation;
import io.moelab.eplb.trace.ExpertLoadTrace;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import io.moelab.eplb.trace.TraceFiles;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class EvaluateAndGenerateCommandTest {
    @TempDir
    Path dir;

    private Path generate(String name, String... extra) {
        Path out = dir.resolve(name);
        List<String> args = new java.util.ArrayList<>(List.of("eplb", "generate", "--layers", "4", "--experts", "32",
                "--steps", "60", "--seed", "5", "--output", out.toString()));
        args.addAll(List.of(extra));
        Result r = CliRunner.run(args.toArray(String[]::new));
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote").contains("60 steps x 4 layers x 32 experts");
        return out;
    }

    @Test
    void generateWritesTheLibrarysTraceInVllmFormat() {
        Path out = generate("trace.json", "--tokens-per-step", "512", "--top-k", "4");
        ExpertLoadTrace read = TraceFiles.read(out);
        ExpertLoadTrace expected = SyntheticTraceGenerator.generate(
                SyntheticTraceSpec.defaults(4, 32, 60, 5).withRouting(512, 4));
        assertThat(read.stepList()).isEqualTo(expected.stepList());
    }

    @Test
    void generateCountsTheBytesOfAFileAndNoneOfAStream() throws Exception {
        Path out = dir.resolve("trace.json.gz");
        Result r = CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "5", "--seed", "1",
                "--output", out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains(String.format(java.util.Locale.ROOT, "(vllm, %,d bytes)", Files.size(out)));
        // A device's size is no count of what went into it: /dev/null read "(vllm, 0 bytes)".
        Path sink = Path.of("/dev/null");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(sink), "/dev/null is not available");
        r = CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "5", "--seed", "1",
                "--output", sink.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("2 domains (vllm)").doesNotContain("bytes");
    }

    /** A format not offered is one error line listing the formats as the help spells them (not [TABLE, JSON]). */
    @Test
    void anUnknownFormatListsTheFormatsInLowerCase() {
        Result e = CliRunner.run("eplb", "evaluate", "--trace", "no-such-trace.json", "--window", "1", "--replicas",
                "8", "--gpus", "8", "--format", "xml");
        assertThat(e.exitCode()).isEqualTo(2);
        assertThat(e.errLines()).containsExactly("error: --format: expected table, json or csv, got xml");
        // generate writes two formats: the reader's list (vllm, sglang, compact) named one it then refused.
        for (String[] c : new String[][] {{"xml", "error: --format: expected vllm or compact, got xml"},
                {"SGLang", "error: --format: sglang dumps are read, not written; use vllm or compact"}}) {
            Result g = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "4", "--steps", "2", "--seed",
                    "1", "--format", c[0], "--output", "never-written.json");
            assertThat(g.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(g.errLines()).as(c[0]).containsExactly(c[1]);
        }
        Result b = CliRunner.run("eplb", "bench", "--format", "yaml");
        assertThat(b.errLines()).containsExactly("error: --format: expected table or json, got yaml");
        Result upper = CliRunner.run("eplb", "bench", "--format", "JSON", "--shape", "adrs", "--algorithms", "static",
                "--rounds", "1", "--warmup-ms", "1");
        assertThat(upper.exitCode()).as(upper.err()).isZero();
    }

    /**
     * A skew not offered is one error line listing the shapes as the help spells them: it read "Invalid value for
     * option '--skew': expected one of [LOGNORMAL, ZIPF] (case-insensitive) but was 'foo'".
     */
    @Test
    void anUnknownSkewListsTheShapesInLowerCase() {
        Result g = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "4", "--steps", "2", "--seed", "1",
                "--skew", "foo", "--output", dir.resolve("never-written.json").toString());
        assertThat(g.exitCode()).isEqualTo(2);
        assertThat(g.errLines()).containsExactly("error: --skew: expected lognormal or zipf, got foo");
        assertThat(dir.resolve("never-written.json")).doesNotExist();
        Result upper = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "4", "--steps", "2", "--seed",
                "1", "--skew", "ZIPF", "--output", dir.resolve("z.json").toString());
        assertThat(upper.exitCode()).as(upper.err()).isZero();
        assertThat(upper.out()).contains(", zipf skew 1, ");
    }

    /** Generate's dead experts and domains and rebalance's layers count one in the singular too. */
    @Test
    void generateAndRebalanceCountOneInTheSingular() throws Exception {
        Path one = dir.resolve("one.json");
        Result g = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "4", "--steps", "2", "--seed", "1",
                "--top-k", "1", "--tokens-per-step", "16", "--zero-fraction", "0.3", "--domains", "1", "--output",
                one.toString());
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(g.out()).contains(": 2 steps x 1 layer x 4 experts, 16 tokens x top-1 per step, lognormal skew "
                + "1, 1 dead expert per layer, 1 domain (vllm, ");
        Result e = CliRunner.run("eplb", "evaluate", "--trace", one.toString(), "--window", "1", "--replicas", "4",
                "--groups", "1", "--nodes", "1", "--gpus", "2", "--algorithms", "deepseek");
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out()).contains("(2 steps, 1 layer x 4 experts)", "window 1 step: 2 windows, 1 scored");
        Path in = dir.resolve("in.json");
        Files.writeString(in, "{\"weight\": [[90, 132, 40, 61]], \"num_replicas\": 4, \"num_groups\": 1, "
                + "\"num_nodes\": 1, \"num_gpus\": 2}");
        Result r = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output",
                dir.resolve("out.json").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("moelab: 1 layer x 4 experts -> ");
        // DeepSeek's packing puts the hot expert's two replicas on one of the two GPUs.
        Path hot = dir.resolve("hot.json");
        Files.writeString(hot, "{\"weight\": [[100, 1, 1, 1]], \"num_replicas\": 6, \"num_groups\": 1, "
                + "\"num_nodes\": 1, \"num_gpus\": 2}");
        Result d = CliRunner.run("eplb", "rebalance", "--input", hot.toString(), "--algorithm", "deepseek", "--output",
                dir.resolve("hot-out.json").toString());
        assertThat(d.exitCode()).as(d.err()).isZero();
        assertThat(d.out()).contains(", 1 (layer, GPU) pair with two replicas of one expert; ");
        for (String text : List.of(g.out(), e.out(), r.out(), d.out())) {
            assertThat(text)
                    .doesNotContainPattern("\\b1 (step|layer|dead expert|domain|window|\\(layer, GPU\\) pair)s\\b");
        }
    }

    @Test
    void generateCompactEqualsVllm() {
        ExpertLoadTrace vllm = TraceFiles.read(generate("a.json"));
        ExpertLoadTrace compact = TraceFiles.read(generate("a.mlt", "--format", "compact"));
        assertThat(compact.stepList()).isEqualTo(vllm.stepList());
    }

    @Test
    void generateEchoesTheSkewParameterAsGiven() {
        // It was printed with two decimals: --skew-param 0.125 read "skew 0.13", 4 read "skew 4.00".
        String[][] cases = {{"0.125", "lognormal skew 0.125, "}, {"4", "lognormal skew 4, "},
            {"0.0625", "lognormal skew 0.0625, "}};
        for (String[] c : cases) {
            Result r = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "8", "--steps", "2", "--seed",
                    "1", "--skew-param", c[0], "--output", dir.resolve("s.json").toString());
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).as(c[0]).contains(c[1]);
        }
        Result zipf = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "8", "--steps", "2", "--seed",
                "1", "--skew", "zipf", "--skew-param", "1.5", "--output", dir.resolve("z.json").toString());
        assertThat(zipf.out()).contains("zipf skew 1.5, ");
        Result defaults = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "8", "--steps", "2",
                "--seed", "1", "--output", dir.resolve("d.json").toString());
        assertThat(defaults.out()).contains("lognormal skew 1, ");
    }

    @Test
    void generateRejectsBadOptionsNamingThem() {
        Result r = CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "3", "--seed", "1",
                "--top-k", "9", "--output", dir.resolve("x.json").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString().startsWith("error: --top-k:");
        assertThat(dir.resolve("x.json")).doesNotExist();
    }

    @Test
    void generateChecksItsOutputBeforeGenerating() throws Exception {
        // A skew too strong to route fails only while generating: the bad --output is reported first, so it was
        // checked before the work (it used to be found only when the generated trace was written).
        Path file = Files.writeString(dir.resolve("a-file"), "x");
        String[][] cases = {{dir.toString(), "error: " + dir + ": cannot write: is a directory"},
            {file.resolve("t.json").toString(), "error: " + file.resolve("t.json") + ": cannot write: " + file
                    + " is a file, not a directory"}};
        for (String[] c : cases) {
            Result r = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "16", "--steps", "2", "--seed",
                    "1", "--skew-param", "1000", "--output", c[0]);
            assertThat(r.exitCode()).as(c[0]).isEqualTo(2);
            assertThat(r.errLines()).as(c[0]).containsExactly(c[1]);
        }
        assertThat(Files.readString(file)).isEqualTo("x");
    }

    @Test
    void generateRefusesTracesTooLargeToHoldBeforeAllocatingThem() {
        // A trace the readers would refuse is not made: past 65,536 experts (a placement's slots per layer) or 2^24
        // loads a step (which also keeps a step far below any heap, 128 MiB as doubles).
        Result experts = CliRunner.run("eplb", "generate", "--layers", "100000", "--experts", "100000", "--steps",
                "1", "--seed", "1", "--output", dir.resolve("x.json").toString());
        assertThat(experts.exitCode()).isEqualTo(2);
        assertThat(experts.errLines()).containsExactly("error: --experts: E=100000 is more than a trace is read with "
                + "(at most 65536, the slots a placement has per layer)");
        Result loads = CliRunner.run("eplb", "generate", "--layers", "46340", "--experts", "46340", "--steps", "2",
                "--seed", "1", "--top-k", "1", "--output", dir.resolve("x.json").toString());
        assertThat(loads.exitCode()).isEqualTo(2);
        assertThat(loads.errLines()).containsExactly("error: --experts: L x E = 46340 x 46340 = 2147395600 loads per "
                + "step, more than a trace is read with (at most 16777216)");
        assertThat(dir.resolve("x.json")).doesNotExist();
        // The demo's synthetic trace (26 x 64 loads a step) too.
        Result demo = CliRunner.run("eplb", "demo", "--steps", "2000000000");
        assertThat(demo.exitCode()).isEqualTo(2);
        assertThat(demo.errLines()).singleElement().asString()
                .startsWith("error: --steps: a trace of S x L x E = 2000000000 x 26 x 64 loads in 40000000 windows "
                        + "of 50 steps needs about");
    }

    @Test
    void evaluateTableJsonAndCsvAgreeWithTheLibrary() throws Exception {
        Path trace = generate("trace.json");
        String[] base = {"eplb", "evaluate", "--trace", trace.toString(), "--window", "10", "--replicas", "48",
                "--groups", "4", "--nodes", "2", "--gpus", "8", "--algorithms", "deepseek,static", "--warmup-ms", "0"};

        Result table = CliRunner.run(base);
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("6 windows, 5 scored").contains("deepseek").contains("static")
                .contains("upper bound on GPU balancedness");

        Result json = CliRunner.run(concat(base, "--format", "json"));
        assertThat(json.exitCode()).as(json.err()).isZero();
        JsonNode root = JsonMapper.builder().build().readTree(json.out());
        assertThat(root.get("windows").asInt()).isEqualTo(6);
        assertThat(root.get("topology").get("replicas").asInt()).isEqualTo(48);
        JsonNode deepseek = root.get("algorithms").get(0);
        assertThat(deepseek.get("algorithm").asString()).isEqualTo("deepseek");
        assertThat(deepseek.get("window_gpu_balancedness").size()).isEqualTo(5);

        // The same numbers as the library computes directly (balance does not depend on timing).
        EvaluationReport direct = WindowedEvaluation.run(TraceFiles.read(trace), new Topology(48, 4, 2, 8),
                Algorithms.byNames(List.of("deepseek", "static")), new WindowedEvaluation.Options(10, 16, 0, 1, false),
                WindowedEvaluation.Progress.NONE);
        assertThat(deepseek.get("mean_gpu_balancedness").asDouble())
                .isEqualTo(direct.algorithms().get(0).meanGpuBalancedness());

        Path csvFile = dir.resolve("report.csv");
        Result csv = CliRunner.run(concat(base, "--format", "csv", "--output", csvFile.toString()));
        assertThat(csv.exitCode()).as(csv.err()).isZero();
        List<String> lines = csv.out().lines().toList();
        assertThat(lines.getFirst()).startsWith("algorithm,gpu_balancedness,");
        assertThat(lines).hasSize(3);
        assertThat(lines.get(1)).startsWith(String.format(java.util.Locale.ROOT, "deepseek,%.4f,",
                direct.algorithms().get(0).meanGpuBalancedness()));
        assertThat(Files.readString(csvFile)).isEqualTo(csv.out());
    }

    /**
     * of_bound is each row's balancedness over the bound, from the JSON report's own figures. Top-1 routing with a
     * steep Zipf skew and no redundant slots keeps the bound far below 1 (at 1 a product passes for the quotient).
     */
    @Test
    void ofBoundIsBalancednessOverTheBound() throws Exception {
        Path trace = generate("hot.json", "--skew", "zipf", "--skew-param", "2", "--top-k", "1");
        String[] base = {"eplb", "evaluate", "--trace", trace.toString(), "--window", "10", "--replicas", "32",
            "--gpus", "8", "--algorithms", "deepseek,static", "--warmup-ms", "0"};
        Result json = CliRunner.run(concat(base, "--format", "json"));
        assertThat(json.exitCode()).as(json.err()).isZero();
        JsonNode root = JsonMapper.builder().build().readTree(json.out());
        double bound = root.get("mean_bound").asDouble();
        assertThat(bound).isLessThan(0.5);
        Result csv = CliRunner.run(concat(base, "--format", "csv"));
        assertThat(csv.exitCode()).as(csv.err()).isZero();
        List<String> lines = csv.out().lines().toList();
        assertThat(lines).hasSize(3);
        for (int i = 1; i < lines.size(); i++) {
            JsonNode a = root.get("algorithms").get(i - 1);
            String[] cells = lines.get(i).split(",");
            assertThat(cells[0]).isEqualTo(a.get("algorithm").asString());
            assertThat(cells[2]).isEqualTo(String.format(java.util.Locale.ROOT, "%.4f",
                    a.get("mean_gpu_balancedness").asDouble() / bound));
        }
    }

    /** A count of one reads in the singular (it was "1 layers", "1 windows", "1 slots per GPU"). */
    @Test
    void countsOfOneAreSingular() {
        Path out = dir.resolve("one.json");
        Result g = CliRunner.run("eplb", "generate", "--layers", "1", "--experts", "8", "--steps", "2", "--domains",
                "1", "--seed", "1", "--output", out.toString());
        assertThat(g.exitCode()).as(g.err()).isZero();
        assertThat(g.out()).contains("wrote " + out + ": 2 steps x 1 layer x 8 experts, ", ", 1 domain (vllm, ");
        Result e = CliRunner.run("eplb", "evaluate", "--trace", out.toString(), "--window", "1", "--replicas", "8",
                "--gpus", "8", "--algorithms", "deepseek");
        assertThat(e.exitCode()).as(e.err()).isZero();
        assertThat(e.out().lines().limit(3)).containsExactly("trace: " + out + " (2 steps, 1 layer x 8 experts)",
                "window 1 step: 2 windows, 1 scored (plan on window i, score on window i+1)",
                "topology: R=8 G=1 N=1 M=8 (1 slot per GPU; auto = hierarchical here)");
        // A --mode is what ran: the line used to say "auto = hierarchical here" under --mode global too.
        Result global = CliRunner.run("eplb", "evaluate", "--trace", out.toString(), "--window", "1", "--replicas",
                "8", "--gpus", "8", "--algorithms", "deepseek", "--mode", "global");
        assertThat(global.exitCode()).as(global.err()).isZero();
        assertThat(global.out().lines().skip(2).findFirst()).hasValue(
                "topology: R=8 G=1 N=1 M=8 (1 slot per GPU; --mode global)");
        Result short_ = CliRunner.run("eplb", "evaluate", "--trace", out.toString(), "--window", "2", "--replicas",
                "8", "--gpus", "8");
        assertThat(short_.exitCode()).isEqualTo(2);
        assertThat(short_.errLines()).containsExactly("error: --window: the trace has 2 steps, so windows of 2 give 1 "
                + "complete window; at least 2 are needed (plan on one, score on the next)");
    }

    @Test
    void evaluatePlotsBalancednessPerWindow() throws Exception {
        Path trace = generate("trace.json");
        Path png = dir.resolve("plots/eval.png");
        Result r = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10", "--replicas", "32",
                "--gpus", "4", "--warmup-ms", "0", "--plot", png.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        java.awt.image.BufferedImage image = javax.imageio.ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(900);
        assertThat(image.getHeight()).isEqualTo(500);
    }

    @Test
    void evaluateConcatenatesTracesAndReadsBuiltins() {
        Result r = CliRunner.run("eplb", "evaluate", "--trace", "builtin:deepseek-v3/prefill_in512", "--trace",
                "builtin:deepseek-v3/prefill_in1024", "--window", "1", "--replicas", "288", "--groups", "8", "--nodes",
                "4", "--gpus", "32", "--algorithms", "static", "--warmup-ms", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("2 steps, 58 layers x 256 experts").contains("2 windows, 1 scored");
    }

    @Test
    void tracesOfTwoShapesAreRefusedNamingBothFiles() throws Exception {
        Path first = generate("a.json");
        Path other = dir.resolve("b.json");
        Files.writeString(other, "{\"load_history\": [{\"logical_expert_load\": [[1, 2, 3], [4, 5, 6]]}]}");
        // It used to read "error: step 60: is 2 layers x 3 experts, expected 4 layers x 32 experts": a step counted
        // over both files, and neither named.
        Result r = CliRunner.run("eplb", "evaluate", "--trace", first.toString(), "--trace", other.toString(),
                "--window", "10", "--replicas", "32", "--gpus", "4", "--warmup-ms", "0");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: --trace " + other + ": is 2 layers x 3 experts, but --trace "
                + first + " is 4 x 32 (traces given together are concatenated: one shape)");
        Result sim = CliRunner.run("sim", "--trace", first.toString(), "--trace", other.toString(), "--model",
                "deepseek-v2-lite", "--cluster", "1x4-h100", "--out", dir.resolve("sim").toString());
        assertThat(sim.exitCode()).isEqualTo(2);
        assertThat(sim.errLines()).singleElement().asString().startsWith("error: --trace " + other + ": is 2 layers");
        assertThat(dir.resolve("sim")).doesNotExist();
    }

    @Test
    void emptyItemsInAlgorithmListsAreRefused() throws Exception {
        Path trace = generate("t.json");
        // "moelab," ran moelab alone (picocli drops a trailing empty item); ",moelab" said
        // "empty algorithm name in ''".
        for (String list : new String[] {"moelab,", ",moelab", "moelab,,deepseek", "moelab, ,static"}) {
            Result e = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "20", "--replicas",
                    "32", "--gpus", "4", "--warmup-ms", "0", "--algorithms", list);
            assertThat(e.exitCode()).as(list).isEqualTo(2);
            assertThat(e.errLines()).as(list).containsExactly("error: --algorithms: empty item in '" + list + "'");
            Result b = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", list);
            assertThat(b.exitCode()).as(list).isEqualTo(2);
            assertThat(b.errLines()).as(list).containsExactly("error: --algorithms: empty item in '" + list + "'");
        }
        Result report = CliRunner.run("eplb", "report", "--out", dir.resolve("r").toString(), "--cases", "cycling,");
        assertThat(report.exitCode()).isEqualTo(2);
        assertThat(report.errLines()).containsExactly("error: --cases: empty item in 'cycling,'");
        assertThat(dir.resolve("r")).doesNotExist();
    }

    @Test
    void evaluateBadInputs() throws Exception {
        Path trace = generate("t.json");
        Result tooFew = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "40", "--replicas",
                "32", "--gpus", "4");
        assertThat(tooFew.exitCode()).isEqualTo(2);
        assertThat(tooFew.errLines()).singleElement().asString().startsWith("error: --window:");

        Result unknown = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10",
                "--replicas", "32", "--gpus", "4", "--algorithms", "deepseek,nope");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.errLines()).containsExactly(
                "error: --algorithms: unknown algorithm 'nope' (known: moelab, deepseek, snake, static)");

        // The library's checks name its own fields (num_gpus, window); the user typed --gpus and --window.
        String[][] named = {
            {"--replicas", "30", "error: --replicas: R=30 is not a multiple of --gpus M=4 (every GPU holds R/M slots)"},
            {"--replicas", "28", "error: --replicas: R=28 is less than the number of experts E=32 (every expert needs "
                    + "at least one slot)"},
            {"--nodes", "0", "error: --nodes: must be at least 1, got 0"},
            {"--groups", "3", "error: --groups: E=32 experts do not split into G=3 equal groups (hierarchical "
                    + "placement needs E to be a multiple of G)"},
            {"--window", "0", "error: --window: must be at least 1 step, got 0"},
            {"--history", "-1", "error: --history: must be 0 or more windows, got -1"},
            {"--algorithms", "moelab:sideways",
                "error: --algorithms: unknown mode 'sideways' (known: auto, global, hierarchical)"}};
        for (String[] c : named) {
            List<String> args = new java.util.ArrayList<>(List.of("eplb", "evaluate", "--trace", trace.toString(),
                    "--window", "10", "--replicas", "32", "--gpus", "4", "--warmup-ms", "0", "--mode",
                    "hierarchical"));
            int at = args.indexOf(c[0]);
            if (at >= 0) {
                args.set(at + 1, c[1]);
            } else {
                args.addAll(List.of(c[0], c[1]));
            }
            Result r = CliRunner.run(args.toArray(String[]::new));
            assertThat(r.exitCode()).as(c[2]).isEqualTo(2);
            assertThat(r.errLines()).containsExactly(c[2]);
        }

        // Two rows of one name: the plot's lines and JSON readers keyed by name could not tell them apart.
        Result twice = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10",
                "--replicas", "32", "--gpus", "4", "--algorithms", "moelab,deepseek,moelab");
        assertThat(twice.exitCode()).isEqualTo(2);
        assertThat(twice.errLines()).containsExactly(
                "error: --algorithms: lists an algorithm twice: moelab,deepseek,moelab");
        Result bench = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", "static,static");
        assertThat(bench.exitCode()).isEqualTo(2);
        assertThat(bench.errLines()).containsExactly("error: --algorithms: lists an algorithm twice: static,static");
        // The library names the field "algorithm"; bench's option is --algorithms.
        Result benchUnknown = CliRunner.run("eplb", "bench", "--shape", "adrs", "--algorithms", "static,nope");
        assertThat(benchUnknown.exitCode()).isEqualTo(2);
        assertThat(benchUnknown.errLines()).containsExactly(
                "error: --algorithms: unknown algorithm 'nope' (known: moelab, deepseek, snake, static)");

        Result missing = CliRunner.run("eplb", "evaluate", "--trace", dir.resolve("none.json").toString(), "--window",
                "1", "--replicas", "32", "--gpus", "4");
        assertThat(missing.exitCode()).isEqualTo(2);
        assertThat(missing.errLines()).singleElement().asString().contains("no such file");

        Result format = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10", "--replicas",
                "32", "--gpus", "4", "--format", "xml");
        assertThat(format.exitCode()).isEqualTo(2);
        assertThat(format.errLines()).singleElement().asString().contains("--format");

        Result warmup = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10", "--replicas",
                "32", "--gpus", "4", "--warmup-ms", "-1");
        assertThat(warmup.exitCode()).isEqualTo(2);
        assertThat(warmup.errLines()).containsExactly("error: --warmup-ms: must be 0 to 3600000 ms, got -1");
        // The largest long overflowed the warm-up's nanosecond deadline (one call, no warm-up); now refused.
        Result huge = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10", "--replicas",
                "32", "--gpus", "4", "--warmup-ms", Long.toString(Long.MAX_VALUE));
        assertThat(huge.exitCode()).isEqualTo(2);
        assertThat(huge.errLines()).containsExactly(
                "error: --warmup-ms: must be 0 to 3600000 ms, got " + Long.MAX_VALUE);

        // A file standing where the output's directory goes: named, not the temporary file beside it; bad input.
        Path file = generate("in-the-way.json");
        Result blocked = CliRunner.run("eplb", "evaluate", "--trace", trace.toString(), "--window", "10",
                "--replicas", "32", "--gpus", "4", "--warmup-ms", "0", "--algorithms", "static", "--output",
                file.resolve("report.txt").toString());
        assertThat(blocked.exitCode()).isEqualTo(2);
        assertThat(blocked.errLines()).containsExactly("error: " + file.resolve("report.txt") + ": cannot write: "
                + file.toRealPath() + " is a file, not a directory");
    }

    @Test
    void helpLabelsEveryOptionsValue() {
        // demo's read "--seed=<seed> --steps=<steps>", picocli's field names, where every other command says K, S...
        Result demo = CliRunner.run("eplb", "demo", "--help");
        assertThat(demo.exitCode()).isZero();
        assertThat(demo.out()).contains("[--format=FORMAT] [--seed=K]", "[--steps=S] [--window=W]",
                "--seed=K ", "--steps=S ", "--window=W ", "--format=FORMAT ");
        for (String command : new String[] {"rebalance", "evaluate", "generate", "bench", "report", "demo"}) {
            Result help = CliRunner.run("eplb", command, "--help");
            assertThat(help.out()).as(command).doesNotContain("=<");
        }
    }

    @Test
    void demoComparesEveryAlgorithmOnSyntheticAndRealLoads() {
        Result r = CliRunner.run("eplb", "demo", "--steps", "100", "--window", "25");
        assertThat(r.exitCode()).as(r.err()).isZero();
        for (String name : DemoCommand.ALGORITHMS) {
            assertThat(r.out()).containsPattern("(?m)^" + name + " +0\\.\\d{4} +0\\.\\d{4} ");
        }
        assertThat(r.out()).contains("synthetic").contains("real").contains("in512 -> in1024");
        // Moves on the real loads, where moelab replans with its placement in service and DeepSeek's EPLB does not.
        assertThat(r.out()).contains("moved synthetic  moved real  colocated real");
        double moelab = Double.parseDouble(demoRow(r.out(), "moelab:global")[6]);
        double deepseek = Double.parseDouble(demoRow(r.out(), "deepseek")[6]);
        assertThat(moelab).isPositive().isLessThan(deepseek / 2);
        assertThat(demoRow(r.out(), "static")[6]).isEqualTo("0");
        // --format json: both evaluations whole, each algorithm's figures those of the table's row.
        Result json = CliRunner.run("eplb", "demo", "--steps", "100", "--window", "25", "--format", "json");
        assertThat(json.exitCode()).as(json.err()).isZero();
        JsonNode root = JsonMapper.builder().build().readTree(json.out());
        assertThat(root.propertyNames()).containsExactly("synthetic", "real");
        assertThat(root.get("synthetic").get("windows").asInt()).isEqualTo(4);
        assertThat(root.get("real").get("windows").asInt()).isEqualTo(DemoCommand.REAL.size());
        for (int i = 0; i < DemoCommand.ALGORITHMS.size(); i++) {
            JsonNode synthetic = root.get("synthetic").get("algorithms").get(i);
            JsonNode real = root.get("real").get("algorithms").get(i);
            String[] row = demoRow(r.out(), synthetic.get("algorithm").asString());
            assertThat(real.get("algorithm").asString()).isEqualTo(row[0]);
            assertThat(row[1]).isEqualTo(String.format(java.util.Locale.ROOT, "%.4f",
                    synthetic.get("mean_gpu_balancedness").asDouble()));
            assertThat(row[2]).isEqualTo(String.format(java.util.Locale.ROOT, "%.4f",
                    real.get("mean_gpu_balancedness").asDouble()));
            assertThat(Double.parseDouble(row[6])).isCloseTo(real.get("mean_experts_moved").asDouble(), within(0.05));
        }
    }

    /** The cells of the demo table's row for {@code algorithm}, split at runs of two or more spaces. */
    private static String[] demoRow(String out, String algorithm) {
        return out.lines().filter(l -> l.startsWith(algorithm + " ")).findFirst()
                .orElseThrow(() -> new AssertionError("no row for " + algorithm)).split("\\s{2,}");
    }

    private static String[] concat(String[] a, String... b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
