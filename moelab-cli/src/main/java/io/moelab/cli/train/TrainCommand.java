package io.moelab.cli.train;

import io.moelab.cli.support.DirectoryLock;
import io.moelab.cli.support.Heap;
import io.moelab.cli.support.Inputs;
import io.moelab.cli.support.Outputs;
import io.moelab.cli.support.Plots;
import io.moelab.cli.support.Progress;
import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import io.moelab.eplb.io.AtomicFiles;
import io.moelab.runtime.tensor.ProductTeam;
import io.moelab.runtime.trace.ExpertLoadRecorder;
import io.moelab.train.data.Corpus;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.loop.Checkpoints;
import io.moelab.train.loop.TrainConfig;
import io.moelab.train.loop.TrainListener;
import io.moelab.train.loop.Trainer;
import io.moelab.train.loop.Validation;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.SettingException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine.Model.CommandSpec;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/** {@code moelab train}: train a small MoE language model with DJL's PyTorch engine. */
@Command(name = "train", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Train a small byte-level MoE language model on CPU (DJL, PyTorch engine, offline) and export "
                + "it as a Hugging Face qwen3_moe checkpoint in OUT/model that the runtime commands load.",
                "Writes OUT/metrics.jsonl, OUT/checkpoints/, OUT/model/, OUT/summary.json, OUT/routing.json "
                        + "(per-domain expert assignments on validation text), OUT/validation/DOMAIN.txt (held-out "
                        + "text, a workload for 'moelab trace'), OUT/loss.png and OUT/routing-layer-N.png.",
                "Presets: tiny (0.45M parameters, about 15 s on two idle cores) and small (the reference Switch "
                        + "Transformer: 26M parameters, 16 experts, top-1). Every hyper-parameter can be overridden; "
                        + "unset ones come from the preset (see docs/TRAINING.md)."})
public final class TrainCommand implements Callable<Integer> {
    /** Reads the run's metrics.jsonl, which never repeats a key: a repeat is refused (see Checkpoints.JSON). */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    @Spec
    private CommandSpec spec;

    @Option(names = "--preset", defaultValue = "tiny", paramLabel = "tiny|small",
            description = "Starting configuration (default tiny).")
    private String preset;

    @Option(names = "--corpus", arity = "1..*", paramLabel = "default|PATH",
            description = "'default' (Brown Corpus genres and the Jargon File, shipped with moelab) or text files "
                    + "(.txt, .txt.gz) and directories of them; each file is one domain (with --resume: the run's "
                    + "own, or its text moved to another place). Not - (standard input): a domain is a file's name, "
                    + "and --resume reads the files again.")
    private List<String> corpus;

    @Option(names = "--steps", paramLabel = "S", description = "Optimizer steps (with --resume: the new total).")
    private Integer steps;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Run directory.")
    private Path out;

    @Option(names = "--resume", description = "Continue the run in --out from its newest checkpoint, exactly.")
    private boolean resume;

    @Option(names = "--threads", paramLabel = "N",
            description = "PyTorch intra-op threads (default: all cores). With 1 a run is bit-for-bit reproducible; "
                    + "with more, PyTorch's CPU kernels may differ in the last bits between runs, and on a busy "
                    + "machine 1 is often faster.")
    private Integer threads;

