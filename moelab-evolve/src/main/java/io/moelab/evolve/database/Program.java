package io.moelab.evolve.database;

import java.util.Map;
import java.util.TreeMap;

/**
 * One program the loop has produced and evaluated.
 *
 * @param id           unique id: {@code "0"} for the initial program, the iteration number for children,
 *                     {@code "ID>I"} for a copy of program ID that migrated to island I (either ring
 *                     neighbour of ID's island, so its two copies differ)
 * @param code         the source
 * @param parentId     the program it was derived from (null for the initial program)
 * @param island       the island it lives on
 * @param generation   edits since the initial program
 * @param iteration    the iteration that produced it (0 for the initial program)
 * @param metrics      the evaluator's numeric metrics
 * @param error        why evaluation failed, or null when it succeeded
 * @param feedback     what the evaluator said besides its metrics (warnings, per-case results), for prompts;
 *                     empty when nothing
 * @param migratedFrom the id of the program it is a migrated copy of, or null
 */
public record Program(String id, String code, String parentId, int island, int generation, long iteration,
                     Map<String, Double> metrics, String error, String feedback, String migratedFrom) {

    /** Copies the metrics into a sorted, unmodifiable map. */
    public Program {
        metrics = java.util.Collections.unmodifiableMap(new TreeMap<>(metrics));
        feedback = feedback == null ? "" : feedback;
    }

    /** Whether the evaluator scored it (failed programs are kept for history, not for selection). */
    public boolean valid() {
        return error == null;
    }

    /** A metric, or NaN when absent. */
    public double metric(String name) {
        Double v = metrics.get(name);
        return v == null ? Double.NaN : v;
    }

    /** A copy living on another island. */
    Program migrateTo(int target) {
        String origin = migratedFrom != null ? migratedFrom : id;
        return new Program(origin + ">" + target, code, parentId, target, generation, iteration, metrics, error,
                feedback, origin);
    }
}
