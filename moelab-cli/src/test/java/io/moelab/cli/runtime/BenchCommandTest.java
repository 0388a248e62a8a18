package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.runtime.bench.ModelBench;
import io.moelab.runtime.model.WeightFormat;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code moelab bench} reports its figures as a table or JSON, writes synthetic models, and refuses bad input. */
class BenchCommandTest {
    private static final String[] FAST = {"--prompt-tokens", "4", "--decode-tokens", "3", "--runs", "2",
        "--warmup-tokens", "1", "--warmup-runs", "3"};

    @TempDir
    Path dir;

    private static Result bench(String... args) {
        String[] all = new String[args.length + FAST.length + 1];
        all[0] = "bench";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(FAST, 0, all, 1 + args.length, FAST.length);
        return CliRunner.run(all);
    }

    @Test
    void jsonHasEveryKey() throws Exception {
        Path m = dir.resolve("tiny");
        Result r = bench("--synthetic", "tiny", "--model", m.toString(), "--weights", "int4", "--bandwidth-mib", "8",
                "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.exists(m.resolve("config.json"))).isTrue();
        // stdout is the one JSON document and nothing else (a pipe into jq must parse); the note of the synthetic
        // checkpoint written goes to stderr.
        assertThat(r.out()).startsWith("{");
        assertThat(r.err()).contains("wrote a synthetic tiny F32 checkpoint");
        JsonNode n = JsonMapper.builder().build().readTree(r.out());
        for (String key : new String[] {"prefill_tokens_per_s", "decode_tokens_per_s", "resident_weight_bytes",
            "peak_heap_bytes", "off_heap_bytes", "active_bytes_per_token", "memory_bandwidth_gbps",
            "roofline_fraction", "achieved_gbps", "mapped_bytes", "quantized_bytes", "decode_token_us_median",
            "decode_token_us_p90", "token_roofline_fraction"}) {
            assertThat(n.get(key)).as(key).isNotNull();
            assertThat(n.get(key).asDouble()).as(key).isPositive();
        }
        assertThat(n.get("decode_tokens_per_s_runs").size()).isEqualTo(2);
        assertThat(n.get("decode_inputs").asString()).isEqualTo("greedy");
        // Two runs of the default 32 greedy steps from one prompt: the same ids twice, at most 32 distinct.
        assertThat(n.get("decode_distinct_inputs").asInt()).isBetween(1, 32);
        // Settling takes two quiet runs in a row, so two or three warm-up runs; three when the JIT never settled.
        int warmups = n.get("warmup_runs").asInt();
        assertThat(warmups).isBetween(2, 3);
        assertThat(n.get("jit_settled").isBoolean()).isTrue();
        if (!n.get("jit_settled").asBoolean()) {
            assertThat(warmups).isEqualTo(3);
        }
        assertThat(n.get("off_heap_bytes").asLong())
                .isEqualTo(n.get("mapped_bytes").asLong() + n.get("quantized_bytes").asLong());
        assertThat(n.get("roofline_fraction").asDouble()).isCloseTo(
                n.get("achieved_gbps").asDouble() / n.get("memory_bandwidth_gbps").asDouble(),
                org.assertj.core.api.Assertions.within(1e-9));

        assertThat(n.get("threads").asInt()).isEqualTo(io.moelab.runtime.tensor.ProductTeam.shared().threads());
        // One reading after each of the two runs, and the paired fraction within the runs' own fractions.
        JsonNode readings = n.get("run_bandwidth_gbps");
        assertThat(readings.size()).isEqualTo(2);
        double lowest = Double.MAX_VALUE;
        double highest = 0;
        for (int i = 0; i < 2; i++) {
            double f = n.get("active_bytes_per_token").asDouble() * n.get("decode_tokens_per_s_runs").get(i).asDouble()
                    / 1e9 / readings.get(i).asDouble();
            lowest = Math.min(lowest, f);
            highest = Math.max(highest, f);
        }
        assertThat(n.get("paired_roofline_fraction").asDouble()).isBetween(lowest * (1 - 1e-9), highest * (1 + 1e-9));
        // The median token against the best reading.
        double median = n.get("decode_token_us_median").asDouble();
        assertThat(n.get("decode_token_us_p90").asDouble()).isGreaterThanOrEqualTo(median);
        assertThat(n.get("token_roofline_fraction").asDouble()).isCloseTo(n.get("active_bytes_per_token").asDouble()
                / (median * 1e3) / n.get("memory_bandwidth_gbps").asDouble(),
                org.assertj.core.api.Assertions.within(1e-9));

        Result again;
        try {
            again = bench("--synthetic", "tiny", "--model", m.toString(), "--no-measure-bandwidth", "--format",
                    "json", "--threads", "1");
        } finally {
            io.moelab.runtime.tensor.ProductTeam.useShared(Runtime.getRuntime().availableProcessors());
        }
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.out()).startsWith("{");
        assertThat(again.err()).contains("reusing the synthetic tiny F32 checkpoint");
        JsonNode n2 = JsonMapper.builder().build().readTree(again.out());
        assertThat(n2.get("memory_bandwidth_gbps").isNull()).isTrue();
        assertThat(n2.get("roofline_fraction").isNull()).isTrue();
        assertThat(n2.get("paired_roofline_fraction").isNull()).isTrue();
        assertThat(n2.get("token_roofline_fraction").isNull()).isTrue();
        assertThat(n2.get("quantized_bytes").asLong()).isZero();
        assertThat(n2.get("threads").asInt()).isEqualTo(1);

        Result none = CliRunner.run("bench", "--model", m.toString(), "--no-measure-bandwidth", "--format", "json",
                "--prompt-tokens", "4", "--decode-tokens", "3", "--runs", "2", "--warmup-runs", "0");
        assertThat(none.exitCode()).as(none.err()).isZero();
        JsonNode n3 = JsonMapper.builder().build().readTree(none.out());
        assertThat(n3.get("warmup_runs").asInt()).isZero();
        assertThat(n3.get("jit_settled").asBoolean()).isFalse();
    }

