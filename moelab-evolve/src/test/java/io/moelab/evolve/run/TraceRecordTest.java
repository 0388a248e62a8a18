package io.moelab.evolve.run;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.ObjectNode;

/** A trace line written and read back, and the attempt it adds to its island's history. */
class TraceRecordTest {

    private static TraceRecord record(double fitness, String error, String errorMessage, String feedback,
                                      String editNote, double seconds) {
        Map<String, Double> metrics = new LinkedHashMap<>();
        metrics.put("b", 2.0);
        metrics.put("a", 1.0);
        return new TraceRecord(7, 1, "3", "7", 2, "regressed", metrics, fitness, 1.5, error, errorMessage, feedback,
                editNote, "Tried x.", 2, 1, "m", 100, 20, 0.25, 1.75, seconds);
    }

    @Test
    void aLineReadsBackAsWrittenWithSecondsToTheMillisecond() {
        TraceRecord r = record(Double.NaN, "exit", "code 3", "out", "Some edits did not apply:\nx", 1.23456);
        ObjectNode json = r.toJson(RunDirectory.JSON.createObjectNode());
        assertThat(json.get("fitness").isNull()).as("JSON has no NaN").isTrue();
        assertThat(json.get("parent_fitness").asDouble()).isEqualTo(1.5);
        assertThat(json.get("seconds").asDouble()).isEqualTo(1.235);
        assertThat(json.get("tokens").asLong()).isEqualTo(120);
        assertThat(json.get("metrics").propertyNames()).containsExactly("a", "b");
        JsonNode read = RunDirectory.JSON.readTree(RunDirectory.JSON.writeValueAsString(json));
        assertThat(TraceRecord.fromJson(read)).isEqualTo(record(Double.NaN, "exit", "code 3", "out",
                "Some edits did not apply:\nx", 1.235));
        for (double[] s : new double[][] {{2.0625, 2.063}, {0.0004, 0.0}, {12.3449, 12.345}}) {
            assertThat(record(1, null, "", "", "", s[0]).toJson(RunDirectory.JSON.createObjectNode()).get("seconds")
                    .asDouble()).as("%s", s[0]).isEqualTo(s[1]);
        }
    }

    @Test
    void missingTextsAreEmpty() {
        TraceRecord r = record(1, null, null, null, null, 0);
        assertThat(r.errorMessage()).isEmpty();
        assertThat(r.feedback()).isEmpty();
        assertThat(r.editNote()).isEmpty();
        assertThat(record(1, null, "m", "f", "n", 0).feedback()).isEqualTo("f");
    }

    /** The attempt's summary: the error (and its message) or else the feedback, then the edit's note. */
    @Test
    void theAttemptsSummary() {
        assertThat(record(1, null, "", "out", "", 0).attempt().summary()).isEqualTo("out");
        assertThat(record(1, null, "", "", "note", 0).attempt().summary()).isEqualTo("note");
        assertThat(record(1, null, "", "out", "note", 0).attempt().summary()).isEqualTo("out\nnote");
        assertThat(record(1, "exit", "code 3", "out", "note", 0).attempt().summary()).isEqualTo("exit: code 3\nnote");
        assertThat(record(1, "exit", " ", "out", "", 0).attempt().summary()).isEqualTo("exit");
        var a = record(0.5, null, "", "", "", 0).attempt();
        assertThat(a.iteration()).isEqualTo(7);
        assertThat(a.parentId()).isEqualTo("3");
        assertThat(a.programId()).isEqualTo("7");
        assertThat(a.outcome().name()).isEqualTo("REGRESSED");
        assertThat(a.parentFitness()).isEqualTo(1.5);
        assertThat(a.fitness()).isEqualTo(0.5);
        assertThat(a.changes()).isEqualTo("Tried x.");
    }
}
