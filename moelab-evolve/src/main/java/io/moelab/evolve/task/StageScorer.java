package io.moelab.evolve.task;

import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Scores a stage in the evolving process from outputs it checks itself, for a task whose candidates run inside
 * the stage's own process and so could write or print any score (the built-in {@code eplb} task). With a scorer,
 * the evaluator reads neither the stage's {@code {metrics}} file nor its stdout: the stage's result is what
 * {@link #score} makes of {@link #outputFile()}.
 */
public interface StageScorer {

    /** The file, relative to the stage's working directory, that the stage writes its outputs to. */
    String outputFile();

    /**
     * The result of a stage that exited with code 0, from its output file.
     *
     * @param stage 1-based
     * @param file  the stage's {@link #outputFile()}, which may be missing, truncated or forged
     * @return the stage's metrics, or an error kind and message; never throws for a bad file
     */
    Verdict score(int stage, Path file);

    /**
     * A stage's result.
     *
     * @param metrics      numeric metrics, in the order reported (empty on failure)
     * @param error        the error kind, or null
     * @param errorMessage what went wrong, or empty
     */
    record Verdict(Map<String, Double> metrics, String error, String errorMessage) {
        /** Copies the metrics, keeping their order. */
        public Verdict {
            metrics = Collections.unmodifiableMap(new LinkedHashMap<>(metrics));
            errorMessage = errorMessage == null ? "" : errorMessage;
        }

        /** A failure of kind {@code error}. */
        public static Verdict failed(String error, String message) {
            return new Verdict(Map.of(), error, message);
        }
    }
}
