package io.moelab.evolve.prompt;

import java.nio.file.Path;

/**
 * What prompts contain. Names follow OpenEvolve's {@code prompt} section where the meaning is the same.
 *
 * @param systemMessage       the system message, or null for the task's own
 * @param templateDir         a directory whose {@code system.txt}, {@code diff_user.txt} or
 *                            {@code full_rewrite_user.txt} replace the built-in templates, or null
 * @param numPreviousAttempts recent attempts of the island shown (with their outcomes and errors)
 * @param includeArtifacts    show the evaluator's feedback and errors
 * @param maxArtifactChars    cut each error or feedback text to this many characters (its end is kept)
 */
public record PromptSettings(String systemMessage, Path templateDir, int numPreviousAttempts,
                             boolean includeArtifacts, int maxArtifactChars) {
    /** Defaults: the task's system message, built-in templates, 5 attempts, artifacts up to 2000 characters. */
    public static PromptSettings defaults() {
        return new PromptSettings(null, null, 5, true, 2000);
    }
}