    /**
     * The defaults that the help, docs/RUNTIME.md and docs/BENCHMARKS.md state: 64 prompt tokens, 32 decoded, 3 runs
     * after 256 warm-up tokens and at most 40 warm-up runs, seed 1, the bandwidth read over 1 GiB (best of 5), the
     * weights as stored, a table, F32 synthetic weights. Every other test gives the counts small, so a changed
     * default passed them; and the help states each default by hand beside the one the parser uses.
     */
    @Test
    void theDefaultsAreTheDocumentedOnes() {
        BenchCommand bench = new BenchCommand();
        CommandLine cl = new CommandLine(bench);
        cl.parseArgs("--model", "m");
        assertThat(bench.options()).isEqualTo(new ModelBench.Options(WeightFormat.STORED, 64, 32, 256, 40, 3, 1,
                1L << 30, 5));
        CommandSpec spec = cl.getCommandSpec();
        assertThat(spec.findOption("--format").<String>getValue()).isEqualTo("table");
        assertThat(spec.findOption("--synthetic-dtype").<String>getValue()).isEqualTo("f32");
        assertThat(spec.findOption("--synthetic").<String>getValue()).isNull();
        assertThat(spec.findOption("--threads").<Integer>getValue()).isNull(); // the shared team's
        BenchCommand without = new BenchCommand();
        new CommandLine(without).parseArgs("--model", "m", "--no-measure-bandwidth");
        assertThat(without.options().bandwidthBytes()).isZero();

        int stated = 0;
        for (OptionSpec o : spec.options()) {
            String help = String.join(" ", o.renderedDescription()).replaceAll("\\s+", " ");
            if (o.defaultValue() == null) {
                continue; // none, or one that is not a value (--threads: the available processors)
            }
            String value = o.longestName().equals("--measure-bandwidth") ? "on" : o.defaultValue();
            assertThat(help).as(o.longestName()).contains("(default: " + value);
            stated++;
        }
        assertThat(stated).isEqualTo(12);
        BenchCommand random = new BenchCommand();
        new CommandLine(random).parseArgs("--model", "m", "--decode-inputs", "RANDOM");
        assertThat(random.options().decodeInputs()).isEqualTo(ModelBench.DecodeInputs.RANDOM);
    }

    @Test
    void decodeInputsOtherThanGreedyOrRandomAreRefused() {
        Result r = bench("--model", dir.toString(), "--decode-inputs", "sampled");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--decode-inputs").contains("expected greedy or random, found 'sampled'");
        assertThat(r.out()).isEmpty();
    }

    @Test
    void tablePrintsTheFigures() {
        Path m = dir.resolve("tiny");
        Result r = bench("--synthetic", "tiny", "--synthetic-dtype", "bf16", "--model", m.toString(),
                "--bandwidth-mib", "4");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("wrote a synthetic tiny BF16").contains("prefill").contains("decode")
                .contains("tokens/s").contains("resident weights").contains("memory bandwidth").contains("roofline")
                .contains("roofline, paired").contains("token time").contains("roofline, token")
                .contains("peak heap").contains("off-heap").containsPattern("warm-up +1 token, then [23] untimed runs");
    }

