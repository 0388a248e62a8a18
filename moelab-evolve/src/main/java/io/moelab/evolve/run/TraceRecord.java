package io.moelab.evolve.run;

import io.moelab.evolve.database.Attempt;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * One line of {@code OUT/trace.jsonl}: what one iteration did. The trace is the run's journal: it is written
 * (and synced) when an iteration completes, in the order its program entered the database, so replaying it
 * after the newest checkpoint rebuilds the database exactly.
 *
 * @param iteration        the iteration (0: the initial program)
 * @param island           the island it ran on
 * @param parentId         the program it edited (null for the initial program)
 * @param programId        the program it produced, or null when nothing was evaluated
 * @param generation       edits since the initial program
 * @param outcome          improved, unchanged, regressed, failed, no_edit or llm_error
 * @param metrics          the evaluator's metrics
 * @param fitness          the program's fitness (NaN when none)
 * @param parentFitness    the parent's fitness
 * @param error            why it failed ({@code timeout}, {@code compile_error}, {@code no_edit}, ...), or null
 * @param errorMessage     details of the failure, cut
 * @param feedback         the evaluator's other output, cut
 * @param editNote         SEARCH/REPLACE blocks that did not apply although others did (empty when none, and in
 *                         traces written before the field): the attempt's, not the child's evaluator feedback
 * @param changes          what the answer said it changes, on one line (empty when nothing, and in traces
 *                         written before the field)
 * @param editsApplied     SEARCH/REPLACE blocks applied
 * @param editsFailed      blocks that did not apply
 * @param model            the model that answered, or null
 * @param promptTokens     prompt tokens of the call
 * @param completionTokens completion tokens of the call
 * @param costUsd          cost of the call
 * @param totalCostUsd     cost of the run so far
 * @param seconds          wall-clock seconds of the iteration
 */
public record TraceRecord(long iteration, int island, String parentId, String programId, int generation,
                          String outcome, Map<String, Double> metrics, double fitness, double parentFitness,
                          String error, String errorMessage, String feedback, String editNote, String changes,
                          int editsApplied, int editsFailed,
                          String model, long promptTokens, long completionTokens, double costUsd,
                          double totalCostUsd, double seconds) {

    /** Copies the metrics. */
    public TraceRecord {
        metrics = java.util.Collections.unmodifiableMap(new TreeMap<>(metrics));
        errorMessage = errorMessage == null ? "" : errorMessage;
        feedback = feedback == null ? "" : feedback;
        editNote = editNote == null ? "" : editNote;
        changes = changes == null ? "" : changes;
    }

    /** The attempt this iteration adds to its island's history. */
    Attempt attempt() {
        String summary = error == null ? feedback : error + (errorMessage.isBlank() ? "" : ": " + errorMessage);
        if (!editNote.isBlank()) {
            summary = summary.isBlank() ? editNote : summary + "\n" + editNote;
        }
        return new Attempt(iteration, parentId, programId, Attempt.Outcome.valueOf(outcome.toUpperCase(
                java.util.Locale.ROOT)), parentFitness, fitness, summary, changes);
    }

    /** The JSON object of one trace line. */
    ObjectNode toJson(ObjectNode o) {
        o.put("iteration", iteration);
        o.put("island", island);
        o.put("parent_id", parentId);
        o.put("program_id", programId);
        o.put("generation", generation);
        o.put("outcome", outcome);
        ObjectNode m = o.putObject("metrics");
        metrics.forEach(m::put);
        number(o, "fitness", fitness);
        number(o, "parent_fitness", parentFitness);
        o.put("error", error);
        o.put("error_message", errorMessage);
        o.put("feedback", feedback);
        o.put("edit_note", editNote);
        o.put("changes", changes);
        o.put("edits_applied", editsApplied);
        o.put("edits_failed", editsFailed);
        o.put("model", model);
        o.put("prompt_tokens", promptTokens);
        o.put("completion_tokens", completionTokens);
        o.put("tokens", promptTokens + completionTokens);
        o.put("cost_usd", costUsd);
        o.put("total_cost_usd", totalCostUsd);
        o.put("seconds", Math.round(seconds * 1000) / 1000.0);
        return o;
    }

    /** JSON has no NaN or infinities: absent fitness is null. */
    private static void number(ObjectNode o, String key, double v) {
        if (Double.isFinite(v)) {
            o.put(key, v);
        } else {
            o.putNull(key);
        }
    }

    /**
     * Reads a trace line written by {@link #toJson}.
     *
     * @throws IllegalArgumentException for an outcome that is none of the known ones
     */
    static TraceRecord fromJson(JsonNode n) {
        String outcome = n.get("outcome").asString();
        // Checked here, where the line is known: replaying it failed later as an internal error.
        if (java.util.Arrays.stream(Attempt.Outcome.values())
                .noneMatch(o -> o.name().toLowerCase(java.util.Locale.ROOT).equals(outcome))) {
            throw new IllegalArgumentException("unknown outcome '" + outcome + "'");
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        n.get("metrics").properties().forEach(e -> metrics.put(e.getKey(), e.getValue().asDouble()));
        return new TraceRecord(n.get("iteration").asLong(), n.get("island").asInt(), text(n, "parent_id"),
                text(n, "program_id"), n.get("generation").asInt(), outcome, metrics,
                num(n, "fitness"), num(n, "parent_fitness"), text(n, "error"), text(n, "error_message"),
                text(n, "feedback"), text(n, "edit_note"), text(n, "changes"), n.get("edits_applied").asInt(),
                n.get("edits_failed").asInt(),
                text(n, "model"), n.get("prompt_tokens").asLong(), n.get("completion_tokens").asLong(),
                n.get("cost_usd").asDouble(), n.get("total_cost_usd").asDouble(), n.get("seconds").asDouble());
    }

    private static String text(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? null : v.asString();
    }

    private static double num(JsonNode n, String key) {
        JsonNode v = n.get(key);
        return v == null || v.isNull() ? Double.NaN : v.asDouble();
    }
}
