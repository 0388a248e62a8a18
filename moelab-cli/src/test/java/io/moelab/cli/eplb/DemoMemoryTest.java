package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.SmallHeapCli;
import io.moelab.cli.support.Json;
import io.moelab.eplb.algorithm.Algorithms;
import io.moelab.eplb.eval.EvaluationReport;
import io.moelab.eplb.eval.WindowedEvaluation;
import io.moelab.eplb.trace.SyntheticTraceGenerator;
import io.moelab.eplb.trace.SyntheticTraceSpec;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** {@code eplb demo} sums its synthetic trace into windows as it is generated, holding the windows only. */
class DemoMemoryTest {
    @TempDir
    Path dir;

    @Test
    void aSyntheticTraceFarLargerThanTheHeapIsShown() throws Exception {
        // 10,000 steps of 26 x 64 loads: 127 MiB as doubles, against a 64 MiB heap. Held whole, it needed about
        // 150 MiB, and the heap check refused it at 254 MiB (every load twice).
        List<String> out = SmallHeapCli.run(dir, "eplb", "demo", "--steps", "10000", "--format", "json");
        JsonNode synthetic = JsonMapper.builder().build().readTree(String.join("\n", out)).get("synthetic");
        assertThat(synthetic.get("windows").asInt()).isEqualTo(200);
        assertThat(synthetic.get("algorithms")).hasSize(DemoCommand.ALGORITHMS.size());
    }

    @Test
    void theWindowsScoreAsTheWholeTraceDid() {
        // The streamed windows are the whole trace's to the bit, so every score is the library's on the held trace.
        var json = Json.MAPPER;
        CliRunner.Result r = CliRunner.run("eplb", "demo", "--steps", "300", "--window", "30", "--seed", "7",
                "--format", "json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode shown = json.readTree(r.out()).get("synthetic").get("algorithms");
        SyntheticTraceSpec spec = SyntheticTraceSpec.defaults(26, 64, 300, 7).withRouting(4096, 6);
        EvaluationReport whole = WindowedEvaluation.run(SyntheticTraceGenerator.generate(spec), DemoCommand.TOPOLOGY,
                Algorithms.byNames(DemoCommand.ALGORITHMS), WindowedEvaluation.Options.window(30),
                WindowedEvaluation.Progress.NONE);
        for (int i = 0; i < DemoCommand.ALGORITHMS.size(); i++) {
            JsonNode expected = json.valueToTree(whole.algorithms().get(i));
            for (String field : List.of("mean_gpu_balancedness", "window_gpu_balancedness", "mean_experts_moved",
                    "mean_slot_balancedness")) {
                assertThat(shown.get(i).get(field)).as(DemoCommand.ALGORITHMS.get(i) + " " + field).isNotNull()
                        .isEqualTo(expected.get(field));
            }
        }
    }
}
