package io.moelab.evolve.eval;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.Nouns;
import io.moelab.eplb.Numbers;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * How candidates are evaluated. Names follow OpenEvolve's {@code evaluator} section where the meaning is the
 * same.
 *
 * @param timeout            hard wall-clock limit of each stage; the stage's whole process tree is killed when
 *                           it passes
 * @param memoryMb           heap cap of a candidate's JVM ({@code {memory_mb}} in stage commands)
 * @param cascade            run later stages only when the earlier ones pass their thresholds
 * @param cascadeThresholds  threshold after stage k (index k - 1); a stage scoring below it ends the cascade
 * @param cascadeMetric      the metric compared with the thresholds, or null for the fitness metric
 * @param parallel           candidates evaluated at once
 * @param maxOutputBytes     stdout plus stderr of one stage beyond which it is killed
 * @param artifactBytes      bytes of each stage's stdout and stderr kept as artifacts (their ends)
 * @param timeoutSetting     the setting that gave {@code timeout} ({@code evaluator.timeout}, or an option such as
 *                           {@code --eval-timeout}), named when a stage is killed and in a range error; null for
 *                           {@code evaluator.timeout}
 */
public record EvaluatorSettings(Duration timeout, int memoryMb, boolean cascade, List<Double> cascadeThresholds,
                                String cascadeMetric, int parallel, long maxOutputBytes, int artifactBytes,
                                String timeoutSetting) {

    /**
     * Most candidates evaluated at once: each is a child JVM with its own heap, and a typo such as 100000 would start
     * that many.
     */
    public static final int MAX_PARALLEL = 256;

    /**
     * Validates ranges and copies the list.
     *
     * @throws NullPointerException  naming {@code timeout} or {@code cascadeThresholds} when it is null
     * @throws InvalidInputException naming the setting of a value out of range
     */
    public EvaluatorSettings {
        Objects.requireNonNull(timeout, "timeout");
        Objects.requireNonNull(cascadeThresholds, "cascadeThresholds");
        if (timeoutSetting == null) {
            timeoutSetting = "evaluator.timeout";
        }
        if (timeout.isZero() || timeout.isNegative()) {
            throw new InvalidInputException(timeoutSetting, "must be positive, got "
                    + Numbers.plain(timeout.toMillis() / 1e3) + " s");
        }
        if (memoryMb < 16) {
            throw new InvalidInputException("evaluator.memory_mb", "must be at least 16, got " + memoryMb);
        }
        if (parallel < 1 || parallel > MAX_PARALLEL) {
            throw new InvalidInputException("evaluator.parallel_evaluations", "must be 1 to " + MAX_PARALLEL + ", got "
                    + parallel);
        }
        if (maxOutputBytes < 1024) {
            throw new InvalidInputException("evaluator.max_output_bytes", "must be at least 1024, got "
                    + maxOutputBytes);
        }
        if (artifactBytes < 0) {
            throw new InvalidInputException("evaluator.max_artifact_bytes", "must not be negative");
        }
        for (Double t : cascadeThresholds) {
            if (t == null || !Double.isFinite(t)) {
                throw new InvalidInputException("evaluator.cascade_thresholds", "must be finite numbers");
            }
        }
        cascadeThresholds = List.copyOf(cascadeThresholds);
    }

    /** Settings whose timeout is {@code evaluator.timeout}'s. */
    public EvaluatorSettings(Duration timeout, int memoryMb, boolean cascade, List<Double> cascadeThresholds,
                             String cascadeMetric, int parallel, long maxOutputBytes, int artifactBytes) {
        this(timeout, memoryMb, cascade, cascadeThresholds, cascadeMetric, parallel, maxOutputBytes, artifactBytes,
                null);
    }

    /** Defaults: 60 s per stage, 512 MiB heap, cascade on without thresholds, one at a time, 8 MiB output. */
    public static EvaluatorSettings defaults() {
        return new EvaluatorSettings(Duration.ofSeconds(60), 512, true, List.of(), null, 1, 8L << 20, 4096);
    }

    /** A copy with another per-stage timeout, from the same setting. */
    public EvaluatorSettings withTimeout(Duration t) {
        return withTimeout(t, timeoutSetting);
    }

    /** A copy with another per-stage timeout, given by {@code setting} (such as {@code --eval-timeout}). */
    public EvaluatorSettings withTimeout(Duration t, String setting) {
        return new EvaluatorSettings(t, memoryMb, cascade, cascadeThresholds, cascadeMetric, parallel,
                maxOutputBytes, artifactBytes, setting);
    }

    /** A copy with another number of parallel evaluations. */
    public EvaluatorSettings withParallel(int p) {
        return new EvaluatorSettings(timeout, memoryMb, cascade, cascadeThresholds, cascadeMetric, p,
                maxOutputBytes, artifactBytes, timeoutSetting);
    }

    /**
     * Refuses more cascade thresholds than there are stages after the first: a threshold gates the stage after it,
     * and one past the last stage would be silently ignored.
     *
     * @param field  names the setting in the error
     * @param owner  what has the stages, for the message ("the task", "the evaluator")
     * @throws InvalidInputException {@code N thresholds, but OWNER has M stages ...: at most M - 1}
     */
    public static void requireThresholdsFit(String field, int thresholds, int stages, String owner) {
        if (thresholds > stages - 1) {
            throw new InvalidInputException(field, Nouns.count(thresholds, "threshold") + ", but " + owner + " has "
                    + Nouns.count(stages, "stage") + " (a threshold after each stage but the last): at most "
                    + (stages - 1));
        }
    }
}