    @Option(names = "--layers", paramLabel = "N", description = "Decoder blocks.") private Integer layers;
    @Option(names = "--d-model", paramLabel = "N", description = "Hidden size.") private Integer dModel;
    @Option(names = "--heads", paramLabel = "N", description = "Query heads.") private Integer heads;
    @Option(names = "--kv-heads", paramLabel = "N",
            description = "Key/value heads (grouped-query attention).")
    private Integer kvHeads;
    @Option(names = "--experts", paramLabel = "N", description = "Experts per MoE layer.") private Integer experts;
    @Option(names = "--top-k", paramLabel = "K", description = "Experts per token (1: Switch).") private Integer topK;
    @Option(names = "--expert-dim", paramLabel = "N",
            description = "Intermediate size of one expert.")
    private Integer expertDim;
    @Option(names = "--norm-topk", paramLabel = "true|false", arity = "1",
            description = "Renormalize the top-k gates (default: true for top-k > 1, false for top-1 Switch; "
                    + "with top-1, true makes the gate 1).")
    private Boolean normTopK;
    @Option(names = "--rope-theta", paramLabel = "X", description = "RoPE base.") private Double ropeTheta;
    @Option(names = "--seq", paramLabel = "N", description = "Tokens per training window.") private Integer seq;
    @Option(names = "--batch", paramLabel = "N", description = "Windows per step.") private Integer batch;
    @Option(names = "--lr", paramLabel = "X", description = "Peak learning rate.") private Double lr;
    @Option(names = "--min-lr-ratio", paramLabel = "X",
            description = "Final learning rate as a share of the peak (cosine decay).")
    private Double minLrRatio;
    @Option(names = "--warmup", paramLabel = "N", description = "Linear warm-up steps.") private Integer warmup;
    @Option(names = "--weight-decay", paramLabel = "X",
            description = "AdamW decoupled weight decay (matrices only).")
    private Double weightDecay;
    @Option(names = "--beta1", paramLabel = "X", description = "AdamW first-moment decay.") private Double beta1;
    @Option(names = "--beta2", paramLabel = "X", description = "AdamW second-moment decay.") private Double beta2;
    @Option(names = "--clip", paramLabel = "X", description = "Global gradient-norm clip, 0 for none.")
    private Double clip;
    @Option(names = "--aux-weight", paramLabel = "X", description = "Switch load-balancing loss weight.")
    private Double auxWeight;
    @Option(names = "--z-weight", paramLabel = "X", description = "Router z-loss weight.") private Double zWeight;
    @Option(names = "--capacity-factor", paramLabel = "X", description = "0 for no capacity (no dropping).")
    private Double capacityFactor;
    @Option(names = "--seed", paramLabel = "N", description = "Seeds initialization and batches.") private Long seed;
    @Option(names = "--batch-sampler", paramLabel = "1|2", description = "How batches are drawn from the seed: 2 "
            + "(default), or 1 to repeat a run made before 2026-12-05, such as the reference runs in "
            + "docs/TRAINING.md (its seeds s and s + 2 drew nearly the same batches).")
    private Integer batchSampler;
    @Option(names = "--log-every", paramLabel = "N",
            description = "Steps between metrics.jsonl lines (may change with --resume).")
    private Integer logEvery;
    @Option(names = "--eval-every", paramLabel = "N", description = "Steps between validations and checkpoints "
            + "(may change with --resume).")
    private Integer evalEvery;
    @Option(names = "--eval-windows", paramLabel = "N", description = "Validation windows per domain (may change "
            + "with --resume: resuming a finished run with more windows re-evaluates it).")
    private Integer evalWindows;

    /**
     * With {@code --resume}, a {@code --corpus} that names the run's text in another place (its files moved), else
     * null.
     */
    private List<String> movedCorpus;

    /** The directories a run writes in its --out. */
    private static final List<String> RUN_DIRECTORIES = List.of("checkpoints", "model", "validation");

    /** The step this invocation started from (a resume's checkpoint), once training has started. */
    private long firstStep = -1;

    @Override
    public Integer call() throws Exception {
        if (corpus != null && corpus.stream().anyMatch(Inputs::isStdin)) {
            // Refused rather than spooled: the run would record a temporary file's path as its corpus.
            throw new InvalidInputException("--corpus", Inputs.NAME + " (" + Inputs.STDIN + ") cannot be a corpus: "
                    + "each corpus file is one domain, named after the file, and --resume reads it again; save the "
                    + "text as DOMAIN.txt and name that (./- for a file named -)");
        }
        if (steps != null && steps < 1) {
            throw new InvalidInputException("--steps", "must be at least 1, got " + steps);
        }
        if (threads != null) {
            // PyTorch starts them all: 100000 exhausted the machine's processes.
            int most = ProductTeam.MAX_THREADS_PER_PROCESSOR * Runtime.getRuntime().availableProcessors();
            if (threads < 1 || threads > most) {
                throw new InvalidInputException("--threads", "must be from 1 to " + most + " ("
                        + ProductTeam.MAX_THREADS_PER_PROCESSOR + " per processor), got " + threads);
            }
            // Read by DJL when the engine loads, which happens below.
            System.setProperty("ai.djl.pytorch.num_threads", Integer.toString(threads));
        }
        // Before training: a bad --out (a file, no access) would otherwise fail only when the first file is written,
        // and a path of the run's taken by the wrong kind of file only once the run had trained (a file checkpoints
        // then left a run that could neither resume nor start again).
        Outputs.checkDirectory("--out", out, "summary.json", "loss.png", "routing.json", "metrics.jsonl");
        for (String directory : RUN_DIRECTORIES) {
            if (Files.exists(out.resolve(directory)) && !Files.isDirectory(out.resolve(directory))) {
                throw new InvalidInputException("--out " + out, directory + " is a file, not a directory (the run "
                        + "writes one there)");
            }
        }
        List<Path> created = Stream.of(out, out.resolve("checkpoints"), out.resolve("metrics.jsonl"))
                .filter(p -> !Files.exists(p)).toList();
        // Claimed for the whole run, resume included: two runs on one --out at once wrote one metrics.jsonl and one
        // checkpoints/ between them.
        Files.createDirectories(out);
        try (DirectoryLock lock = DirectoryLock.acquire("--out", out)) {
            return train(created, lock);
        }
    }

