package io.moelab.cli.runtime;

import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Plots;
import io.moelab.cli.support.Progress;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.eplb.trace.StepSink;
import io.moelab.eplb.trace.TraceFiles;
import io.moelab.eplb.trace.TraceFormat;
import io.moelab.runtime.model.KvCache;
import io.moelab.runtime.model.MoeModel;
import io.moelab.runtime.tokenizer.Tokenizer;
import io.moelab.runtime.tokenizer.Tokenizers;
import io.moelab.runtime.trace.ExpertLoadRecorder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/** {@code moelab trace}: record expert loads while a model reads texts. */
@Command(name = "trace", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Run a MoE model over texts and record, per step of --batch-tokens tokens, how many tokens each "
                + "expert of each MoE layer received (dense layers and shared experts left out), as the vLLM-style "
                + "expert-load JSON that 'moelab eplb' and 'moelab sim' read "
                + "({\"load_history\": [{\"logical_expert_load\": [[...] per MoE layer]}, ...]}: "
                + "logical_expert_load is vLLM's name for one forward pass's counts, which it keeps in memory; "
                + "load_history is moelab's). Each text is a separate sequence, read in "
                + "windows of --context tokens; steps run on from one text into the next.")
public final class TraceCommand implements Callable<Integer> {
    @Spec
    private CommandSpec spec;

    @Mixin
    private ModelOptions model;

    @Option(names = "--text", required = true, arity = "1..*", paramLabel = "FILE",
            description = "UTF-8 texts; - reads one from stdin.")
    private List<Path> texts;

    @Option(names = "--output", required = true, paramLabel = "TRACE.json",
            description = "Where to write; - prints the trace on stdout (the summary then goes to stderr).")
    private Path output;

    @Option(names = "--batch-tokens", paramLabel = "N", defaultValue = "256",
            description = "Tokens per recorded step, at least 1 (default 256).")
    private int batchTokens;

    @Option(names = "--context", paramLabel = "N", defaultValue = "512",
            description = "Window length, at least 1 (default 512; the model's max_position_embeddings where that "
                    + "is smaller).")
    private int context;

    @Option(names = "--plot", paramLabel = "PNG",
            description = "Also draw a heat map: one row per text, the share of its tokens each expert of MoE layer "
                    + "--plot-layer received (where the hot experts sit as the stream moves from text to text); a "
                    + "file, not -.")
    private Path plot;

    @Option(names = "--plot-layer", paramLabel = "N", defaultValue = "0",
            description = "The MoE layer (0-based among MoE layers) of --plot (default 0).")
    private int plotLayer;

