package io.moelab.train.loop;

import io.moelab.train.data.TokenStreams;
import io.moelab.train.model.ModelSpec;
import io.moelab.train.model.SettingException;

import java.util.List;

/**
 * Everything a training run depends on besides its corpus. Saved with every checkpoint; a resumed run uses the
 * saved one.
 *
 * @param preset         the preset it started from ({@code tiny}, {@code small}), for the record
 * @param model          the architecture
 * @param seq            tokens per training window
 * @param batch          windows per step
 * @param steps          optimizer steps
 * @param lr             peak learning rate
 * @param minLrRatio     final learning rate as a share of the peak (cosine decay)
 * @param warmup         linear warm-up steps
 * @param weightDecay    AdamW decoupled weight decay (matrices only)
 * @param beta1          AdamW first-moment decay
 * @param beta2          AdamW second-moment decay
 * @param clip           global gradient-norm clip (0: none)
 * @param auxWeight      weight of the Switch load-balancing loss
 * @param zWeight        weight of the router z-loss
 * @param capacityFactor expert capacity as a multiple of an even share (0: no capacity, no dropping)
 * @param seed           seeds initialization and batch sampling
 * @param logEvery       steps between {@code metrics.jsonl} lines
 * @param evalEvery      steps between validations (and checkpoints)
 * @param evalWindows    validation windows per domain
 * @param corpus         {@code default} (the corpus shipped with moelab) or text files and directories
 */
