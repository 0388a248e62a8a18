package io.moelab.evolve.eval;

import java.util.Map;
import java.util.TreeMap;

/**
 * The evaluator's verdict on one candidate.
 *
 * @param metrics      numeric metrics of the stages that ran (a later stage's value wins)
 * @param error        why it failed ({@code timeout}, {@code exit}, {@code compile_error}, ...), or null
 * @param errorMessage details of the failure for people and prompts (compiler output, exception), or empty
 * @param feedback     what the evaluator said besides metrics: text fields of its result and the ends of stderr
 * @param stages       stages that ran
 * @param seconds      wall-clock seconds of all stages
 */
public record Evaluation(Map<String, Double> metrics, String error, String errorMessage, String feedback,
                        int stages, double seconds) {

    /** Sorts and copies the metrics; null texts become empty. */
    public Evaluation {
        metrics = java.util.Collections.unmodifiableMap(new TreeMap<>(metrics));
        errorMessage = errorMessage == null ? "" : errorMessage;
        feedback = feedback == null ? "" : feedback;
    }

    /** A failure that happened before any stage ran (for example a program too long to evaluate). */
    public static Evaluation failed(String error, String message) {
        return new Evaluation(Map.of(), error, message, "", 0, 0);
    }

    /** Whether the candidate was scored. */
    public boolean ok() {
        return error == null;
    }
}
