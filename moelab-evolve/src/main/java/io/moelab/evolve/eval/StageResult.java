package io.moelab.evolve.eval;

import io.moelab.evolve.config.YamlErrors;
import java.util.LinkedHashMap;
import java.util.Map;
import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * What one evaluator stage reported: a flat JSON object whose numbers (and booleans, as 0 or 1) are metrics,
 * whose {@code error} and {@code error_message} say the candidate failed, and whose other text fields are
 * feedback for the next prompt.
 *
 * @param metrics      numeric fields
 * @param error        the {@code error} field, or null
 * @param errorMessage the {@code error_message} field, or empty
 * @param feedback     other text fields, one {@code key: value} per line
 */
record StageResult(Map<String, Double> metrics, String error, String errorMessage, String feedback) {
    /** Refuses a repeated key: which of a metric's two values the evaluator meant cannot be known. */
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    /**
     * Parses a stage's result.
     *
     * @throws IllegalArgumentException naming the problem when the text is not a JSON object of metrics
     */
    static StageResult parse(String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JacksonException e) {
            // A repeated key is JSON, only not a result: named as such.
            throw new IllegalArgumentException((YamlErrors.duplicateKey(e) ? "" : "not JSON: ")
                    + YamlErrors.jsonProblem(e));
        }
        if (node == null || !node.isObject()) {
            throw new IllegalArgumentException("expected a JSON object of metrics");
        }
        Map<String, Double> metrics = new LinkedHashMap<>();
        StringBuilder feedback = new StringBuilder();
        String error = null;
        String message = "";
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            String key = e.getKey();
            JsonNode v = e.getValue();
            if (key.equals("error")) {
                // A string names the error (blank: none). Anything else reads by Python's truth, as an OpenEvolve
                // evaluator's dict would: false, null, 0 and empty containers say there was none, the rest is an
                // unnamed error ("error": 0 used to fail the candidate as error "0", and an object read as none).
                error = v.isString() ? v.asString() : truthy(v) ? "error" : null;
            } else if (key.equals("error_message")) {
                message = v.isNull() ? "" : v.asString();
            } else if (v.isNumber()) {
                double d = v.asDouble();
                if (!Double.isFinite(d)) {
                    throw new IllegalArgumentException("metric " + key + " is not finite");
                }
                metrics.put(key, d);
            } else if (v.isBoolean()) {
                metrics.put(key, v.asBoolean() ? 1.0 : 0.0);
            } else if (v.isString()) {
                feedback.append(key).append(": ").append(v.asString()).append('\n');
            }
            // Arrays and objects are the evaluator's business (details for people), not metrics.
        }
        if (error != null && error.isBlank()) {
            error = null;
        }
        return new StageResult(metrics, error, message, feedback.toString());
    }

    /** Whether Python would read {@code v} (not a string) as true. */
    private static boolean truthy(JsonNode v) {
        if (v.isNull()) {
            return false;
        }
        if (v.isBoolean()) {
            return v.asBoolean();
        }
        if (v.isNumber()) {
            return v.asDouble() != 0;
        }
        return !v.isEmpty();
    }

    /** The last line of {@code stdout} that is a JSON object, or null. */
    static String lastJsonLine(String stdout) {
        String[] lines = stdout.split("\n");
        for (int i = lines.length - 1; i >= 0; i--) {
            String l = lines[i].strip();
            if (l.startsWith("{") && l.endsWith("}")) {
                return l;
            }
        }
        return null;
    }
}