    private int train(List<Path> created, DirectoryLock lock) throws Exception {
        PrintWriter stdout = spec.commandLine().getOut();
        Trainer.Summary summary;
        boolean trained = false;
        try (Progress progress = Progress.start("train", 1)) {
            TrainListener listener = listener(progress);
            if (resume) {
                requireSavedConfiguration();
                summary = Trainer.resume(out, steps, evalWindows, logEvery, evalEvery, movedCorpus, listener);
            } else {
                summary = Trainer.start(config(), out, listener, batchSampler());
            }
            trained = true;
        } catch (Refused e) {
            throw e.getCause();
        } catch (Corpus.CorpusException e) {
            // The saved paths, read without a --corpus: they are all the user sees of it, and may have moved.
            String hint = resume && corpus == null ? " (the run's corpus, as its checkpoint names it; if its files "
                    + "moved, give their new place with --corpus)" : "";
            throw new InvalidInputException("--corpus", asGiven(e.getMessage()) + hint, e);
        } catch (Trainer.TrainingDivergedException e) {
            throw new InvalidInputException("--lr", e.getMessage(), e);
        } catch (IllegalArgumentException e) {
            if (e instanceof InvalidInputException) {
                throw e;
            }
            throw asOption(e, "train");
        } finally {
            if (!trained) {
                lock.close(); // its file would keep the --out this run created
                removeEmpty(created);
            }
        }
        AtomicFiles.together(() -> plots(summary)); // every plot or none
        removeStaleRoutingPlots(summary);
        report(stdout, summary);
        return 0;
    }

    /**
     * Deletes what a run that failed before its first checkpoint (a diverged step, a bad setting found once training
     * started) left of {@code created}, the paths this invocation made: an empty metrics.jsonl, an empty checkpoints
     * directory and an --out left empty, which read as a run that exists. Anything with content is kept.
     */
    private static void removeEmpty(List<Path> created) {
        for (Path p : created.reversed()) {
            try {
                if (Files.isDirectory(p)) {
                    Files.delete(p); // fails, and is kept, when not empty
                } else if (Files.isRegularFile(p) && Files.size(p) == 0) {
                    Files.delete(p);
                }
            } catch (IOException e) {
                // Not empty, or gone: nothing to clean.
            }
        }
    }

    /** An output path refused before training ({@link TrainListener#writes}), carried out of the trainer. */
    private static final class Refused extends RuntimeException {
        Refused(IOException cause) {
            super(cause);
        }

        @Override
        public synchronized IOException getCause() {
            return (IOException) super.getCause();
        }
    }