public record TrainConfig(String preset, ModelSpec model, int seq, int batch, int steps, double lr,
                          double minLrRatio, int warmup, double weightDecay, double beta1, double beta2,
                          double clip, double auxWeight, double zWeight, double capacityFactor, long seed,
                          int logEvery, int evalEvery, int evalWindows, List<String> corpus) {

    /** The corpus shipped with moelab (Brown Corpus genres and the Jargon File). */
    public static final List<String> DEFAULT_CORPUS = List.of("default");

    /**
     * Checks the fields.
     *
     * @throws IllegalArgumentException naming the first bad field, or the first null one
     */
    public TrainConfig {
        // Refused here rather than where first used: a checkpoint's trainer.json with "model": null resumed into a
        // NullPointerException, and a null preset trained and was reported as "of null".
        if (preset == null) {
            throw new IllegalArgumentException("no preset");
        }
        if (model == null) {
            throw new IllegalArgumentException("no model");
        }
        if (corpus == null) {
            throw new IllegalArgumentException("no corpus");
        }
        for (int i = 0; i < corpus.size(); i++) {
            if (corpus.get(i) == null) {
                throw new IllegalArgumentException("corpus path " + (i + 1) + " of " + corpus.size() + " is null");
            }
        }
        atLeast("seq", seq, 2);
        atLeast("batch", batch, 1);
        atLeast("steps", steps, 1);
        atLeast("log-every", logEvery, 1);
        atLeast("eval-every", evalEvery, 1);
        atLeast("eval-windows", evalWindows, 1);
        // A step's token ids are one array (batch rows of seq + 1), and its logits one tensor of batch x seq rows.
        // In long: seq + 1 of --seq 2147483647 wrapped to a negative int, and this check passed.
        long window = (long) seq + 1;
        if (batch * window > ModelSpec.MAX_TENSOR) {
            throw new IllegalArgumentException("batch x (seq + 1) = " + batch + " x " + window + " = "
                    + batch * window + " tokens a step is more than one array holds (at most "
                    + ModelSpec.MAX_TENSOR + ")");
        }
        // Finite numbers only: an infinite one passed these bounds, trained on NaN and could not be saved as JSON.
        if (!(lr > 0 && Double.isFinite(lr))) {
            throw new SettingException("lr", "must be a finite number > 0", lr);
        }
        floatRange("lr", lr);
        atLeast("warmup", warmup, 0);
        if (!(minLrRatio >= 0 && minLrRatio <= 1)) {
            throw new SettingException("min-lr-ratio", "must lie in [0, 1]", minLrRatio);
        }
        nonNegative("weight-decay", weightDecay);
        floatRange("weight-decay", weightDecay);
        nonNegative("clip", clip);
        nonNegative("aux-weight", auxWeight);
        floatRange("aux-weight", auxWeight);
        nonNegative("z-weight", zWeight);
        floatRange("z-weight", zWeight);
        nonNegative("capacity-factor", capacityFactor);
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new SettingException("beta1", "must lie in [0, 1)", beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new SettingException("beta2", "must lie in [0, 1)", beta2);
        }
        corpus = List.copyOf(corpus);
        if (corpus.isEmpty()) {
            throw new IllegalArgumentException("no corpus");
        }
    }

    private static void atLeast(String field, long value, long least) {
        if (value < least) {
            throw new SettingException(field, "must be at least " + least, value);
        }
    }

    /**
     * Refuses a finite setting the training multiplies by as a float (the loss weights, AdamW's rate and decay)
     * that is infinite as one: the loss or the weights overflowed at the first step, reported as a divergence.
     */
    private static void floatRange(String field, double value) {
        if (!Float.isFinite((float) value)) {
            throw new SettingException(field, "must be at most " + Float.MAX_VALUE + " (it is used as a float)",
                    value);
        }
    }

    private static void nonNegative(String field, double value) {
        if (!(value >= 0 && Double.isFinite(value))) {
            throw new SettingException(field, "must be a finite number >= 0", value);
        }
    }

    /**
     * A preset. {@code tiny}: 2 layers, d 64, 8 experts, top-1, about 0.45M parameters; trains 200 steps in about 15 s
     * on two idle cores (what tests use). {@code small}: the project's reference model, a Switch Transformer —
     * 4 layers, d 256, 16 experts of 512, top-1 with raw-probability gates, capacity factor 1.25, aux loss 0.01,
     * z-loss 0.001 — about 26.1M parameters, 2.5M active per token.
     *
     * @throws IllegalArgumentException for another name
     */
    public static TrainConfig preset(String name) {
        return switch (name) {
            case "tiny" -> new TrainConfig("tiny",
                    new ModelSpec(TokenStreams.VOCAB, 2, 64, 4, 2, 8, 1, 128, false, 10000, 1e-6),
                    64, 16, 200, 3e-3, 0.1, 20, 0.1, 0.9, 0.95, 1.0, 0.01, 0.001, 1.25, 1, 10, 50, 4, DEFAULT_CORPUS);
            case "small" -> new TrainConfig("small",
                    new ModelSpec(TokenStreams.VOCAB, 4, 256, 8, 4, 16, 1, 512, false, 10000, 1e-6),
                    256, 8, 1500, 1.5e-3, 0.1, 60, 0.1, 0.9, 0.95, 1.0, 0.01, 0.001, 1.25, 1, 10, 250, 8,
                    DEFAULT_CORPUS);
            default -> throw new IllegalArgumentException("unknown preset '" + name + "' (tiny, small)");
        };
    }

    /** This configuration with another number of validation windows per domain. */
    public TrainConfig withEvalWindows(int w) {
        return new TrainConfig(preset, model, seq, batch, steps, lr, minLrRatio, warmup, weightDecay, beta1, beta2,
                clip, auxWeight, zWeight, capacityFactor, seed, logEvery, evalEvery, w, corpus);
    }

    /**
     * This configuration with other reporting: steps between metrics lines, steps between validations and
     * validation windows per domain, each null to keep this one's. None of them changes what is trained.
     *
     * @throws IllegalArgumentException if a value is below 1
     */
    public TrainConfig withReporting(Integer logEvery, Integer evalEvery, Integer evalWindows) {
        return new TrainConfig(preset, model, seq, batch, steps, lr, minLrRatio, warmup, weightDecay, beta1, beta2,
                clip, auxWeight, zWeight, capacityFactor, seed, logEvery != null ? logEvery : this.logEvery,
                evalEvery != null ? evalEvery : this.evalEvery, evalWindows != null ? evalWindows : this.evalWindows,
                corpus);
    }

    /**
     * This configuration reading its corpus from {@code paths}: the same text in another place, for a resume
     * after the files were moved (the checkpoint's SHA-256 of the documents says whether it is the same).
     */
    public TrainConfig withCorpus(List<String> paths) {
        return new TrainConfig(preset, model, seq, batch, steps, lr, minLrRatio, warmup, weightDecay, beta1, beta2,
                clip, auxWeight, zWeight, capacityFactor, seed, logEvery, evalEvery, evalWindows, paths);
    }

    /** This configuration with another step count. */
    public TrainConfig withSteps(int s) {
        return new TrainConfig(preset, model, seq, batch, s, lr, minLrRatio, warmup, weightDecay, beta1, beta2,
                clip, auxWeight, zWeight, capacityFactor, seed, logEvery, evalEvery, evalWindows, corpus);
    }
}
