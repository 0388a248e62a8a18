package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class BuiltinTracesTest {
    private static final JsonMapper JACKSON = JsonMapper.builder().build();

    static List<String> names() {
        return BuiltinTraces.names();
    }

    /** The resource parsed by Jackson, independently of moelab's JSON reader and of its gzip detection. */
    private static JsonNode rawJson(String name) throws IOException {
        InputStream resource = BuiltinTracesTest.class.getResourceAsStream(
                "/io/moelab/eplb/trace/builtin/" + name + ".json.gz");
        assertThat(resource).as(name).isNotNull();
        try (InputStream in = new GZIPInputStream(resource)) {
            return JACKSON.readTree(in);
        }
    }

    @Test
    void theListIsFixed() {
        assertThat(BuiltinTraces.names()).hasSize(15).doesNotHaveDuplicates();
        assertThat(BuiltinTraces.names()).filteredOn(n -> n.startsWith("deepseek-v3/")).hasSize(12);
        assertThat(BuiltinTraces.names()).contains("qwen/qwen3-235b-a22b", "qwen/qwen3-30b-a3b", "qwen/qwen2-57b-a14b");
        assertThatThrownBy(() -> BuiltinTraces.names().add("x")).isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest
    @MethodSource("names")
    void everyBuiltinReadsAsOneStepOfItsModelsShape(String name) {
        ExpertLoadTrace t = BuiltinTraces.read(name);
        assertThat(t.steps()).isEqualTo(1);
        int[] shape = switch (name) {
            case "qwen/qwen3-235b-a22b" -> new int[] {94, 128};
            case "qwen/qwen3-30b-a3b" -> new int[] {48, 128};
            case "qwen/qwen2-57b-a14b" -> new int[] {28, 64};
            default -> {
                assertThat(name).startsWith("deepseek-v3/");
                yield new int[] {58, 256}; // 61 layers less the 3 dense ones
            }
        };
        assertThat(t.layers()).isEqualTo(shape[0]);
        assertThat(t.experts()).isEqualTo(shape[1]);
        for (int l = 0; l < t.layers(); l++) {
            assertThat(t.step(0).layerTotal(l)).as("layer %d carries load", l).isPositive();
        }
    }

    @ParameterizedTest
    @MethodSource("names")
    void everyValueMatchesAnIndependentParse(String name) throws IOException {
        JsonNode json = rawJson(name);
        boolean deepSeek = name.startsWith("deepseek-v3/");
        JsonNode rows = json.get(deepSeek ? "logical_count" : "counts");
        assertThat(rows).as("key").isNotNull();
        // Per NOTICE.md: DeepSeek-V3 files hold 61 layers of which rows 0-2 are the all-zero dense layers; the
        // Qwen files hold only MoE layers.
        int dense = deepSeek ? 3 : 0;
        if (deepSeek) {
            assertThat(rows.size()).isEqualTo(61);
            for (int l = 0; l < dense; l++) {
                for (JsonNode v : rows.get(l)) {
                    assertThat(v.asDouble()).isZero();
                }
            }
        }
        LoadMatrix step = BuiltinTraces.read(name).step(0);
        assertThat(step.layers()).isEqualTo(rows.size() - dense);
        for (int l = 0; l < step.layers(); l++) {
            JsonNode row = rows.get(l + dense);
            assertThat(row.size()).isEqualTo(step.experts());
            for (int e = 0; e < step.experts(); e++) {
                assertThat(row.get(e).isNumber()).isTrue();
                assertThat(step.load(l, e)).as("%s [%d][%d]", name, l, e).isEqualTo(row.get(e).asDouble());
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"qwen/qwen2-57b-a14b, 28, 64", "qwen/qwen3-30b-a3b, 48, 128"})
    void qwenFilesDescribeTheirOwnShape(String name, int layers, int experts) throws IOException {
        // These dumps carry num_layers/num_experts members, which the reader skips; they agree with the matrix.
        JsonNode json = rawJson(name);
        assertThat(json.get("num_layers").asInt()).isEqualTo(layers);
        assertThat(json.get("num_experts").asInt()).isEqualTo(experts);
        ExpertLoadTrace t = BuiltinTraces.read(name);
        assertThat(t.layers()).isEqualTo(layers);
        assertThat(t.experts()).isEqualTo(experts);
    }

    @Test
    void thePrefixIsOptional() {
        String name = "qwen/qwen2-57b-a14b";
        assertThat(BuiltinTraces.read(BuiltinTraces.PREFIX + name).stepList())
                .isEqualTo(BuiltinTraces.read(name).stepList());
        assertThat(BuiltinTraces.PREFIX).isEqualTo("builtin:");
    }

    @ParameterizedTest
    @ValueSource(strings = {"nope", "builtin:nope", "", "builtin:", "qwen/qwen2-57b-a14b.json.gz",
            "Qwen/qwen2-57b-a14b",
            "deepseek-v3/../qwen/qwen2-57b-a14b", "/io/moelab/eplb/trace/builtin/qwen/qwen2-57b-a14b", "qwen",
            "builtin:builtin:qwen/qwen2-57b-a14b"})
    void unknownNamesAreBadInput(String name) {
        String bare = name.startsWith("builtin:") ? name.substring("builtin:".length()) : name;
        assertThatThrownBy(() -> BuiltinTraces.read(name)).isInstanceOfSatisfying(InvalidInputException.class, e -> {
            assertThat(e.field()).isEqualTo("builtin:" + bare);
            assertThat(e).hasMessage("builtin:" + bare + ": no such built-in trace (known: "
                    + String.join(", ", BuiltinTraces.names()) + ")");
        });
    }
}
