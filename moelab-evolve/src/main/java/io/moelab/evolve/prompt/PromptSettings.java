package io.moelab.evolve.prompt;

import io.moelab.eplb.InvalidInputException;
import io.moelab.evolve.database.ProgramDatabase;
import java.nio.file.Path;

/**
 * What prompts contain. Names follow OpenEvolve's {@code prompt} section where the meaning is the same.
 *
 * @param systemMessage       the system message, or null for the task's own
 * @param templateDir         a directory whose {@code system.txt}, {@code diff_user.txt} or
 *                            {@code full_rewrite_user.txt} replace the built-in templates, or null
 * @param numPreviousAttempts recent attempts of the island shown (with their outcomes and errors), at most
 *                            {@link ProgramDatabase#ATTEMPTS_KEPT}
 * @param includeArtifacts    show the evaluator's feedback and errors
 * @param maxArtifactChars    cut each error or feedback text to this many characters (its end is kept)
 */
public record PromptSettings(String systemMessage, Path templateDir, int numPreviousAttempts,
                             boolean includeArtifacts, int maxArtifactChars) {
    /**
     * Validates ranges: a negative count was taken, and every prompt then failed to build, so that each iteration
     * of the run failed as an internal error.
     *
     * @throws InvalidInputException naming the key of a negative count, or of more attempts than an island keeps
     */
    public PromptSettings {
        if (numPreviousAttempts < 0) {
            throw new InvalidInputException("prompt.num_previous_attempts", "must not be negative, got "
                    + numPreviousAttempts);
        }
        if (numPreviousAttempts > ProgramDatabase.ATTEMPTS_KEPT) {
            // More were taken, and the prompt silently showed the island's 50 newest.
            throw new InvalidInputException("prompt.num_previous_attempts", "must be at most "
                    + ProgramDatabase.ATTEMPTS_KEPT + " (the recent attempts each island keeps), got "
                    + numPreviousAttempts);
        }
        if (maxArtifactChars < 0) {
            throw new InvalidInputException("prompt.max_artifact_bytes", "must not be negative, got "
                    + maxArtifactChars);
        }
    }

    /** Defaults: the task's system message, built-in templates, 5 attempts, artifacts up to 2000 characters. */
    public static PromptSettings defaults() {
        return new PromptSettings(null, null, 5, true, 2000);
    }
}
