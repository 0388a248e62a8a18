package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner.Result;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/** {@code eplb evaluate --format json} reports compared across inputs that should read as the same trace. */
final class EvaluateReports {
    private EvaluateReports() {
    }

    /** The report of a successful run less the trace's name and its timings, which differ run to run. */
    static JsonNode results(Result r) {
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode root = JsonMapper.builder().build().readTree(r.out());
        ((ObjectNode) root).remove("trace");
        withoutTimings(root);
        return root;
    }

    private static void withoutTimings(JsonNode node) {
        if (node instanceof ObjectNode object) {
            object.remove(object.propertyNames().stream()
                    .filter(n -> n.matches("(?i).*(micros|millis|time|samples|_ms|_us).*")).toList());
        }
        node.values().forEach(EvaluateReports::withoutTimings);
    }
}
