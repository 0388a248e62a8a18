package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TraceFilesTest {
    @TempDir
    Path dir;

    private static ExpertLoadTrace synthetic() {
        return SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(3, 16, 25, 11).withRouting(300, 2));
    }

    private Path json(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    @ParameterizedTest
    @CsvSource({"trace.json, VLLM", "trace.json.gz, VLLM", "trace.mlt, COMPACT", "trace.json, COMPACT"})
    void roundTrips(String name, TraceFormat format) throws IOException {
        ExpertLoadTrace trace = synthetic();
        Path path = dir.resolve(name);
        TraceFiles.write(trace, path, format);
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(trace.stepList());
    }

    @Test
    void compactRoundTripsNonIntegralLoads() throws IOException {
        ExpertLoadTrace trace = ExpertLoadTrace.of(List.of(
                LoadMatrix.of(new double[][] {{0.25, 1e-300, 3.5}}, "s"),
                LoadMatrix.of(new double[][] {{1e15, 0, Math.PI}}, "s")));
        Path path = dir.resolve("t.mlt");
        TraceFiles.write(trace, path, TraceFormat.COMPACT);
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(trace.stepList());
    }

    @Test
    void compactIsMuchSmallerThanJson() throws IOException {
        ExpertLoadTrace trace = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(8, 64, 100, 3));
        Path vllm = dir.resolve("t.json");
        Path compact = dir.resolve("t.mlt");
        TraceFiles.write(trace, vllm, TraceFormat.VLLM);
        TraceFiles.write(trace, compact, TraceFormat.COMPACT);
        assertThat(Files.size(compact)).isLessThan(Files.size(vllm) / 3);
    }

    @Test
    void vllmFileHasTheDocumentedShape() throws IOException {
        Path path = dir.resolve("t.json");
        TraceFiles.write(ExpertLoadTrace.of(List.of(LoadMatrix.of(new double[][] {{1, 2}, {3, 4}}, "s"))), path,
                TraceFormat.VLLM);
        String text = Files.readString(path).replaceAll("\\s", "");
        assertThat(text).isEqualTo("{\"load_history\":[{\"logical_expert_load\":[[1,2],[3,4]]}]}");
    }

    @Test
    void readsSglangDumpsDroppingDenseLayers() throws IOException {
        ExpertLoadTrace t = TraceFiles.read(json("dump.json",
                "{\"logical_count\": [[0, 0, 0], [1, 2, 3], [0, 0, 0], [4, 0, 6]], \"other\": \"x\"}"));
        assertThat(t.steps()).isEqualTo(1);
        assertThat(t.layers()).isEqualTo(2);
        assertThat(t.step(0).toArray()).isDeepEqualTo(new double[][] {{1, 2, 3}, {4, 0, 6}});
    }

    @Test
    void readsPerPassSglangDumpsAndTheCountsKey() throws IOException {
        ExpertLoadTrace passes = TraceFiles.read(json("passes.json",
                "{\"logical_count\": [[[0, 0], [1, 2]], [[0, 0], [3, 4]], [[0, 0], [5, 6]]]}"));
        assertThat(passes.steps()).isEqualTo(3);
        assertThat(passes.layers()).isEqualTo(1);
        assertThat(passes.step(2).toArray()).isDeepEqualTo(new double[][] {{5, 6}});
        ExpertLoadTrace counts = TraceFiles.read(json("counts.json",
                "{\"num_layers\": 1, \"counts\": [[7, 8]], \"src\": \"x\"}"));
        assertThat(counts.step(0).toArray()).isDeepEqualTo(new double[][] {{7, 8}});
    }

    @Test
    void detectsGzipByContentNotByName() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(bytes)) {
            gz.write("{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}]}".getBytes(StandardCharsets.UTF_8));
        }
        Path path = Files.write(dir.resolve("plain-name.json"), bytes.toByteArray());
        assertThat(TraceFiles.read(path).step(0).load(0, 1)).isEqualTo(2);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"load_history\": [{\"logical_expert_load\": [[1, 2], [3]]}]}|load_history[0].logical_expert_load[1]: has 1",
            "{\"load_history\": [{\"logical_expert_load\": [[1, NaN]]}]}|load_history[0].logical_expert_load[0][1]: load is NaN",
            "{\"load_history\": [{\"logical_expert_load\": [[1, -3]]}]}|load_history[0].logical_expert_load[0][1]: load is negative",
            "{\"load_history\": [{\"logical_expert_load\": [[1, \"2\"]]}]}|load_history[0].logical_expert_load[0][1]: expected a number",
            "{\"load_history\": [{\"other\": 1}]}|load_history[0]: has no \"logical_expert_load\"",
            "{\"load_history\": []}|load_history: has no steps",
            "{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}, {\"logical_expert_load\": [[1, 2, 3]]}]}|step 1: is 1 layers x 3 experts",
            "{\"something\": 1}|no expert loads found",
            "[1, 2]|expected a JSON object",
            "{\"logical_count\": [[0, 0]]}|logical_count: every layer has zero load",
            "{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}]|malformed JSON"})
    void badTracesNameTheProblem(String content, String message) throws IOException {
        Path path = json("bad.json", content);
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(message);
    }

    @Test
    void badFiles() throws IOException {
        assertThatThrownBy(() -> TraceFiles.read(dir.resolve("missing.json"))).hasMessageEndingWith(": no such file");
        assertThatThrownBy(() -> TraceFiles.read(dir)).hasMessageContaining("is a directory");
        assertThatThrownBy(() -> TraceFiles.read(json("empty.json", ""))).hasMessageContaining("malformed JSON");

        Path good = dir.resolve("good.json.gz");
        TraceFiles.write(synthetic(), good, TraceFormat.VLLM);
        byte[] bytes = Files.readAllBytes(good);
        Path truncated = Files.write(dir.resolve("truncated.json.gz"), Arrays.copyOf(bytes, bytes.length / 2));
        assertThatThrownBy(() -> TraceFiles.read(truncated)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(truncated.toString());
    }

    @Test
    void corruptCompactTraces() throws IOException {
        Path good = dir.resolve("good.mlt");
        TraceFiles.write(synthetic(), good, TraceFormat.COMPACT);
        byte[] raw = new java.util.zip.GZIPInputStream(Files.newInputStream(good)).readAllBytes();

        byte[] badVersion = raw.clone();
        badVersion[8] = 9;
        assertThatThrownBy(() -> TraceFiles.read(gzip("v.mlt", badVersion)))
                .hasMessageContaining("compact trace version 9 is not supported");

        assertThatThrownBy(() -> TraceFiles.read(gzip("t.mlt", Arrays.copyOf(raw, raw.length - 10))))
                .hasMessageContaining("truncated");

        byte[] trailing = Arrays.copyOf(raw, raw.length + 1);
        assertThatThrownBy(() -> TraceFiles.read(gzip("x.mlt", trailing))).hasMessageContaining("unexpected data");
    }

    private Path gzip(String name, byte[] content) throws IOException {
        Path path = dir.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(path))) {
            out.write(content);
        }
        return path;
    }

    @Test
    void sglangIsReadOnlyAndFormatsParse() {
        assertThat(TraceFormat.parse("compact")).isEqualTo(TraceFormat.COMPACT);
        assertThatThrownBy(() -> TraceFormat.parse("csv")).hasMessageStartingWith("format: unknown trace format 'csv'");
        assertThatThrownBy(() -> TraceFiles.write(synthetic(), dir.resolve("s.json"), TraceFormat.SGLANG))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(dir.resolve("s.json")).doesNotExist();
    }
}