    private TrainListener listener(Progress progress) {
        return new TrainListener() {
            private double val = Double.NaN;

            @Override
            public void writes(TrainConfig config, List<Path> files, boolean validated) {
                Map<String, Path> outputs = new LinkedHashMap<>();
                files.forEach(f -> outputs.put(f.toString(), f));
                if (validated) {
                    // The plots (plots()): one per layer, drawn from the validation's routing.
                    for (int l = 0; l < config.model().layers(); l++) {
                        Path plot = out.resolve("routing-layer-" + l + ".png");
                        outputs.put(plot.toString(), plot);
                    }
                }
                try {
                    Outputs.check(outputs);
                } catch (IOException e) {
                    throw new Refused(e);
                }
            }

            @Override
            public void started(TrainConfig config, long firstStep, long totalSteps) {
                TrainCommand.this.firstStep = firstStep;
                progress.max(totalSteps);
                progress.stepTo(firstStep);
            }

            @Override
            public void stepped(long step, double loss) {
                progress.stepTo(step);
                progress.extra(String.format(Locale.ROOT, "loss %.3f%s", loss,
                        Double.isNaN(val) ? "" : String.format(Locale.ROOT, ", val %.3f bpb", val)));
            }

            @Override
            public void validated(long step, Validation.Result result) {
                val = result.bitsPerByte();
            }

            @Override
            public void warning(String message) {
                spec.commandLine().getErr().println("warning: " + message);
            }
        };
    }

    private int batchSampler() {
        if (batchSampler == null) {
            return TokenStreams.SAMPLER;
        }
        if (batchSampler != TokenStreams.LEGACY_SAMPLER && batchSampler != TokenStreams.SAMPLER) {
            throw new InvalidInputException("--batch-sampler", "must be " + TokenStreams.LEGACY_SAMPLER + " or "
                    + TokenStreams.SAMPLER + ", got " + batchSampler);
        }
        return batchSampler;
    }

    private TrainConfig config() {
        TrainConfig base;
        try {
            base = TrainConfig.preset(preset);
        } catch (IllegalArgumentException e) {
            throw new InvalidInputException("--preset", e.getMessage());
        }
        ModelSpec m = base.model();
        int k = or(topK, m.topK());
        boolean norm = normTopK != null ? normTopK : (topK == null ? m.normTopK() : k > 1);
        ModelSpec spec;
        try {
            spec = new ModelSpec(m.vocab(), or(layers, m.layers()), or(dModel, m.dModel()), or(heads, m.heads()),
                    or(kvHeads, m.kvHeads()), or(experts, m.experts()), k, or(expertDim, m.expertDim()), norm,
                    or(ropeTheta, m.ropeTheta()), m.rmsEps());
        } catch (IllegalArgumentException e) {
            throw asOption(e, "model");
        }
        requireMemoryFor(spec);
        List<String> corpusSpec = corpus == null ? base.corpus() : corpusPaths(corpus);
        if (corpusSpec.size() > 1 && corpusSpec.contains("default")) {
            throw new InvalidInputException("--corpus", "'default' cannot be combined with paths");
        }
        try {
            return new TrainConfig(base.preset(), spec, or(seq, base.seq()), or(batch, base.batch()),
                    or(steps, base.steps()), or(lr, base.lr()), or(minLrRatio, base.minLrRatio()),
                    or(warmup, base.warmup()), or(weightDecay, base.weightDecay()), or(beta1, base.beta1()),
                    or(beta2, base.beta2()), or(clip, base.clip()), or(auxWeight, base.auxWeight()),
                    or(zWeight, base.zWeight()), or(capacityFactor, base.capacityFactor()), or(seed, base.seed()),
                    or(logEvery, base.logEvery()), or(evalEvery, base.evalEvery()),
                    or(evalWindows, base.evalWindows()), corpusSpec);
        } catch (IllegalArgumentException e) {
            throw asOption(e, "train");
        }
    }

    /**
     * {@code e} under the option it is about where it is a setting's ({@code --lr: must be ...}), else under
     * {@code field}; a value out of range as the user would write it. A constraint between two settings goes under
     * the one given on the command line where only the other was not ({@code --heads 3} with the preset's d-model 64
     * is {@code --heads: 3 does not divide d-model 64}).
     */
    private InvalidInputException asOption(IllegalArgumentException e, String field) {
        if (e instanceof SettingException s && s.other() != null && spec.findOption("--" + s.other()) != null
                && !given("--" + s.setting()) && given("--" + s.other())) {
            return new InvalidInputException("--" + s.other(), s.otherProblem(), e);
        }
        if (e instanceof SettingException s) {
            return spec.findOption("--" + s.setting()) != null
                    ? new InvalidInputException("--" + s.setting(), problem(s), e)
                    : new InvalidInputException(field, s.setting() + " " + problem(s), e);
        }
        return new InvalidInputException(field, String.valueOf(e.getMessage()), e);
    }

