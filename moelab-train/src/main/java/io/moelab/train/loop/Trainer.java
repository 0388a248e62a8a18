package io.moelab.train.loop;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.training.GradientCollector;
import io.moelab.runtime.JsonProblems;
import io.moelab.train.data.Corpus;
import io.moelab.train.data.TokenStreams;
import io.moelab.train.engine.Pytorch;
import io.moelab.train.export.HfExport;
import io.moelab.train.io.RunFiles;
import io.moelab.train.model.MoeTransformer;
import io.moelab.train.optim.AdamW;
import io.moelab.train.optim.LearningRateSchedule;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.PropertyNamingStrategies;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A training run: the loop, validation, checkpoints, metrics and the exported model, all under one output
 * directory.
 *
 * <p>{@code OUT/metrics.jsonl} gets one JSON line per logged step: {@code step} (completed steps),
 * {@code train_loss} (mean cross-entropy over the steps since the previous line), {@code lr}, {@code aux_loss},
 * {@code z_loss}, {@code dropped} (share of assignments over capacity), {@code grad_norm}, {@code tokens_per_s};
 * at validations also {@code val_loss}, {@code val_bits_per_byte}, {@code val_bits_per_byte_by_domain},
 * {@code load_cv} (mean over layers of the coefficient of variation of expert assignments since the previous
 * validation), {@code load_cv_by_layer} and {@code load_max_over_mean}. At the end: {@code OUT/model/} (see
 * {@link HfExport}), {@code OUT/routing.json} (assignments per domain, layer and expert on the validation
 * windows), {@code OUT/validation/DOMAIN.txt} (the held-out texts, a workload for {@code moelab trace}) and
 * {@code OUT/summary.json}.
 *
 * <p>Runs are deterministic given their configuration: initialization and batches are functions of the seed and
 * step, and {@code resume} restores parameters, AdamW moments and step count from the newest checkpoint, drops
 * metric lines written after it, and continues as the uninterrupted run would (on the same machine and thread
 * count: PyTorch's CPU kernels may sum in another order elsewhere).
 */
public final class Trainer {
    private final TrainConfig config;
    private final Path out;
    private final TrainListener listener;
    /** The batch sampler of the run (as started, {@link TokenStreams#SAMPLER} by default, or its checkpoint's). */
    private int sampler = TokenStreams.SAMPLER;

    private Trainer(TrainConfig config, Path out, TrainListener listener) {
        this.config = config;
        this.out = out;
        this.listener = listener;
    }

    /**
     * What a finished run reports.
     *
     * @param config            its configuration
     * @param steps             completed steps
     * @param parameters        parameters in all
     * @param activeParameters  parameters one token uses
     * @param validation        the last validation
     * @param trainSeconds      wall time of the steps run by this invocation, validation excluded
     * @param tokensPerSecond   training tokens per second of this invocation
     */
    public record Summary(TrainConfig config, long steps, long parameters, long activeParameters,
                          Validation.Result validation, double trainSeconds, double tokensPerSecond) {}

    /**
     * Writes {@code summary.json} with the keys in snake_case, as metrics.jsonl, routing.json, the exported
     * config.json and every other JSON file moelab writes spell them (the record's Java names gave dModel,
     * bitsPerByte). The checkpoints' trainer.json keeps Java's names: resumes read it, including older runs'.
     */
    private static final ObjectMapper SUMMARY_JSON = JsonMapper.builder()
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE).build();

    /**
     * Metric lines but no checkpoint: a run stopped before its first validation (or its checkpoints were deleted).
     * Neither a resume nor, over its files, a new start can continue it; the start's advice to resume was wrong.
     */
    private static final String WITHOUT_CHECKPOINT = "without a checkpoint to resume from (it stopped before its "
            + "first validation, or its checkpoints were deleted)";

    /**
     * Trains from scratch into {@code out}.
     *
     * @param listener told of the run's progress; {@link TrainListener#NONE} for nothing, not null
     * @throws IllegalArgumentException if {@code out} already holds a run
     */
    public static Summary start(TrainConfig config, Path out, TrainListener listener) {
        return start(config, out, listener, TokenStreams.SAMPLER);
    }

    /**
     * Trains from scratch into {@code out}, drawing batches with {@code sampler}: {@link TokenStreams#SAMPLER}, or
     * {@link TokenStreams#LEGACY_SAMPLER} to repeat a run made before it (the reference runs in docs/TRAINING.md).
     *
     * @param listener told of the run's progress; {@link TrainListener#NONE} for nothing, not null
     * @throws IllegalArgumentException if {@code out} already holds a run, or for another sampler
     */
    public static Summary start(TrainConfig config, Path out, TrainListener listener, int sampler) {
        if (sampler != TokenStreams.SAMPLER && sampler != TokenStreams.LEGACY_SAMPLER) {
            throw new IllegalArgumentException("batch sampler must be " + TokenStreams.LEGACY_SAMPLER + " or "
                    + TokenStreams.SAMPLER + ", got " + sampler);
        }
        if (new Checkpoints(out).latest().isPresent()) {
            throw new IllegalArgumentException(out + " already holds a training run; pass --resume to continue it"
                    + " or choose another --out");
        }
        // An empty metrics file without a checkpoint is a start that failed before its first step: not a run.
        if (hasMetrics(out)) {
            throw new IllegalArgumentException(out + " already holds a training run " + WITHOUT_CHECKPOINT
                    + "; choose another --out, or delete " + out.resolve("metrics.jsonl") + " to start over in it");
        }
        Trainer trainer = new Trainer(config, out, listener);
        trainer.sampler = sampler;
        return trainer.run(null, null);
    }

    private static boolean hasMetrics(Path out) {
        try {
            Path metrics = out.resolve("metrics.jsonl");
            return Files.exists(metrics) && Files.size(metrics) > 0;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Continues the run in {@code out} from its newest checkpoint.
     *
     * @param steps    the new total step count, or null to keep the run's (the schedule follows the new count)
     * @param listener told of the run's progress; {@link TrainListener#NONE} for nothing, not null
     * @throws IllegalArgumentException if there is no checkpoint or {@code steps} is below its step
     */
    public static Summary resume(Path out, Integer steps, TrainListener listener) {
        return resume(out, steps, null, listener);
    }

    /**
     * Continues the run in {@code out} from its newest checkpoint, validating on {@code evalWindows} windows per
     * domain from now on (null: the run's count). Validation does not feed back into training, so this changes
     * what is measured, not what is learned: resuming a finished run with more windows re-evaluates it.
     *
     * @param listener told of the run's progress; {@link TrainListener#NONE} for nothing, not null
     * @throws IllegalArgumentException if there is no checkpoint or {@code steps} is below its step
     */
    public static Summary resume(Path out, Integer steps, Integer evalWindows, TrainListener listener) {
        return resume(out, steps, evalWindows, null, null, listener);
    }

    /**
     * Continues the run in {@code out} from its newest checkpoint with its reporting changed: validation windows
     * per domain, steps between {@code metrics.jsonl} lines and steps between validations (and checkpoints), each
     * null to keep the run's. None feeds back into training (a checkpoint is taken where a metrics line has just
     * been written and the load statistics reset, so nothing is pending across it): the run learns what it would
     * have, and its saved configuration and {@code summary.json} record the values used from now on.
     *
     * @param listener told of the run's progress; {@link TrainListener#NONE} for nothing, not null
     * @throws IllegalArgumentException if there is no checkpoint, {@code steps} is below its step or a value is
     *                                  below 1
     */
    public static Summary resume(Path out, Integer steps, Integer evalWindows, Integer logEvery, Integer evalEvery,
                                 TrainListener listener) {
        return resume(out, steps, evalWindows, logEvery, evalEvery, null, listener);
    }

    /**
     * Continues the run in {@code out} as {@link #resume(Path, Integer, Integer, Integer, Integer, TrainListener)}
     * does, reading its corpus from {@code corpus} (null: the saved paths): the run's text moved elsewhere. The text
     * must be the run's (the checkpoint's SHA-256 of the documents); its checkpoints record the new paths from now on.
     *
     * @param listener told of the run's progress; {@link TrainListener#NONE} for nothing, not null
     * @throws IllegalArgumentException if there is no checkpoint, {@code steps} is below its step, a value is
     *                                  below 1 or the corpus's text is not the run's
     */
    public static Summary resume(Path out, Integer steps, Integer evalWindows, Integer logEvery, Integer evalEvery,
                                 List<String> corpus, TrainListener listener) {
        Path ckpt = new Checkpoints(out).latest().orElseThrow(() -> new IllegalArgumentException(hasMetrics(out)
                ? out + " holds a training run " + WITHOUT_CHECKPOINT + "; start it again without --resume in "
                        + "another --out, or in this one after deleting " + out.resolve("metrics.jsonl")
                : out + " holds no checkpoint to resume from"));
        Checkpoints.State state = Checkpoints.readState(ckpt);
        TrainConfig config = state.config();
        if (steps != null) {
            if (steps < state.step()) {
                throw new IllegalArgumentException("--steps " + steps + " is below the checkpoint's step "
                        + state.step());
            }
            config = config.withSteps(steps);
        }
        config = config.withReporting(logEvery, evalEvery, evalWindows);
        if (corpus != null) {
            if (state.corpusSha256() == null) {
                // Nothing to check the text against: another place could hold other text.
                throw new IllegalArgumentException("the checkpoint at step " + state.step() + " records no checksum "
                        + "of its corpus, so its corpus cannot be read from another place");
            }
            config = config.withCorpus(corpus);
        }
        return new Trainer(config, out, listener).run(ckpt, state);
    }

    /** The corpus a configuration names. */
    public static Corpus corpus(TrainConfig config) {
        if (config.corpus().equals(TrainConfig.DEFAULT_CORPUS)) {
            return Corpus.defaultCorpus();
        }
        return Corpus.fromPaths(config.corpus().stream().map(Path::of).toList());
    }

    /** Why {@code domain} has no validation window, for a warning. */
    static String unvalidated(Corpus corpus, TokenStreams streams, String domain, int seq) {
        if (!corpus.validation().containsKey(domain)) {
            return String.format(Locale.ROOT, "domain %s is not validated: it has one document, and a domain needs "
                    + "two or more (blank-line-separated blocks, merged until each holds %,d characters) to hold one "
                    + "out", domain, Corpus.DOCUMENT_CHARS);
        }
        // A window is seq inputs and their seq targets, one token later: seq + 1 tokens (a held-out text of
        // exactly seq tokens was said to be shorter than a window of seq).
        return String.format(Locale.ROOT, "domain %s is not validated: its held-out text has %,d tokens (its bytes, "
                + "with BOS and EOS around each document), fewer than one window of --seq + 1 = %,d", domain,
                streams.validationTokens(domain), (long) seq + 1);
    }

    private Summary run(Path checkpoint, Checkpoints.State state) {
        // A resumed run draws its batches as it started: one begun before the sampler changed, with the old one.
        if (state != null) {
            sampler = state.sampler();
        }
        Engine engine = Pytorch.engine();
        Corpus corpus = corpus(config);
        String corpusSha256 = corpus.sha256();
        if (state != null && state.corpusSha256() != null && !state.corpusSha256().equals(corpusSha256)) {
            // The batches are a function of the corpus: on other text the resumed run is not the run it continues.
            throw new IllegalArgumentException("the corpus (" + String.join(", ", config.corpus()) + ") has changed "
                    + "since the checkpoint at step " + state.step() + " was saved; an exact resume needs the same "
                    + "files (start a new run to train on the new text)");
        }
        TokenStreams streams = new TokenStreams(corpus);
        streams.requireTrainingWindows(config.seq());
        Map<String, int[][]> validationWindows = streams.validationWindows(config.seq(), config.evalWindows());
        Map<String, String> validationTexts = TokenStreams.validationTexts(corpus);
        // Before anything is written: a path named after a domain, taken by a directory, failed only once the run
        // had trained and saved its checkpoint and model.
        listener.writes(config, outputs(validationTexts.keySet()), !validationWindows.isEmpty());
        for (String domain : corpus.train().keySet()) {
            if (!validationWindows.containsKey(domain)) {
                listener.warning(unvalidated(corpus, streams, domain, config.seq()));
            }
        }
        for (String domain : corpus.emptyDomains()) {
            // One domain per file: a file without text is none, and the user should hear it rather than find it
            // missing from the per-domain metrics.
            listener.warning("domain " + domain + " is left out: its text is empty");
        }
        Validation validation = new Validation(validationWindows, config.seq(), config.batch());
        LearningRateSchedule schedule = new LearningRateSchedule(config.lr(), config.warmup(), config.steps(),
                config.minLrRatio());
        if (config.warmup() > config.steps()) {
            // Legal, but rarely meant: a short trial run of a preset keeps the preset's warm-up.
            listener.warning("the learning rate never reaches --lr " + config.lr() + ": the warm-up is "
                    + config.warmup() + " steps and the run " + config.steps() + " (it peaks at "
                    + String.format(Locale.ROOT, "%.3g", schedule.at(config.steps() - 1)) + "; lower "
                    + "--warmup)");
        }
        Checkpoints checkpoints = new Checkpoints(out);
        try (NDManager manager = engine.newBaseManager()) {
            Files.createDirectories(out);
            MoeTransformer model = new MoeTransformer(config.model(), manager, config.seed());
            Map<String, NDArray> params = model.parameters().all();
            AdamW optimizer = new AdamW(params, manager, config.beta1(), config.beta2(), 1e-8, config.weightDecay());
            long first = 0;
            LogWindow window = LogWindow.EMPTY;
            if (checkpoint != null) {
                Checkpoints.restore(checkpoint, state, params, optimizer);
                first = state.step();
                window = state.window();
                truncateMetrics(first);
            }
            listener.started(config, first, config.steps());
            LoadStatistics load = new LoadStatistics(config.model().layers(), config.model().experts());
            Validation.Result last = null;
            double trainNanos = 0;
            long trainTokens = 0;
            long windowStart = System.nanoTime();
            long windowTokens = 0;
            double gradNorm = 0;
            try (BufferedWriter metrics = Files.newBufferedWriter(out.resolve("metrics.jsonl"),
                    StandardCharsets.UTF_8, StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
                for (long step = first; step < config.steps(); step++) {
                    long t0 = System.nanoTime();
                    StepResult r = step(model, streams, step, manager);
                    gradNorm = optimizer.step(schedule.at(step), config.clip());
                    long dt = System.nanoTime() - t0;
                    trainNanos += dt;
                    long tokens = (long) config.batch() * config.seq();
                    trainTokens += tokens;
                    windowTokens += tokens;
                    load.add(r.counts());
                    window = window.plus(r.loss(), r.aux(), r.z(), r.dropped());
                    long done = step + 1;
                    listener.stepped(done, r.loss());
                    boolean end = done == config.steps();
                    boolean validate = done % config.evalEvery() == 0 || end;
                    boolean log = done % config.logEvery() == 0 || validate;
                    if (log) {
                        ObjectNode line = Checkpoints.JSON.createObjectNode();
                        line.put("step", done);
                        line.put("train_loss", window.loss() / window.steps());
                        line.put("lr", schedule.at(step));
                        line.put("aux_loss", window.aux() / window.steps());
                        line.put("z_loss", window.z() / window.steps());
                        line.put("dropped", window.dropped() / window.steps());
                        line.put("grad_norm", gradNorm);
                        double seconds = (System.nanoTime() - windowStart) / 1e9;
                        line.put("tokens_per_s", Math.round(windowTokens / seconds));
                        if (validate) {
                            last = requireSound(validation.run(model, manager), params, done);
                            line.put("val_loss", last.loss());
                            line.put("val_bits_per_byte", last.bitsPerByte());
                            ObjectNode byDomain = line.putObject("val_bits_per_byte_by_domain");
                            last.bitsPerByteByDomain().forEach(byDomain::put);
                            double[] cv = load.coefficientOfVariation();
                            line.put("load_cv", LoadStatistics.average(cv));
                            ArrayNode cvs = line.putArray("load_cv_by_layer");
                            for (double c : cv) {
                                cvs.add(c);
                            }
                            ArrayNode mm = line.putArray("load_max_over_mean");
                            for (double c : load.maxOverMean()) {
                                mm.add(c);
                            }
                            load.reset();
                            listener.validated(done, last);
                        }
                        metrics.write(Checkpoints.JSON.writeValueAsString(line));
                        metrics.newLine();
                        metrics.flush();
                        window = LogWindow.EMPTY;
                        windowTokens = 0;
                    }
                    if (validate) {
                        checkpoints.save(params, optimizer,
                                new Checkpoints.State(config, done, window, optimizer.steps(), corpusSha256,
                                        sampler));
                        afterCheckpoint.run();
                    }
                    if (log) {
                        // After the checkpoint, as after the validation: tokens_per_s is training throughput, and
                        // writing a checkpoint (seconds for a large model) counted in the next line's time.
                        windowStart = System.nanoTime();
                    }
                }
            }
            if (last == null) {
                last = requireSound(validation.run(model, manager), params, config.steps());
            }
            Map<String, Object> extra = new LinkedHashMap<>();
            extra.put("preset", config.preset());
            extra.put("trained_steps", config.steps());
            extra.put("capacity_factor", config.capacityFactor());
            extra.put("aux_loss_weight", config.auxWeight());
            extra.put("z_loss_weight", config.zWeight());
            extra.put("val_bits_per_byte", last.bitsPerByte());
            HfExport.write(model, out.resolve("model"), config.seq(), extra);
            writeRouting(last);
            writeValidationTexts(validationTexts);
            Summary summary = new Summary(config, config.steps(), config.model().parameterCount(),
                    config.model().activeParameterCount(), last, trainNanos / 1e9,
                    trainNanos == 0 ? 0 : trainTokens / (trainNanos / 1e9));
            RunFiles.writeAtomically(out.resolve("summary.json"),
                    SUMMARY_JSON.writerWithDefaultPrettyPrinter().writeValueAsString(summary) + "\n");
            return summary;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write in " + out, e);
        }
    }

    /**
     * The validation, if its loss is finite (NaN where no domain has held-out text) and every weight below 2^64. A
     * step whose training loss was finite can still leave non-finite weights behind (its own update overflowed):
     * validated, they were checkpointed and exported as a model that every later command refused.
     *
     * @throws TrainingDivergedException if the validation loss is NaN or infinite on held-out text, or a weight is not
     *                                   below 2^64
     */
    private static Validation.Result requireSound(Validation.Result r, Map<String, NDArray> params, long step) {
        if (!r.bitsPerByteByDomain().isEmpty() && !Double.isFinite(r.loss())) {
            throw new TrainingDivergedException("the validation loss is not finite after step " + step
                    + " (the weights are): lower --lr or raise --warmup; nothing of this step was saved");
        }
        // Finite weights past 2^64 validate to a finite loss all the same: their squares overflow a float, every
        // RMSNorm divides by an infinite root mean square and outputs zeros, and the model predicts uniformly.
        for (Map.Entry<String, NDArray> e : params.entrySet()) {
            float largest;
            try (NDArray abs = e.getValue().abs(); NDArray max = abs.max()) {
                largest = max.getFloat();
            }
            if (!(largest < OVERFLOWING_WEIGHT)) {
                throw new TrainingDivergedException("a weight is past 2^64 after step " + step + " (" + e.getKey()
                        + ": " + largest + "; its square overflows a float, which zeroes the layers' outputs): lower "
                        + "--lr or raise --warmup; nothing of this step was saved");
            }
        }
        return r;
    }

    /** 2^64: a float past it squares to infinity. */
    private static final float OVERFLOWING_WEIGHT = 0x1p64f;
    /** For tests: run after each checkpoint is written (a slow disk, made certain). */
    static volatile Runnable afterCheckpoint = () -> { };

    private record StepResult(double loss, double aux, double z, double dropped, int[][] counts) {}

    private StepResult step(MoeTransformer model, TokenStreams streams, long step, NDManager manager) {
        int[][] rows = streams.trainBatch(config.seed(), step, config.batch(), config.seq(), sampler);
        try (NDScope scope = new NDScope();
             GradientCollector gc = Pytorch.engine().newGradientCollector()) {
            scope.suppressNotUsedWarning();
            MoeTransformer.Output o = model.forward(rows, config.seq(), config.capacityFactor(), manager);
            NDArray ce = crossEntropy(o.logits(), rows, config.seq(), config.model().vocab(), manager);
            NDArray loss = ce.add(o.auxLoss().mul(MoeTransformer.scalar(manager, (float) config.auxWeight())))
                    .add(o.zLoss().mul(MoeTransformer.scalar(manager, (float) config.zWeight())));
            float lossValue = ce.getFloat();
            if (!Float.isFinite(loss.getFloat())) {
                throw new TrainingDivergedException("the loss is not finite at step " + (step + 1)
                        + " (cross-entropy " + lossValue + ", aux " + o.auxLoss().getFloat() + ", z "
                        + o.zLoss().getFloat() + "); lower --lr or raise --warmup");
            }
            gc.backward(loss);
            long assignments = (long) rows.length * config.seq() * config.model().topK() * config.model().layers();
            return new StepResult(lossValue, o.auxLoss().getFloat(), o.zLoss().getFloat(),
                    o.dropped() / (double) assignments, o.counts());
        }
    }

    static NDArray crossEntropy(NDArray logits, int[][] rows, int seq, int vocab, NDManager manager) {
        return targetLogProbs(logits, rows, seq, vocab, manager).mean().neg();
    }

    /**
     * The log-probability each position gives its next token: row {@code b * seq + t} of {@code logits} scored on
     * {@code rows[b][t + 1]}; shape {@code (rows.length * seq)}.
     */
    static NDArray targetLogProbs(NDArray logits, int[][] rows, int seq, int vocab, NDManager manager) {
        long[] pick = new long[rows.length * seq];
        for (int b = 0; b < rows.length; b++) {
            for (int t = 0; t < seq; t++) {
                pick[b * seq + t] = (long) (b * seq + t) * vocab + rows[b][t + 1];
            }
        }
        return logits.logSoftmax(-1).reshape(-1).get(new NDIndex("{}", manager.create(pick)));
    }

    private void truncateMetrics(long step) throws IOException {
        Path file = out.resolve("metrics.jsonl");
        if (!Files.exists(file)) {
            return;
        }
        List<String> keep = new ArrayList<>();
        List<String> lines = utf8Lines(Files.readAllBytes(file));
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            if (line == null || line.isBlank()) {
                // Null: not UTF-8, a line cut off inside a character of more than one byte (a domain café).
                continue;
            }
            try {
                if (Checkpoints.JSON.readTree(line).get("step").asLong() <= step) {
                    keep.add(line);
                }
            } catch (RuntimeException torn) {
                // A line cut off by a crash: everything after the checkpoint is rewritten anyway. A crash does not
                // repeat a key, though: such a line was edited, and which of its values was meant cannot be known
                // (the last was taken, keeping or dropping the line by it).
                String duplicate = torn instanceof JacksonException j ? JsonProblems.duplicateKey(j) : null;
                if (duplicate != null) {
                    throw new IllegalArgumentException(file + ":" + (i + 1) + ": duplicate key \"" + duplicate + "\"");
                }
            }
        }
        RunFiles.writeAtomically(file, keep.isEmpty() ? "" : String.join("\n", keep) + "\n");
    }

    /** The lines of {@code bytes} split at line feeds, each decoded as UTF-8, or null where it is not UTF-8. */
    private static List<String> utf8Lines(byte[] bytes) {
        List<String> lines = new ArrayList<>();
        int start = 0;
        for (int i = 0; i <= bytes.length; i++) {
            if (i == bytes.length ? i > start : bytes[i] == '\n') {
                try {
                    lines.add(StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                            .onUnmappableCharacter(CodingErrorAction.REPORT)
                            .decode(ByteBuffer.wrap(bytes, start, i - start)).toString());
                } catch (CharacterCodingException e) {
                    lines.add(null);
                }
                start = i + 1;
            }
        }
        return lines;
    }

    private void writeRouting(Validation.Result v) throws IOException {
        ObjectNode root = Checkpoints.JSON.createObjectNode();
        root.put("layers", config.model().layers());
        root.put("experts", config.model().experts());
        root.put("top_k", config.model().topK());
        ObjectNode spec = root.putObject("specialization");
        spec.set("between_domains_tv", Checkpoints.JSON.valueToTree(v.specialization().betweenDomains()));
        spec.set("within_domain_tv", Checkpoints.JSON.valueToTree(v.specialization().withinDomain()));
        ObjectNode domains = root.putObject("domains");
        v.routingByDomain().forEach((d, counts) -> domains.set(d, Checkpoints.JSON.valueToTree(counts)));
        RunFiles.writeAtomically(out.resolve("routing.json"),
                Checkpoints.JSON.writerWithDefaultPrettyPrinter().writeValueAsString(root) + "\n");
    }

    /**
     * The files this run writes in {@code out}, besides {@code model/} (replaced as a whole): {@code metrics.jsonl},
     * the checkpoints' {@code latest}, {@code routing.json}, {@code summary.json} and one held-out text per domain.
     */
    private List<Path> outputs(Collection<String> validatedDomains) {
        List<Path> files = new ArrayList<>(List.of(out.resolve("metrics.jsonl"),
                out.resolve("checkpoints").resolve(Checkpoints.LATEST), out.resolve("routing.json"),
                out.resolve("summary.json")));
        for (String domain : validatedDomains) {
            files.add(validationText(domain));
        }
        return files;
    }

    private Path validationText(String domain) {
        return out.resolve("validation").resolve(domain + ".txt");
    }

    private void writeValidationTexts(Map<String, String> texts) throws IOException {
        Path dir = out.resolve("validation");
        Files.createDirectories(dir);
        for (Map.Entry<String, String> e : texts.entrySet()) {
            RunFiles.writeAtomically(validationText(e.getKey()), e.getValue());
        }
        // An earlier run's texts of domains this corpus lacks (an --out started over) would pass for this run's
        // held-out text, e.g. as workloads for 'moelab trace'.
        try (var files = Files.list(dir)) {
            for (Path f : files.toList()) {
                String name = f.getFileName().toString();
                if (name.endsWith(".txt") && Files.isRegularFile(f)
                        && !texts.containsKey(name.substring(0, name.length() - 4))) {
                    Files.delete(f);
                }
            }
        }
    }

    /** The loss became NaN or infinite. */
    public static final class TrainingDivergedException extends RuntimeException {
        /**
         * Reports a diverged run.
         *
         * @param message when and what to try
         */
        public TrainingDivergedException(String message) {
            super(message);
        }
    }
}
