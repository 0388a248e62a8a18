package io.moelab.evolve.run;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.database.DatabaseSettings;
import io.moelab.evolve.eval.EvaluatorSettings;
import io.moelab.evolve.llm.LlmSettings;
import io.moelab.evolve.prompt.PromptSettings;
import java.util.Objects;

/**
 * Everything a run is configured by. Names follow OpenEvolve's top-level keys where the meaning is the same.
 *
 * @param maxIterations          iterations in the whole run (a resumed run continues to this total)
 * @param checkpointInterval     completed iterations between checkpoints
 * @param keepCheckpoints        newest checkpoints kept on disk
 * @param randomSeed             seed of every random choice (each iteration draws from its own stream)
 * @param diffBased              SEARCH/REPLACE edits (true) or full rewrites
 * @param maxCodeLength          longer candidates are rejected without evaluation
 * @param earlyStoppingPatience  stop after this many completed iterations without improvement (0: never)
 * @param convergenceThreshold   an improvement smaller than this does not reset the patience
 * @param llm                    models and their client
 * @param prompt                 what prompts contain
 * @param database               islands, grid, archive, selection
 * @param evaluator              stages, timeouts, parallelism
 */
public record EvolveSettings(int maxIterations, int checkpointInterval, int keepCheckpoints, long randomSeed,
                             boolean diffBased, int maxCodeLength, int earlyStoppingPatience,
                             double convergenceThreshold, LlmSettings llm, PromptSettings prompt,
                             DatabaseSettings database, EvaluatorSettings evaluator) {

    /**
     * Most iterations a run may have: far more model calls than any budget buys. The run lists its iterations up
     * front, so two billion (an int's range) had it fill memory before the first model call.
     */
    public static final int MAX_ITERATIONS = 1_000_000;

    /**
     * Validates ranges.
     *
     * @throws NullPointerException  naming {@code llm}, {@code prompt}, {@code database} or {@code evaluator} when it
     *                               is null
     * @throws InvalidInputException naming the setting of a value out of range
     */
    public EvolveSettings {
        Objects.requireNonNull(llm, "llm");
        Objects.requireNonNull(prompt, "prompt");
        Objects.requireNonNull(database, "database");
        Objects.requireNonNull(evaluator, "evaluator");
        requireIterations("max_iterations", maxIterations);
        if (checkpointInterval < 1) {
            throw new InvalidInputException("checkpoint_interval", "must be at least 1, got " + checkpointInterval);
        }
        if (keepCheckpoints < 1) {
            throw new InvalidInputException("keep_checkpoints", "must be at least 1, got " + keepCheckpoints);
        }
        if (maxCodeLength < 1) {
            throw new InvalidInputException("max_code_length", "must be positive, got " + maxCodeLength);
        }
        if (earlyStoppingPatience < 0) {
            throw new InvalidInputException("early_stopping_patience", "must not be negative, got "
                    + earlyStoppingPatience);
        }
        if (!(convergenceThreshold >= 0)) {
            throw new InvalidInputException("convergence_threshold", "must be a non-negative number");
        }
    }

    /**
     * Checks a run's total iterations ({@code max_iterations}, {@code --iterations}).
     *
     * @param field names the setting in the error
     * @return {@code n}
     * @throws InvalidInputException naming {@code field} unless {@code n} is 0 to {@link #MAX_ITERATIONS}
     */
    public static int requireIterations(String field, long n) {
        if (n < 0 || n > MAX_ITERATIONS) {
            throw new InvalidInputException(field, "must be 0 to " + MAX_ITERATIONS + ", got " + n);
        }
        return (int) n;
    }
}