    /**
     * {@code s}'s problem with its value as the user would write it ({@code got 1}, not {@code got 1.0}): the
     * training library, which has no {@link Numbers}, prints Java's doubles.
     */
    private static String problem(SettingException s) {
        if (s.got() == null) {
            return s.problem();
        }
        String got = s.got() instanceof Double d ? Numbers.plain(d) : String.valueOf(s.got());
        return s.requirement() + ", got " + got;
    }

    /** Whether {@code option} was written on the command line (not a preset's or the saved run's value). */
    private boolean given(String option) {
        return spec.commandLine().getParseResult().hasMatchedOption(option);
    }

    /**
     * Refuses a model this machine cannot train: its weights pass through direct buffers bounded by the heap's
     * size on their way to PyTorch, and training holds four floats a parameter (weights, gradients and AdamW's two
     * moments) in native memory.
     */
    private static void requireMemoryFor(ModelSpec spec) {
        long parameters = spec.parameterCount();
        String what = String.format(Locale.ROOT, "a model of %,d parameters", parameters);
        Heap.require("model", (long) Float.BYTES * parameters, what, "a smaller model");
        long machine = Heap.machineBytes();
        long training = 4L * Float.BYTES * parameters;
        if (training > machine) {
            throw new InvalidInputException("model", String.format(Locale.ROOT, "%s needs about %s for weights, "
                    + "gradients and AdamW's two moments, more than this machine's %s of memory", what,
                    Heap.size(training), Heap.size(machine)));
        }
    }

    /**
     * Options that may differ from the saved run on {@code --resume}: none changes what the run learns (the last
     * three only what is measured, and how often).
     */
    private static final List<String> RESUME_MAY_CHANGE = List.of("--steps", "--out", "--resume", "--verbose",
            "--threads", "--eval-windows", "--log-every", "--eval-every");

    /** One option given with {@code --resume}, its value (null: not given) and the saved run's. */
    private record Given(String option, Object value, Object saved) {
        boolean changes() {
            if (value == null) {
                return false;
            }
            // Numerically: "--lr 3e-3" is the saved 0.003, "--capacity-factor 0" the saved 0.0.
            if (value instanceof Double v && saved instanceof Double s) {
                return v.doubleValue() != s.doubleValue();
            }
            return !value.equals(saved);
        }
    }

    /**
     * With {@code --resume}, refuses an option that would make the continued run another one (its model, data,
     * optimizer or schedule), naming the option and both values. An option equal to the saved value
     * changes nothing and is accepted, as in the README's {@code --preset small --steps 3000 --resume}; so are
     * {@link #RESUME_MAY_CHANGE}. Without a checkpoint there is nothing to compare: resuming then says so.
     */
    private void requireSavedConfiguration() {
        Optional<Path> checkpoint = new Checkpoints(out).latest();
        if (checkpoint.isEmpty()) {
            return;
        }
        Checkpoints.State state = Checkpoints.readState(checkpoint.get());
        TrainConfig saved = state.config();
        ModelSpec m = saved.model();
        boolean presetGiven = spec.commandLine().getParseResult().hasMatchedOption("--preset");
        List<String> corpusGiven = corpus == null ? null : corpusPaths(corpus);
        if (corpusGiven != null && !corpusGiven.equals(saved.corpus()) && !corpusGiven.contains("default")
                && state.corpusSha256() != null
                && Trainer.corpus(saved.withCorpus(corpusGiven)).sha256().equals(state.corpusSha256())) {
            // The run's text in another place (its files moved): the same documents, so the same batches. It
            // could not be resumed at all, its saved paths gone and another --corpus refused as a change.
            movedCorpus = corpusGiven;
            corpusGiven = null;
        }
        List<Given> options = List.of(
                new Given("--preset", presetGiven ? preset : null, saved.preset()),
                new Given("--corpus", corpusGiven, saved.corpus()),
                new Given("--layers", layers, m.layers()), new Given("--d-model", dModel, m.dModel()),
                new Given("--heads", heads, m.heads()), new Given("--kv-heads", kvHeads, m.kvHeads()),
                new Given("--experts", experts, m.experts()), new Given("--top-k", topK, m.topK()),
                new Given("--expert-dim", expertDim, m.expertDim()), new Given("--norm-topk", normTopK, m.normTopK()),
                new Given("--rope-theta", ropeTheta, m.ropeTheta()), new Given("--seq", seq, saved.seq()),
                new Given("--batch", batch, saved.batch()), new Given("--lr", lr, saved.lr()),
                new Given("--min-lr-ratio", minLrRatio, saved.minLrRatio()),
                new Given("--warmup", warmup, saved.warmup()),
                new Given("--weight-decay", weightDecay, saved.weightDecay()),
                new Given("--beta1", beta1, saved.beta1()), new Given("--beta2", beta2, saved.beta2()),
                new Given("--clip", clip, saved.clip()), new Given("--aux-weight", auxWeight, saved.auxWeight()),
                new Given("--z-weight", zWeight, saved.zWeight()),
                new Given("--capacity-factor", capacityFactor, saved.capacityFactor()),
                new Given("--seed", seed, saved.seed()));
        for (Given g : options) {
            if (g.changes()) {
                throw new InvalidInputException(g.option(), "the run in " + out + " was saved with " + show(g.saved())
                        + ", got " + show(g.value()) + "; with --resume only --steps, --threads, --eval-windows, "
                        + "--eval-every and --log-every may change (start a new run in another --out to train "
                        + "differently)");
            }
        }
        // An option this list does not know yet cannot be compared: refused rather than silently ignored.
        List<String> known = options.stream().map(Given::option).toList();
        spec.commandLine().getParseResult().matchedOptions().forEach(o -> {
            String name = o.longestName();
            if (!RESUME_MAY_CHANGE.contains(name) && !known.contains(name)) {
                throw new InvalidInputException(name, "cannot change with --resume: the run continues with its "
                        + "saved configuration");
            }
        });
    }