    @Override
    public Integer call() throws Exception {
        if (batchTokens < 1) {
            throw new InvalidInputException("--batch-tokens", "must be at least 1, got " + batchTokens);
        }
        if (context < 1) {
            throw new InvalidInputException("--context", "must be at least 1, got " + context);
        }
        if (plot == null && spec.commandLine().getParseResult().hasMatchedOption("--plot-layer")) {
            // The layer of a heat map that is not drawn: silently ignored, it looked like it had been used.
            throw new InvalidInputException("--plot-layer", "picks the layer of --plot's heat map, and no --plot "
                    + "was given");
        }
        // Before the model runs: a bad path would otherwise fail only after it.
        Outputs.refuseStdout("--plot", plot, "a PNG image");
        Inputs.requireOne(Map.of("--text", texts));
        Outputs.check("--output", output, "--plot", plot, Map.of("--text",
                texts.stream().filter(t -> !Inputs.isStdin(t)).toList(), "--model", Outputs.filesIn(model.dir())));
        List<String> contents = new ArrayList<>();
        for (Path t : texts) {
            contents.add(ModelText.read(t, "--text"));
        }
        List<long[][]> perText = new ArrayList<>();
        List<String> lines = new ArrayList<>();
        long[] tokensRead = {0};
        int steps;
        int moeLayers;
        // Each step goes to the file as it closes: held to the end, --batch-tokens 1 kept a layers x experts matrix
        // per token, twice (counts, then loads), and 20,000 tokens of a 16 x 256 model ran a 1 GiB heap out.
        StepSink[] file = new StepSink[1];
        try (MoeModel m = model.load();
             Tokenizer tokenizer = Tokenizers.forModel(model.dir(), m.config().vocabSize())) {
            ExpertLoadRecorder recorder = new ExpertLoadRecorder(m.config(), step -> file[0].accept(loads(step)));
            moeLayers = recorder.moeLayers();
            // No experts, or experts that no layer uses (mlp_only_layers, decoder_sparse_step): nothing to record.
            if (moeLayers == 0) {
                throw new InvalidInputException("--model", model.dir() + " has no MoE layers");
            }
            if (plotLayer < 0 || plotLayer >= moeLayers) {
                throw new InvalidInputException("--plot-layer", "must lie in 0.." + (moeLayers - 1)
                        + ", got " + plotLayer);
            }
            ExpertLoadRecorder[] text = new ExpertLoadRecorder[1];
            m.routingListener((layer, chosen) -> {
                recorder.routed(layer, chosen);
                text[0].routed(layer, chosen);
            });
            // Every text first, so that one without tokens is refused before the others run. Summarized and
            // plotted, such a text showed expert 0 as its hottest, with 0.0%.
            List<int[]> encoded = new ArrayList<>();
            for (int t = 0; t < contents.size(); t++) {
                encoded.add(tokenizer.encode(contents.get(t)));
                if (encoded.getLast().length == 0) {
                    throw new InvalidInputException("--text", Inputs.name(texts.get(t))
                            + (contents.get(t).isEmpty() ? " is empty"
                            : " holds no tokens"));
                }
            }
            // The longest window of all texts, before the model reads any: a window's own length, so a --context
            // longer than the texts asks for no larger cache. Checked window by window, a long last text was refused
            // only after every earlier one had run.
            context = KvCacheSize.context(spec, context, m.config());
            int longest = encoded.stream().mapToInt(tokens -> Math.min(tokens.length, context)).max().orElseThrow();
            KvCacheSize.require("--context", m.config(), longest, "a window of " + Nouns.count(longest, "token"));
            KvCacheSize.warnPastTrained(spec.commandLine().getErr(), "--context", m.config(), longest,
                    "the longest window");
            long total = encoded.stream().mapToLong(tokens -> tokens.length).sum();
            // Steps run on across windows and texts, so every one but the last holds --batch-tokens tokens.
            long stepCount = (total + batchTokens - 1) / batchTokens;
            if (stepCount > Integer.MAX_VALUE) {
                throw new InvalidInputException("--batch-tokens", "makes " + stepCount + " steps of "
                        + Nouns.count(total, "token") + ", more than a trace holds (" + Integer.MAX_VALUE + ")");
            }
            steps = (int) stepCount;
            java.util.Map<String, double[]> rows = new java.util.LinkedHashMap<>();
            // Both files or neither: a plot that cannot be written leaves no trace behind (and prints none), and a
            // run that fails part way leaves no file.
            try (Outputs.TextOutput out = Outputs.text(output)) {
                AtomicFiles.together(() -> {
                    TraceFiles.write(out.file(), TraceFormat.VLLM, moeLayers, m.config().experts(), steps, true,
                            sink -> {
                                file[0] = sink;
                                tokensRead[0] = record(m, encoded, recorder, text, perText, total);
                            });
                    summarize(perText, lines, rows);
                    if (plot != null) {
                        Plots.heatMap(plot, "MoE layer " + plotLayer + ": share of each text's tokens per expert",
                                "expert", rows);
                    }
                });
                out.print(spec.commandLine().getOut());
            }
        }
        java.io.PrintWriter out = Outputs.notes(spec, output, plot);
        out.println("wrote " + Outputs.name(output) + ": " + Nouns.count(steps, "step") + " of up to "
                + Nouns.count(batchTokens, "token") + " (" + Nouns.count(tokensRead[0], "token") + "), "
                + Nouns.count(moeLayers, "MoE layer"));
        out.println("hottest expert per text and MoE layer (share of the text's assignments):");
        lines.forEach(out::println);
        if (plot != null) {
            out.println("wrote " + plot);
        }
        return 0;
    }