    @Test
    void badInputIsOneLineWithExitTwo() throws Exception {
        Path m = dir.resolve("tiny");
        assertOneLineError(bench("--model", dir.resolve("missing").toString(), "--no-measure-bandwidth"),
                "missing");
        assertOneLineError(bench("--synthetic", "m7b", "--model", m.toString()), "--synthetic");
        assertOneLineError(bench("--synthetic", "tiny", "--synthetic-dtype", "f16", "--model", m.toString()),
                "--synthetic-dtype");
        assertOneLineError(bench("--model", m.toString(), "--weights", "int3"), "--weights");
        assertOneLineError(bench("--model", m.toString(), "--format", "xml"), "--format");
        assertOneLineError(bench("--model", m.toString(), "--threads", "0"), "--threads");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--runs", "0"), "--runs");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--warmup-runs", "-1"),
                "--warmup-runs: must not be negative, got -1");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--prompt-tokens", "0"),
                "--prompt-tokens");
        Path model = TinyMixtral.write(dir.resolve("mixtral"), 258);
        // Without --synthetic the type was ignored: the stored model was measured as it is, exit 0.
        assertOneLineError(bench("--model", model.toString(), "--no-measure-bandwidth", "--synthetic-dtype", "bf16"),
                "--synthetic-dtype: applies only with --synthetic");
        // No measurement to size: the option was silently ignored.
        assertOneLineError(bench("--model", model.toString(), "--no-measure-bandwidth", "--bandwidth-mib", "64"),
                "--bandwidth-mib: sizes the bandwidth measurement, which --no-measure-bandwidth turns off");
        // One KV head of 4 dimensions: at most 536870848 positions in a cache; refused before loading or measuring.
        assertOneLineError(CliRunner.run("bench", "--model", model.toString(), "--no-measure-bandwidth",
                "--decode-tokens", "2000000000"), "--decode-tokens: a run of 64 prompt tokens plus 2000000000 "
                + "decoded ones needs a KV cache of 2000000064 positions; this model's holds at most 536870848");
        // The prompt alone is too long: named as such, not as --decode-tokens.
        assertOneLineError(CliRunner.run("bench", "--model", model.toString(), "--no-measure-bandwidth",
                "--prompt-tokens", "2000000000"), "--prompt-tokens: a run of 2000000000 prompt tokens plus 32 "
                + "decoded ones needs a KV cache of 2000000032 positions; this model's holds at most 536870848");
        assertOneLineError(CliRunner.run("bench", "--model", model.toString(), "--no-measure-bandwidth",
                "--warmup-tokens", "1000000000"), "--warmup-tokens: a warm-up of 1000000000 tokens needs");
        assertOneLineError(CliRunner.run("bench", "--model", model.toString(), "--bandwidth-mib", "2000000000"),
                "--bandwidth-mib: 2000000000 MiB is more than half of this machine's");
        // Checked against the synthetic model's configuration before writing it: bad input writes nothing. The tiny
        // shape has 2 KV heads of 16 dimensions, at most (2^31 - 9) / 32 rounded down to 64 = 67108800 positions.
        Path fresh = dir.resolve("fresh");
        assertOneLineError(CliRunner.run("bench", "--synthetic", "tiny", "--model", fresh.toString(),
                "--no-measure-bandwidth", "--prompt-tokens", "100000000"),
                "--prompt-tokens: a run of 100000000 prompt tokens plus 32 decoded ones needs a KV cache of 100000032 "
                + "positions; this model's holds at most 67108800");
        assertOneLineError(CliRunner.run("bench", "--synthetic", "tiny", "--model", fresh.toString(),
                "--no-measure-bandwidth", "--warmup-tokens", "100000000"), "--warmup-tokens");
        assertThat(fresh).doesNotExist();
        Files.createDirectories(m);
        Files.writeString(m.resolve("config.json"), "{\"model_type\": \"mixtral\"");
        assertOneLineError(bench("--model", m.toString(), "--no-measure-bandwidth"), "config.json");
    }

    /**
     * Each count option at its edge: zero decode tokens, a zero buffer and a negative warm-up are refused (only
     * --runs, --prompt-tokens and --warmup-runs were tried), a buffer between half the machine and all of it is
     * refused naming both sizes, and one run after no warm-up tokens is a run.
     */
    @Test
    void countOptionsAtTheirEdges() throws Exception {
        Path m = dir.resolve("tiny");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--decode-tokens", "0"),
                "--decode-tokens: must be positive, got 0");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--bandwidth-mib", "0"),
                "--bandwidth-mib: must be positive, got 0");
        assertOneLineError(CliRunner.run("bench", "--model", m.toString(), "--warmup-tokens", "-1"),
                "--warmup-tokens: must not be negative, got -1");
        long machineMib = io.moelab.cli.support.Heap.machineBytes() >> 20;
        long threeQuarters = machineMib * 3 / 4;
        Result big = CliRunner.run("bench", "--model", m.toString(), "--bandwidth-mib", Long.toString(threeQuarters));
        assertOneLineError(big, "--bandwidth-mib: " + threeQuarters + " MiB is more than half of this machine's "
                + machineMib + " MiB of memory");
        assertThat(m).doesNotExist();
        Result r = CliRunner.run("bench", "--synthetic", "tiny", "--model", m.toString(), "--no-measure-bandwidth",
                "--format", "json", "--prompt-tokens", "1", "--decode-tokens", "1", "--runs", "1", "--warmup-tokens",
                "0", "--warmup-runs", "0");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode n = JsonMapper.builder().build().readTree(r.out());
        assertThat(n.get("runs").asInt()).isEqualTo(1);
        assertThat(n.get("decode_tokens_per_s_runs").size()).isEqualTo(1);
        assertThat(n.get("prefill_tokens_per_s_runs").size()).isEqualTo(1);
    }

    @Test
    void syntheticRefusesADirectoryHoldingAnotherModel() throws Exception {
        Path other = TinyMixtral.write(dir.resolve("other"), 258);
        Map<String, byte[]> before = contents(other);
        Result r = bench("--synthetic", "tiny", "--model", other.toString(), "--no-measure-bandwidth");
        assertOneLineError(r, "--model: " + other + " holds another model");
        Map<String, byte[]> after = contents(other);
        assertThat(after).containsOnlyKeys(before.keySet());
        before.forEach((name, bytes) -> assertThat(after.get(name)).as(name).isEqualTo(bytes));

        // Sharded: a config.json and an index, no model.safetensors (ours would sit beside the shards).
        Path sharded = Files.createDirectory(dir.resolve("sharded"));
        Files.copy(other.resolve("config.json"), sharded.resolve("config.json"));
        Files.writeString(sharded.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"lm_head.weight\": \"model-00001-of-00001.safetensors\"}}");
        Files.copy(other.resolve("model.safetensors"), sharded.resolve("model-00001-of-00001.safetensors"));
        assertOneLineError(bench("--synthetic", "tiny", "--model", sharded.toString(), "--no-measure-bandwidth"),
                "--model: " + sharded + " holds another model");
        assertThat(sharded.resolve("model.safetensors")).doesNotExist();
        assertThat(sharded.resolve("config.json")).hasSameBinaryContentAs(other.resolve("config.json"));

        // Another synthetic checkpoint (another seed) is another model too.
        Path synthetic = dir.resolve("seed1");
        assertThat(bench("--synthetic", "tiny", "--model", synthetic.toString(), "--no-measure-bandwidth")
                .exitCode()).isZero();
        assertOneLineError(bench("--synthetic", "tiny", "--model", synthetic.toString(), "--no-measure-bandwidth",
                "--seed", "2"), "holds another model");

        Path file = Files.writeString(dir.resolve("file"), "x");
        assertOneLineError(bench("--synthetic", "tiny", "--model", file.toString(), "--no-measure-bandwidth"),
                "--model: " + file + " is not a directory");
    }

    @Test
    void syntheticWritesIntoAnEmptyDirectory() throws Exception {
        Path empty = Files.createDirectory(dir.resolve("empty"));
        Result r = bench("--synthetic", "tiny", "--model", empty.toString(), "--no-measure-bandwidth");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("wrote a synthetic tiny F32 checkpoint");
        assertThat(contents(empty)).containsOnlyKeys("config.json", "model.safetensors");
    }

    /** Every file of a directory by name. */
    private static Map<String, byte[]> contents(Path d) throws Exception {
        Map<String, byte[]> files = new TreeMap<>();
        try (var list = Files.list(d)) {
            for (Path p : list.toList()) {
                files.put(p.getFileName().toString(), Files.readAllBytes(p));
            }
        }
        return files;
    }

    private static void assertOneLineError(Result r, String mentions) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.err()).startsWith("error: ").contains(mentions);
        assertThat(r.errLines()).hasSize(1);
    }
}