    private static String show(Object value) {
        return value instanceof List<?> l ? String.join(", ", l.stream().map(String::valueOf).toList())
                : String.valueOf(value);
    }

    /** {@code --corpus} as a configuration records it: {@code default}, or absolute normalized paths. */
    private static List<String> corpusPaths(List<String> given) {
        return given.stream()
                .map(c -> c.equals("default") ? c : absolute(c)).toList();
    }

    /** A {@code --corpus} path as the configuration records it: absolute and normalized. */
    private static String absolute(String path) {
        return Path.of(path).toAbsolutePath().normalize().toString();
    }

    /**
     * A corpus error with the path it names written as {@code --corpus} gave it. The configuration records absolute
     * paths (so that a resume from another directory reads the same files), and errors named those: {@code
     * /home/me/work/corp/notes.txt} for {@code --corpus corp}.
     */
    private String asGiven(String message) {
        if (corpus == null) {
            return message;
        }
        for (String given : corpus) {
            if (given.equals("default")) {
                continue;
            }
            String absolute = absolute(given);
            if (message.startsWith(absolute + ":")) {
                return given + message.substring(absolute.length());
            }
            int colon = message.indexOf(": ");
            String inside = absolute + java.io.File.separator;
            if (colon > inside.length() && message.startsWith(inside)) {
                // A file of a given directory: the directory as given, then the file's name.
                return Path.of(given).resolve(message.substring(inside.length(), colon)) + message.substring(colon);
            }
        }
        return message;
    }

    private static <T> T or(T value, T fallback) {
        return value != null ? value : fallback;
    }

    /**
     * Removes the routing plots this run did not write: an earlier run's in the same --out (started over once its
     * checkpoints and metrics were deleted) for layers this model lacks, or any where nothing was validated, would
     * read as this run's.
     */
    private void removeStaleRoutingPlots(Trainer.Summary summary) throws IOException {
        int written = summary.validation().routingByDomain().isEmpty() ? 0 : summary.config().model().layers();
        try (Stream<Path> files = Files.list(out)) {
            for (Path f : files.toList()) {
                Matcher m = ROUTING_PLOT.matcher(f.getFileName().toString());
                // A directory of that name is no plot of a run's: deleted when empty, it failed the run when not.
                if (m.matches() && !Files.isDirectory(f)
                        && (m.group(1).length() > 9 || Integer.parseInt(m.group(1)) >= written)) {
                    Files.deleteIfExists(f);
                }
            }
        }
    }