    /**
     * Runs the model over every text in windows of --context tokens, closing a step of {@code recorder} every
     * --batch-tokens tokens (and the last, partial one); {@code perText} gets each text's counts. Returns the tokens
     * read.
     */
    private long record(MoeModel m, List<int[]> encoded, ExpertLoadRecorder recorder, ExpertLoadRecorder[] text,
                        List<long[][]> perText, long total) {
        long tokensRead = 0;
        try (Progress progress = Progress.start("trace", total)) {
            for (int[] tokens : encoded) {
                text[0] = new ExpertLoadRecorder(m.config());
                for (int start = 0; start < tokens.length; start += context) {
                    int end = (int) Math.min(tokens.length, (long) start + context);
                    KvCache cache = m.newCache(end - start);
                    // Chunks that end where a step ends, each prefilled in one batched pass.
                    for (int i = start; i < end; ) {
                        int chunk = (int) Math.min(end - i, batchTokens - recorder.tokensInStep());
                        m.prefill(java.util.Arrays.copyOfRange(tokens, i, i + chunk), i - start, cache, false);
                        i += chunk;
                        tokensRead += chunk;
                        progress.stepTo(tokensRead);
                        if (recorder.tokensInStep() >= batchTokens) {
                            recorder.endStep();
                        }
                    }
                }
                text[0].endStep();
                perText.add(text[0].steps().getFirst());
            }
        }
        recorder.endStep();
        return tokensRead;
    }

    /** A step's counts as loads. */
    private static LoadMatrix loads(long[][] step) {
        double[][] rows = new double[step.length][];
        for (int l = 0; l < step.length; l++) {
            rows[l] = java.util.Arrays.stream(step[l]).asDoubleStream().toArray();
        }
        return LoadMatrix.of(rows, "load");
    }

    /**
     * Per text, each MoE layer's hottest expert and its share of the text's routed tokens, as summary lines; and the
     * shares of MoE layer --plot-layer, per text label, for the plot.
     */
    private void summarize(List<long[][]> perText, List<String> lines, java.util.Map<String, double[]> rows) {
        List<String> labels = labels(texts);
        for (int t = 0; t < texts.size(); t++) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-28s", labels.get(t)));
            long[][] counts = perText.get(t);
            for (int l = 0; l < counts.length; l++) {
                double[] share = ExpertLoadRecorder.shares(counts[l]);
                int hot = 0;
                for (int e = 1; e < share.length; e++) {
                    if (share[e] > share[hot]) {
                        hot = e;
                    }
                }
                // A decimal point in any locale, as every other number printed (LANG=de_DE gave "61,3%").
                line.append(String.format(Locale.ROOT, " L%d:e%-3d %4.1f%%", l, hot, 100 * share[hot]));
                if (l == plotLayer) {
                    rows.put(labels.get(t), share);
                }
            }
            lines.add(line.toString());
        }
    }

    /**
     * A distinct label per text: its file name, or as many trailing path elements as tell it from the others
     * ({@code a/x.txt}, {@code b/x.txt}); a file given twice gets {@code (2)}. With file names alone, two texts named
     * alike read as one in the summary, and the plot's second row replaced the first. Standard input ({@code -}) is
     * {@code standard input}.
     */
    static List<String> labels(List<Path> texts) {
        // One relative element: a file of that name is told from it by its directory, as any two files are.
        List<Path> full = texts.stream().map(p -> Inputs.isStdin(p) ? Path.of(Inputs.NAME)
                : p.toAbsolutePath().normalize()).toList();
        int most = full.stream().mapToInt(Path::getNameCount).max().orElse(1);
        List<String> labels = new ArrayList<>();
        for (int k = 1; k <= most; k++) {
            labels.clear();
            for (Path p : full) {
                int n = p.getNameCount();
                labels.add(n == 0 ? p.toString() : p.subpath(Math.max(0, n - k), n).toString());
            }
            // Distinct files, distinct labels (the same file given twice is numbered below).
            java.util.Map<String, Path> owner = new java.util.HashMap<>();
            boolean distinct = true;
            for (int i = 0; i < labels.size() && distinct; i++) {
                Path previous = owner.putIfAbsent(labels.get(i), full.get(i));
                distinct = previous == null || previous.equals(full.get(i));
            }
            if (distinct) {
                break;
            }
        }
        java.util.Map<String, Integer> seen = new java.util.HashMap<>();
        List<String> numbered = new ArrayList<>();
        for (String l : labels) {
            int times = seen.merge(l, 1, Integer::sum);
            numbered.add(times == 1 ? l : l + " (" + times + ")");
        }
        return numbered;
    }
}
