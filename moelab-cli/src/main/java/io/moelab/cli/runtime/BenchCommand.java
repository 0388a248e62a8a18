package io.moelab.cli.runtime;

import io.moelab.cli.support.Choices;
import io.moelab.cli.support.Heap;
import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.StatusLine;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.runtime.bench.ModelBench;
import io.moelab.runtime.bench.ModelBench.Options;
import io.moelab.runtime.bench.ModelBench.Result;
import io.moelab.runtime.bench.SyntheticCheckpoint;
import io.moelab.runtime.bench.SyntheticCheckpoint.Shape;
import io.moelab.runtime.model.ModelConfig;
import io.moelab.runtime.model.WeightFormat;
import io.moelab.runtime.tensor.DType;
import io.moelab.runtime.tensor.ProductTeam;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.DoubleSummaryStatistics;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/** {@code moelab bench}: prefill and decode throughput, memory and the bandwidth roofline of a model. */
@Command(name = "bench", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Benchmark a Hugging Face MoE model: batched prefill (the prompt layer by layer, each weight"
                + " read once) and decode tokens/s (greedy, or fed random token ids: --decode-inputs; medians over"
                + " --runs after --warmup-tokens untimed passes"
                + " and untimed runs until the JIT settles), the median"
                + " and 90th-percentile time of a decoded token, resident weight bytes, peak heap, off-heap bytes,"
                + " weight bytes read per decoded token, and the machine's measured memory read bandwidth with the"
                + " fraction of it that decoding achieves (by the median run, run by run against a reading right"
                + " after it, and by the median token).",
                "With --synthetic SHAPE a random Mixtral-layout checkpoint of that shape is first written into"
                        + " --model DIR (m100: 102.8M parameters, 21.6M active per token; tiny: for tests), a new or"
                        + " empty directory, or reused if DIR already holds the same one, e.g.:",
                "  moelab bench --synthetic m100 --model /tmp/m100 --weights int4"})
public final class BenchCommand implements Callable<Integer> {
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Spec
    private CommandSpec spec;

    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Model directory.")
    private Path model;

    @Option(names = "--weights", paramLabel = ModelOptions.WEIGHTS_LABEL, defaultValue = "stored",
            description = ModelOptions.WEIGHTS)
    private String weights;

