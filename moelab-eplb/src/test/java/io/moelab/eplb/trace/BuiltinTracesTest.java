package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class BuiltinTracesTest {

    static List<String> names() {
        return BuiltinTraces.names();
    }

    @ParameterizedTest
    @MethodSource("names")
    void everyBuiltinReadsAsOneStep(String name) {
        ExpertLoadTrace t = BuiltinTraces.read(name);
        assertThat(t.steps()).isEqualTo(1);
        if (name.startsWith("deepseek-v3/")) {
            assertThat(t.layers()).isEqualTo(58);
            assertThat(t.experts()).isEqualTo(256);
        }
    }

    @ParameterizedTest
    @CsvSource({"qwen/qwen3-235b-a22b, 94, 128", "qwen/qwen3-30b-a3b, 48, 128", "qwen/qwen2-57b-a14b, 28, 64"})
    void qwenShapes(String name, int layers, int experts) {
        ExpertLoadTrace t = BuiltinTraces.read(BuiltinTraces.PREFIX + name);
        assertThat(t.layers()).isEqualTo(layers);
        assertThat(t.experts()).isEqualTo(experts);
    }

    @ParameterizedTest
    @CsvSource({"deepseek-v3/prefill_in4096, logical_count", "qwen/qwen3-30b-a3b, counts"})
    void valuesMatchAnIndependentParse(String name, String key) throws IOException {
        JsonNode rows;
        try (InputStream in = new GZIPInputStream(BuiltinTraces.class.getResourceAsStream(
                "/io/moelab/eplb/trace/builtin/" + name + ".json.gz"))) {
            rows = JsonMapper.builder().build().readTree(in).get(key);
        }
        List<double[]> nonZero = new ArrayList<>();
        for (JsonNode row : rows) {
            double[] values = new double[row.size()];
            double sum = 0;
            for (int e = 0; e < values.length; e++) {
                values[e] = row.get(e).asDouble();
                sum += values[e];
            }
            if (sum > 0) {
                nonZero.add(values);
            }
        }
        LoadMatrix step = BuiltinTraces.read(name).step(0);
        assertThat(step.toArray()).isDeepEqualTo(nonZero.toArray(double[][]::new));
    }

    @Test
    void unknownNameIsBadInput() {
        assertThatThrownBy(() -> BuiltinTraces.read("builtin:nope")).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith("builtin:nope: no such built-in trace");
    }
}