    private static final Pattern ROUTING_PLOT = Pattern.compile(
            "routing-layer-(\\d+)\\.png");

    private void plots(Trainer.Summary summary) throws IOException {
        List<Double> stepsSeen = new ArrayList<>();
        List<Double> train = new ArrayList<>();
        List<Double> valSteps = new ArrayList<>();
        List<Double> val = new ArrayList<>();
        for (String line : Files.readAllLines(out.resolve("metrics.jsonl"))) {
            JsonNode n = JSON.readTree(line);
            stepsSeen.add(n.get("step").asDouble());
            train.add(n.get("train_loss").asDouble());
            // A run without validation text writes "NaN" (JSON has no NaN number): nothing to plot.
            if (n.path("val_loss").isNumber()) {
                valSteps.add(n.get("step").asDouble());
                val.add(n.get("val_loss").asDouble());
            }
        }
        Plots.xy(out.resolve("loss.png"), "Training: cross-entropy per token (nats)", "step", "loss",
                List.of(new Plots.Series("train", array(stepsSeen), array(train), true),
                        new Plots.Series("validation", array(valSteps), array(val), true)));
        Map<String, long[][]> routing = summary.validation().routingByDomain();
        for (int l = 0; l < summary.config().model().layers(); l++) {
            Map<String, double[]> rows = new LinkedHashMap<>();
            for (Map.Entry<String, long[][]> d : routing.entrySet()) {
                rows.put(d.getKey(), ExpertLoadRecorder.shares(d.getValue()[l]));
            }
            if (!rows.isEmpty()) {
                Plots.heatMap(out.resolve("routing-layer-" + l + ".png"),
                        "Layer " + l + ": share of each domain's validation tokens per expert", "expert", rows);
            }
        }
    }

    private static String threeDecimals(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }

    private static double[] array(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private void report(PrintWriter stdout, Trainer.Summary s) {
        stdout.printf(Locale.ROOT, "trained %s of %s: %,d parameters (%,d active per token)%n",
                Nouns.count(s.steps(), "step"), s.config().preset(), s.parameters(), s.activeParameters());
        boolean validated = !s.validation().bitsPerByteByDomain().isEmpty();
        if (!validated) {
            stdout.println("validation: none (no domain has held-out text; see the warnings above)");
        } else {
            stdout.printf(Locale.ROOT, "validation: loss %.4f nats/token, %.4f bits/byte%n", s.validation().loss(),
                    s.validation().bitsPerByte());
            double[] between = s.validation().specialization().betweenDomains();
            double[] within = s.validation().specialization().withinDomain();
            StringBuilder spec = new StringBuilder("routing by domain (total-variation distance, between domains"
                    + " vs between halves of one domain):");
            for (int l = 0; l < between.length; l++) {
                // NaN: a single domain (no pair to compare), or every domain has a single validation window (no
                // halves to compare).
                spec.append(String.format(Locale.ROOT, " L%d %s vs %s", l, threeDecimals(between[l]),
                        threeDecimals(within[l])));
            }
            stdout.println(spec);
        }
        if (s.steps() == firstStep) {
            // --resume --steps S at the checkpoint's step (or a finished run resumed): "0.0 s of training, 0
            // tokens/s" left the user to guess whether anything happened.
            stdout.printf(Locale.ROOT, "this invocation: nothing to train (the checkpoint is at step %,d): its weights "
                    + "were validated and exported%n", firstStep);
        } else {
            stdout.printf(Locale.ROOT, "this invocation: %.1f s of training, %.0f tokens/s%n", s.trainSeconds(),
                    s.tokensPerSecond());
        }
        stdout.printf("model: %s (load with 'moelab generate --model %s ...')%n", out.resolve("model"),
                out.resolve("model"));
        // One routing plot per layer (plots()): naming only layer 0's hid the others.
        int layers = s.config().model().layers();
        String routing = layers == 1 ? out.resolve("routing-layer-0.png").toString()
                : out.resolve("routing-layer-{0.." + (layers - 1) + "}.png").toString();
        stdout.printf("metrics: %s, plots: %s%s%n", out.resolve("metrics.jsonl"), out.resolve("loss.png"),
                validated ? ", " + routing : "");
    }
}