    @Option(names = "--threads", paramLabel = "N", description = ModelOptions.THREADS)
    private Integer threads;

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "64",
            description = "Prompt length, prefilled in one batch (default: 64).")
    private int promptTokens;

    @Option(names = "--decode-tokens", paramLabel = "N", defaultValue = "32",
            description = "Tokens decoded after the prompt (default: 32).")
    private int decodeTokens;

    @Option(names = "--decode-inputs", paramLabel = "greedy|random", defaultValue = "greedy",
            converter = DecodeInputsConverter.class,
            description = "What each decode step is fed: the previous step's argmax (greedy), or a random token id"
                    + " after computing that argmax (random: the same work per step, experts varying as in serving;"
                    + " a model with random weights decodes greedily into loops of one token whose experts stay in"
                    + " cache) (default: greedy).")
    private ModelBench.DecodeInputs decodeInputs;

    @Option(names = "--runs", paramLabel = "N", defaultValue = "3",
            description = "Timed prefill + decode runs; medians are reported (default: 3).")
    private int runs;

    @Option(names = "--warmup-tokens", paramLabel = "N", defaultValue = "256",
            description = "Untimed forward passes first, for the JIT (default: 256; fewer leave the JIT"
                    + " unfinished, measured).")
    private int warmupTokens;

    @Option(names = "--warmup-runs", paramLabel = "N", defaultValue = "" + ModelBench.DEFAULT_WARMUP_RUNS,
            description = "Most untimed runs (shaped as the timed ones) after the warm-up tokens, stopped once two in a"
                    + " row added no JIT compilation: a compilation takes a core from decoding on a small machine"
                    + " (default: ${DEFAULT-VALUE}; 0 for none).")
    private int warmupRuns;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "1",
            description = "Seed of the prompt's token ids and of --synthetic weights (default: 1).")
    private long seed;

    @Option(names = "--measure-bandwidth", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Measure the memory read bandwidth before and after the runs, keeping the higher, and"
                    + " right after each run for a paired roofline (default: on; --no-measure-bandwidth skips it).")
    private boolean measureBandwidth;

    @Option(names = "--bandwidth-mib", paramLabel = "MIB", defaultValue = "1024",
            description = "Buffer of the bandwidth measurement, MiB; keep it well above the last-level cache"
                    + " (default: 1024); not with --no-measure-bandwidth.")
    private int bandwidthMib;

    @Option(names = "--synthetic", paramLabel = "m100|tiny",
            description = "Write a random Mixtral-layout checkpoint of this shape into --model DIR first: a new or"
                    + " empty directory (reused when DIR already holds the same shape, type and seed; refused when"
                    + " it holds anything else).")
    private String synthetic;

    @Option(names = "--synthetic-dtype", paramLabel = "f32|bf16", defaultValue = "f32",
            description = "Stored type of --synthetic weights; only with --synthetic (default: f32).")
    private String syntheticDtype;

    @Option(names = "--format", paramLabel = "table|json", defaultValue = "table",
            description = "Output: a table or one JSON object (default: table).")
    private String format;

    @Override
    public Integer call() {
        Inputs.refuseDirectory("--model", model);
        WeightFormat weightFormat = ModelOptions.weightFormat(weights);
        String format = Choices.require("--format", this.format, "table", "json");
        positive("--prompt-tokens", promptTokens);
        positive("--decode-tokens", decodeTokens);
        positive("--runs", runs);
        positive("--bandwidth-mib", bandwidthMib);
        // The buffer is off-heap and touched whole; half the machine leaves room for the model beside it.
        if (measureBandwidth && (long) bandwidthMib << 20 > Heap.machineBytes() / 2) {
            throw new InvalidInputException("--bandwidth-mib", bandwidthMib + " MiB is more than half of this "
                    + "machine's " + (Heap.machineBytes() >> 20) + " MiB of memory");
        }
        if (warmupTokens < 0) {
            throw new InvalidInputException("--warmup-tokens", "must not be negative, got " + warmupTokens);
        }
        if (warmupRuns < 0) {
            throw new InvalidInputException("--warmup-runs", "must not be negative, got " + warmupRuns);
        }
        if (!measureBandwidth && spec.commandLine().getParseResult().hasMatchedOption("--bandwidth-mib")) {
            // The buffer size was asked for, and no measurement would use it.
            throw new InvalidInputException("--bandwidth-mib", "sizes the bandwidth measurement, which "
                    + "--no-measure-bandwidth turns off");
        }
        if (synthetic == null && spec.commandLine().getParseResult().hasMatchedOption("--synthetic-dtype")) {
            // Without --synthetic nothing is written and the model is benchmarked as stored: the type asked for was
            // silently not the one measured.
            throw new InvalidInputException("--synthetic-dtype", "applies only with --synthetic (the model in --model "
                    + "is benchmarked as stored; --weights chooses how its weights are held)");
        }
        ModelOptions.useThreads(threads);
        PrintWriter out = spec.commandLine().getOut();
        Synthetic checkpoint = synthetic != null ? synthetic() : null;
        // A synthetic model's configuration is known before it is written: the options are checked against it first,
        // so that bad input writes nothing (a too long --prompt-tokens left a fresh checkpoint behind).
        ModelConfig config = checkpoint != null ? checkpoint.shape().modelConfig() : ModelConfig.ofModel(model);
        // Named after the larger of the two, the one to lower (a huge --prompt-tokens is not --decode-tokens' fault).
        KvCacheSize.require(promptTokens > decodeTokens ? "--prompt-tokens" : "--decode-tokens", config,
                (long) promptTokens + decodeTokens,
                "a run of " + promptTokens + " prompt tokens plus " + decodeTokens + " decoded ones");
        KvCacheSize.require("--warmup-tokens", config, warmupTokens, "a warm-up of " + warmupTokens + " tokens");
        if (checkpoint != null) {
            // With JSON, stdout is the one document a pipe parses; the note of the checkpoint goes to stderr.
            writeSynthetic(format.equals("json") ? spec.commandLine().getErr() : out, checkpoint);
        }
        Result r;
        try (StatusLine status = StatusLine.start("bench")) {
            r = ModelBench.run(model, options(), status::show);
        }
        if (format.equals("json")) {
            out.println(JSON.writerWithDefaultPrettyPrinter().writeValueAsString(json(r)));
        } else {
            table(out, r);
        }
        if (r.residentWeightBytes() != r.accountedResidentBytes()) {
            spec.commandLine().getErr().println("warning: the weight accounting (" + r.accountedResidentBytes()
                    + " bytes) disagrees with the model's (" + r.residentWeightBytes()
                    + "); active bytes per token may be off");
        }
        return 0;
    }

    private static void positive(String option, int value) {
        if (value < 1) {
            throw new InvalidInputException(option, "must be positive, got " + value);
        }
    }

    /** A synthetic checkpoint to write or reuse: its shape, stored type and what {@code --model} holds now. */
    private record Synthetic(Shape shape, DType dtype, SyntheticCheckpoint.Contents contents) {
    }

    /**
     * The synthetic checkpoint the options ask for, checked against what {@code --model} holds, nothing written.
     *
     * @throws InvalidInputException for an unknown shape or type, or a directory that holds something else
     */
    private Synthetic synthetic() {
        Shape shape;
        try {
            shape = Shape.named(synthetic);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("--synthetic", e.getMessage());
        }
        DType dtype = switch (syntheticDtype) {
            case "f32" -> DType.F32;
            case "bf16" -> DType.BF16;
            default -> throw new InvalidInputException("--synthetic-dtype", "expected f32 or bf16, got "
                    + syntheticDtype);
        };
        SyntheticCheckpoint.Contents contents = SyntheticCheckpoint.inspect(model, shape, dtype, seed);
        if (contents == SyntheticCheckpoint.Contents.OTHER) {
            // Writing would replace another model's config.json and weights, or leave a mix (shards beside ours).
            throw new InvalidInputException("--model", model + (Files.isDirectory(model)
                    ? " holds another model (or other files)" : " is not a directory") + "; --synthetic writes into a"
                    + " new or empty directory, or reuses one that holds the same synthetic checkpoint (" + synthetic
                    + " " + dtype + ", seed " + seed + ")");
        }
        return new Synthetic(shape, dtype, contents);
    }

    private void writeSynthetic(PrintWriter out, Synthetic s) {
        if (s.contents() == SyntheticCheckpoint.Contents.SAME) {
            out.println("reusing the synthetic " + synthetic + " " + s.dtype() + " checkpoint in " + model);
        } else {
            long start = System.nanoTime();
            SyntheticCheckpoint.write(model, s.shape(), s.dtype(), seed);
            out.printf(Locale.ROOT, "wrote a synthetic %s %s checkpoint (%d parameters) to %s in %.1f s%n",
                    synthetic, s.dtype(), s.shape().parameters(), model, (System.nanoTime() - start) / 1e9);
        }
        out.flush();
    }

    /** What the benchmark runs with, from the options as given (package-private: a test pins the defaults). */
    Options options() {
        return new Options(ModelOptions.weightFormat(weights), promptTokens, decodeTokens, warmupTokens, warmupRuns,
                runs, seed, measureBandwidth ? (long) bandwidthMib << 20 : 0, 5, decodeInputs);
    }

    /** The JSON report of {@code r} (package-private: a test checks it against figures chosen by hand). */
    ObjectNode json(Result r) {
        ObjectNode n = JSON.createObjectNode();
        n.put("model", model.toString());
        n.put("weights", weights);
        n.put("threads", ProductTeam.shared().threads());
        n.put("parameters", r.parameters());
        n.put("prompt_tokens", promptTokens);
        n.put("decode_tokens", decodeTokens);
        n.put("decode_inputs", decodeInputs.name().toLowerCase(Locale.ROOT));
        n.put("decode_distinct_inputs", r.distinctDecodeInputs());
        n.put("runs", runs);
        n.put("warmup_runs", r.warmupRunsDone());
        n.put("jit_settled", r.jitSettled());
        n.put("prefill_tokens_per_s", r.prefillTokensPerSecond());
        n.put("decode_tokens_per_s", r.decodeTokensPerSecond());
        array(n.putArray("prefill_tokens_per_s_runs"), r.prefillRuns());
        array(n.putArray("decode_tokens_per_s_runs"), r.decodeRuns());
        n.put("resident_weight_bytes", r.residentWeightBytes());
        n.put("active_bytes_per_token", r.activeBytesPerToken());
        n.put("peak_heap_bytes", r.peakHeapBytes());
        n.put("off_heap_bytes", r.offHeapBytes());
        n.put("mapped_bytes", r.mappedBytes());
        n.put("quantized_bytes", r.quantizedBytes());
        n.put("load_seconds", r.loadSeconds());
        n.put("achieved_gbps", r.achievedGBps());
        n.put("decode_token_us_median", r.medianTokenMicros());
        n.put("decode_token_us_p90", r.p90TokenMicros());
        if (r.bandwidthGBps().isPresent()) {
            n.put("memory_bandwidth_gbps", r.bandwidthGBps().getAsDouble());
            n.put("roofline_fraction", r.rooflineFraction().getAsDouble());
            n.put("roofline_tokens_per_s", r.rooflineTokensPerSecond().getAsDouble());
            array(n.putArray("run_bandwidth_gbps"), r.runBandwidthGBps());
            n.put("paired_roofline_fraction", r.pairedRooflineFraction().getAsDouble());
            n.put("token_roofline_fraction", r.tokenRooflineFraction().getAsDouble());
        } else {
            n.putNull("memory_bandwidth_gbps");
            n.putNull("roofline_fraction");
            n.putNull("roofline_tokens_per_s");
            n.putNull("run_bandwidth_gbps");
            n.putNull("paired_roofline_fraction");
            n.putNull("token_roofline_fraction");
        }
        return n;
    }

    /** {@code greedy} or {@code random}, in any case; anything else is refused naming the two. */
    static final class DecodeInputsConverter implements picocli.CommandLine.ITypeConverter<ModelBench.DecodeInputs> {
        @Override
        public ModelBench.DecodeInputs convert(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "greedy" -> ModelBench.DecodeInputs.GREEDY;
                case "random" -> ModelBench.DecodeInputs.RANDOM;
                default -> throw new picocli.CommandLine.TypeConversionException("expected greedy or random, found '"
                        + value + "'");
            };
        }
    }

    private static void array(ArrayNode a, List<Double> values) {
        values.forEach(a::add);
    }

    /** The table of {@code r} (package-private: a test checks it against figures chosen by hand). */
    void table(PrintWriter out, Result r) {
        String runsNote = runs == 1 ? "1 run" : "median of " + runs + " runs";
        row(out, "model", model + " (" + String.format(Locale.ROOT, "%.1fM", r.parameters() / 1e6)
                + " parameters), weights " + weights + ", " + ProductTeam.shared().threads() + " threads");
        row(out, "prefill", String.format(Locale.ROOT, "%.1f tokens/s (batched, %d-token prompt, %s)",
                r.prefillTokensPerSecond(), promptTokens, runsNote));
        row(out, "decode", String.format(Locale.ROOT, "%.1f tokens/s (%s, %s, %s; %d distinct inputs)",
                r.decodeTokensPerSecond(), decodeInputs == ModelBench.DecodeInputs.GREEDY ? "greedy" : "random inputs",
                Nouns.count(decodeTokens, "token"), runsNote, r.distinctDecodeInputs()));
        row(out, "warm-up", Nouns.count(warmupTokens, "token") + ", then "
                + Nouns.count(r.warmupRunsDone(), "untimed run") + (r.jitSettled() ? " (until the JIT settled)"
                : warmupRuns == 0 ? "" : " (the JIT still compiling: raise --warmup-runs)"));
        row(out, "token time", String.format(Locale.ROOT,
                "median %.0f us (%.1f tokens/s), p90 %.0f us, over every decoded token of every run",
                r.medianTokenMicros(), 1e6 / r.medianTokenMicros(), r.p90TokenMicros()));
        row(out, "resident weights", mb(r.residentWeightBytes()));
        row(out, "active per token", mb(r.activeBytesPerToken()));
        row(out, "achieved", String.format(Locale.ROOT, "%.2f GB/s (active bytes x decode tokens/s)",
                r.achievedGBps()));
        if (r.bandwidthGBps().isPresent()) {
            row(out, "memory bandwidth", String.format(Locale.ROOT,
                    "%.2f GB/s (parallel read of %d MiB, best of 5, higher of before and after the runs)",
                    r.bandwidthGBps().getAsDouble(), bandwidthMib));
            row(out, "roofline", String.format(Locale.ROOT, "%.1f%% of bandwidth (roofline %.1f tokens/s)",
                    100 * r.rooflineFraction().getAsDouble(), r.rooflineTokensPerSecond().getAsDouble()));
            DoubleSummaryStatistics readings = r.runBandwidthGBps().stream().mapToDouble(Double::doubleValue)
                    .summaryStatistics();
            row(out, "roofline, paired", String.format(Locale.ROOT,
                    "%.1f%% (median over runs of each run's decode against a reading right after it: %.2f-%.2f GB/s)",
                    100 * r.pairedRooflineFraction().getAsDouble(), readings.getMin(), readings.getMax()));
            row(out, "roofline, token", String.format(Locale.ROOT,
                    "%.1f%% (active bytes in the median token time, against the bandwidth above)",
                    100 * r.tokenRooflineFraction().getAsDouble()));
        } else {
            row(out, "memory bandwidth", "not measured");
        }
        row(out, "peak heap", mb(r.peakHeapBytes()) + " (sum of heap pools' peaks, load included)");
        row(out, "off-heap", mb(r.offHeapBytes()) + " (mapped checkpoint " + mb(r.mappedBytes())
                + " + quantized " + mb(r.quantizedBytes()) + ")");
        row(out, "load", String.format(Locale.ROOT, "%.2f s", r.loadSeconds()));
    }

    private static void row(PrintWriter out, String label, String value) {
        out.printf(Locale.ROOT, "%-18s %s%n", label, value);
    }

    private static String mb(long bytes) {
        return String.format(Locale.ROOT, "%.1f MB", bytes / 1e6);
    }
}
