package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class TraceFilesTest {
    private static final byte[] MAGIC = "MOELABTR".getBytes(StandardCharsets.US_ASCII);

    @TempDir
    Path dir;

    /** Integral token counts, as real recorders produce. */
    private static ExpertLoadTrace synthetic() {
        return SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(3, 16, 25, 11).withRouting(300, 2));
    }

    private static ExpertLoadTrace trace(double[][]... steps) {
        List<LoadMatrix> list = new ArrayList<>();
        for (double[][] step : steps) {
            list.add(LoadMatrix.of(step, "step"));
        }
        return ExpertLoadTrace.of(list);
    }

    private static double[][][] values(ExpertLoadTrace t) {
        return t.stepList().stream().map(LoadMatrix::toArray).toArray(double[][][]::new);
    }

    private Path text(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    private Path bytes(String name, byte[] content) throws IOException {
        return Files.write(dir.resolve(name), content);
    }

    private static byte[] gzip(byte[] content) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (OutputStream gz = new GZIPOutputStream(out)) {
            gz.write(content);
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] content) throws IOException {
        try (InputStream in = new GZIPInputStream(new ByteArrayInputStream(content))) {
            return in.readAllBytes();
        }
    }

    private static boolean isGzip(byte[] content) {
        return content.length >= 2 && content[0] == (byte) 0x1f && content[1] == (byte) 0x8b;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    // ---------------------------------------------------------------- vLLM JSON

    @ParameterizedTest
    @ValueSource(strings = {"trace.json", "trace.json.gz"})
    void vllmRoundTripsAndJacksonReadsTheSameValues(String name) throws IOException {
        ExpertLoadTrace trace = synthetic();
        Path path = dir.resolve(name);
        TraceFiles.write(trace, path, TraceFormat.VLLM);
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(trace.stepList());

        byte[] raw = Files.readAllBytes(path);
        assertThat(isGzip(raw)).isEqualTo(name.endsWith(".gz"));
        JsonNode history = JsonMapper.builder().build().readTree(name.endsWith(".gz") ? gunzip(raw) : raw)
                .get("load_history");
        assertThat(history.size()).isEqualTo(trace.steps());
        for (int s = 0; s < trace.steps(); s++) {
            JsonNode rows = history.get(s).get("logical_expert_load");
            assertThat(rows.size()).isEqualTo(trace.layers());
            for (int l = 0; l < trace.layers(); l++) {
                assertThat(rows.get(l).size()).isEqualTo(trace.experts());
                for (int e = 0; e < trace.experts(); e++) {
                    assertThat(rows.get(l).get(e).asDouble()).isEqualTo(trace.step(s).load(l, e));
                }
            }
        }
    }

    @Test
    void vllmFileHasTheDocumentedLayout() throws IOException {
        Path path = dir.resolve("t.json");
        TraceFiles.write(trace(new double[][] {{1, 2.5}, {3, 0}}, new double[][] {{0, 1}, {1e20, 7}}), path,
                TraceFormat.VLLM);
        assertThat(Files.readString(path)).isEqualTo("""
                {
                  "load_history": [
                    {
                      "logical_expert_load": [
                        [1, 2.5],
                        [3, 0]
                      ]
                    },
                    {
                      "logical_expert_load": [
                        [0, 1],
                        [1.0E20, 7]
                      ]
                    }
                  ]
                }
                """);
    }

    @Test
    void vllmNonIntegralLoadsRoundTripExactly() throws IOException {
        ExpertLoadTrace trace = trace(new double[][] {{0.1, 1.0 / 3, Math.PI, Double.MIN_VALUE, Double.MAX_VALUE}});
        Path path = dir.resolve("t.json.gz");
        TraceFiles.write(trace, path, TraceFormat.VLLM);
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(trace.stepList());
    }

    @Test
    void vllmStepsMayCarryOtherMembers() throws IOException {
        ExpertLoadTrace t = TraceFiles.read(text("v.json", """
                {"model": "x", "load_history": [
                   {"step": 0, "physical_expert_load": [[9, 9, 9]], "logical_expert_load": [[1, 2], [3, 4]]},
                   {"logical_expert_load": [[5, 6], [7, 8]], "meta": {"a": [1, {"b": null}]}}
                 ], "trailer": [true, false]}
                """));
        assertThat(values(t)).isDeepEqualTo(new double[][][] {{{1, 2}, {3, 4}}, {{5, 6}, {7, 8}}});
    }

    @Test
    void vllmKeepsAllZeroLayers() throws IOException {
        // Only SGLang dumps drop dense layers; a vLLM step is taken as it is.
        ExpertLoadTrace t = TraceFiles.read(text("v.json",
                "{\"load_history\": [{\"logical_expert_load\": [[0, 0], [1, 2]]}]}"));
        assertThat(values(t)).isDeepEqualTo(new double[][][] {{{0, 0}, {1, 2}}});
    }

    // ---------------------------------------------------------------- compact

    @Test
    void compactRoundTripsIntegralLoads() throws IOException {
        ExpertLoadTrace trace = synthetic();
        Path path = dir.resolve("t.mlt");
        TraceFiles.write(trace, path, TraceFormat.COMPACT);
        byte[] raw = gunzip(Files.readAllBytes(path));
        assertThat(Arrays.copyOf(raw, 8)).isEqualTo(MAGIC);
        assertThat(raw[12]).as("encoding: integers (layers, experts, steps are one-byte varints here)")
                .isEqualTo((byte) 0);
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(trace.stepList());
    }

    @Test
    void compactRoundTripsLargeAndFallingIntegers() throws IOException {
        // Deltas between steps are negative as often as positive, and as large as 2^53.
        double big = 0x1p53 - 1;
        ExpertLoadTrace trace = trace(new double[][] {{big, 0, 5}}, new double[][] {{0, big, 5}},
                new double[][] {{7, 0x1p40, 0}}, new double[][] {{big, 1, 1}});
        Path path = dir.resolve("t.mlt");
        TraceFiles.write(trace, path, TraceFormat.COMPACT);
        assertThat(gunzip(Files.readAllBytes(path))[12]).isEqualTo((byte) 0);
        assertThat(values(TraceFiles.read(path))).isDeepEqualTo(values(trace));
    }

    @Test
    void compactRoundTripsNonIntegralLoads() throws IOException {
        ExpertLoadTrace trace = trace(new double[][] {{0.25, 1e-300, 3.5}, {1, 2, 3}},
                new double[][] {{1e15, 0, Math.PI}, {0x1p53, Double.MAX_VALUE, Double.MIN_VALUE}});
        Path path = dir.resolve("t.mlt");
        TraceFiles.write(trace, path, TraceFormat.COMPACT);
        assertThat(gunzip(Files.readAllBytes(path))[12]).as("encoding: doubles").isEqualTo((byte) 1);
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(trace.stepList());
    }

    @Test
    void integersFromTwoToThe53OnAreStoredAsDoubles() throws IOException {
        ExpertLoadTrace trace = trace(new double[][] {{0x1p53, 1}}, new double[][] {{0x1p60, 2}});
        Path path = dir.resolve("t.mlt");
        TraceFiles.write(trace, path, TraceFormat.COMPACT);
        assertThat(gunzip(Files.readAllBytes(path))[12]).isEqualTo((byte) 1);
        assertThat(values(TraceFiles.read(path))).isDeepEqualTo(values(trace));
    }

    @Test
    void compactBytesFollowTheDocumentedFormat() throws IOException {
        // 1 layer x 2 experts x 2 steps: zig-zag varint deltas 5 -> 10, 0 -> 0, -2 -> 3, 200 -> 400 = 0x90 0x03.
        Path ints = dir.resolve("i.mlt");
        TraceFiles.write(trace(new double[][] {{5, 0}}, new double[][] {{3, 200}}), ints, TraceFormat.COMPACT);
        assertThat(gunzip(Files.readAllBytes(ints))).isEqualTo(concat(MAGIC,
                HexFormat.of().parseHex("01" + "01" + "02" + "02" + "00" + "0a00" + "039003")));

        Path doubles = dir.resolve("d.mlt");
        TraceFiles.write(trace(new double[][] {{0.5}}), doubles, TraceFormat.COMPACT);
        assertThat(gunzip(Files.readAllBytes(doubles))).isEqualTo(concat(MAGIC,
                HexFormat.of().parseHex("01" + "01" + "01" + "01" + "01" + "3fe0000000000000")));
    }

    @Test
    void compactIsSmallerThanVllmJson() throws IOException {
        ExpertLoadTrace trace = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(8, 64, 100, 3));
        Path vllm = dir.resolve("t.json");
        Path vllmGz = dir.resolve("t.json.gz");
        Path compact = dir.resolve("t.mlt");
        TraceFiles.write(trace, vllm, TraceFormat.VLLM);
        TraceFiles.write(trace, vllmGz, TraceFormat.VLLM);
        TraceFiles.write(trace, compact, TraceFormat.COMPACT);
        assertThat(Files.size(compact)).isLessThan(Files.size(vllm) / 3).isLessThan(Files.size(vllmGz));
        assertThat(TraceFiles.read(compact).stepList()).isEqualTo(TraceFiles.read(vllm).stepList());
    }

    @Test
    void uncompressedCompactDataIsReadToo() throws IOException {
        Path gz = dir.resolve("t.mlt");
        ExpertLoadTrace trace = synthetic();
        TraceFiles.write(trace, gz, TraceFormat.COMPACT);
        Path plain = bytes("plain.mlt", gunzip(Files.readAllBytes(gz)));
        assertThat(TraceFiles.read(plain).stepList()).isEqualTo(trace.stepList());
    }

    // ---------------------------------------------------------------- SGLang

    @Test
    void sglangTwoDimensionalDumpIsOneStepWithoutDenseLayers() throws IOException {
        ExpertLoadTrace t = TraceFiles.read(text("dump.json",
                "{\"logical_count\": [[0, 0, 0], [1, 2, 3], [0, 0, 0], [4, 0, 6], [0, 0.0, -0]], \"other\": \"x\"}"));
        assertThat(t.steps()).isEqualTo(1);
        assertThat(t.layers()).isEqualTo(2);
        assertThat(t.experts()).isEqualTo(3);
        assertThat(values(t)).isDeepEqualTo(new double[][][] {{{1, 2, 3}, {4, 0, 6}}});
    }

    @Test
    void sglangThreeDimensionalDumpIsOneStepPerPass() throws IOException {
        // Layer 0 is zero in every pass (dropped); layer 2 only in pass 0 (kept, zeros and all).
        ExpertLoadTrace t = TraceFiles.read(text("passes.json", """
                {"logical_count": [[[0, 0], [1, 2], [0, 0]],
                                   [[0, 0], [3, 4], [5, 0]],
                                   [[0, 0], [5, 6], [0, 7]]]}
                """));
        assertThat(values(t)).isDeepEqualTo(new double[][][] {
                {{1, 2}, {0, 0}},
                {{3, 4}, {5, 0}},
                {{5, 6}, {0, 7}}});
    }

    @Test
    void sglangCountsKeyAndUnknownKeys() throws IOException {
        ExpertLoadTrace counts = TraceFiles.read(text("counts.json", """
                {"num_layers": 2, "src": "/x/y.pt", "meta": {"k": [1, [2, "]"]], "n": null},
                 "counts": [[7, 8], [0, 0]], "flag": true, "later": [[1]]}
                """));
        assertThat(values(counts)).isDeepEqualTo(new double[][][] {{{7, 8}}});
    }

    @Test
    void twoMembersHoldingLoadsAreAmbiguous() throws IOException {
        // The later member used to replace the earlier: a two-step dump was read as the one step of "counts".
        Path both = text("both.json", "{\"logical_count\": [[[1, 2]], [[3, 4]]], \"counts\": [[5, 6]]}");
        assertThatThrownBy(() -> TraceFiles.read(both)).isInstanceOf(InvalidInputException.class)
                .hasMessage(both + ": has both \"logical_count\" and \"counts\": which of them holds the expert "
                        + "loads is ambiguous (keep one)");
        Path mixed = text("mixed.json", "{\"counts\": [[5, 6]], \"x\": 1, "
                + "\"load_history\": [{\"logical_expert_load\": [[1, 2]]}]}");
        assertThatThrownBy(() -> TraceFiles.read(mixed)).isInstanceOf(InvalidInputException.class)
                .hasMessageContaining(": has both \"counts\" and \"load_history\"");
    }

    @Test
    void sglangNonIntegralCountsAreKept() throws IOException {
        ExpertLoadTrace t = TraceFiles.read(text("f.json", "{\"logical_count\": [[0.5, 1.25e2]]}"));
        assertThat(values(t)).isDeepEqualTo(new double[][][] {{{0.5, 125}}});
    }

    // ---------------------------------------------------------------- detection

    static Stream<Arguments> disguises() {
        return Stream.of(
                Arguments.of("vllm-named.mlt", TraceFormat.VLLM, false),
                Arguments.of("vllm-named.bin", TraceFormat.VLLM, true),
                Arguments.of("compact-named.json", TraceFormat.COMPACT, false),
                Arguments.of("no-extension", TraceFormat.COMPACT, false));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("disguises")
    void formatIsDetectedByContentNotByName(String name, TraceFormat format, boolean gzipAfterwards)
            throws IOException {
        ExpertLoadTrace trace = synthetic();
        Path path = dir.resolve(name);
        TraceFiles.write(trace, path, format);
        if (gzipAfterwards) {
            Files.write(path, gzip(Files.readAllBytes(path)));
        }
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(trace.stepList());
    }

    @Test
    void gzipAndJsonKindAreDetectedByContent() throws IOException {
        // Plain JSON under a .gz name, gzipped SGLang under a .txt name.
        Path plain = text("plain.json.gz", "{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}]}");
        assertThat(values(TraceFiles.read(plain))).isDeepEqualTo(new double[][][] {{{1, 2}}});
        Path sglang = bytes("dump.txt", gzip("{\"logical_count\": [[0, 0], [3, 4]]}".getBytes(StandardCharsets.UTF_8)));
        assertThat(values(TraceFiles.read(sglang))).isDeepEqualTo(new double[][][] {{{3, 4}}});
    }

    @Test
    void readsFromStreamsWithTheGivenSourceName() throws IOException {
        byte[] json = "{\"logical_count\": [[1, 2]]}".getBytes(StandardCharsets.UTF_8);
        assertThat(values(TraceFiles.read(new ByteArrayInputStream(json), "mem")))
                .isDeepEqualTo(new double[][][] {{{1, 2}}});
        assertThat(values(TraceFiles.read(new ByteArrayInputStream(gzip(json)), "mem")))
                .isDeepEqualTo(new double[][][] {{{1, 2}}});
        assertThatThrownBy(() -> TraceFiles.read(
                new ByteArrayInputStream("{\"x\": 1}".getBytes(StandardCharsets.UTF_8)), "mem"))
                .isInstanceOf(InvalidInputException.class).hasMessageStartingWith("mem: no expert loads found");
    }

    /**
     * A stream that is no file (standard input) read as a file is: the same steps, and the same one-line errors with
     * the stream's name where a file's path stands, a nested field's and a failing read's included.
     */
    @Test
    void aStreamIsReadWithTheErrorsOfAFile() throws IOException {
        ExpertLoadTrace t = synthetic();
        for (TraceFormat format : new TraceFormat[] {TraceFormat.VLLM, TraceFormat.COMPACT}) {
            Path file = dir.resolve("t." + format.cliName());
            TraceFiles.write(t, file, format);
            List<LoadMatrix> steps = new ArrayList<>();
            int n = TraceFiles.readStream(new ByteArrayInputStream(Files.readAllBytes(file)), "standard input",
                    steps::add);
            assertThat(n).isEqualTo(t.steps());
            assertThat(steps).isEqualTo(t.stepList());
        }
        byte[][] bad = {
            "{\"load_history\": [{\"logical_expert_load\": [[1, -2]]}]}".getBytes(StandardCharsets.UTF_8),
            gzip("{\"load_history\": [".getBytes(StandardCharsets.UTF_8)),
            Arrays.copyOf(gzip("{\"logical_count\": [[1, 2]]}".getBytes(StandardCharsets.UTF_8)), 12),
            "not json".getBytes(StandardCharsets.UTF_8),
        };
        for (byte[] content : bad) {
            Path file = bytes("bad", content);
            String expected = message(() -> TraceFiles.read(file, step -> { }));
            assertThat(expected).startsWith(file + ": ");
            assertThatThrownBy(() -> TraceFiles.readStream(new ByteArrayInputStream(content), "standard input",
                    step -> { })).isInstanceOf(InvalidInputException.class)
                    .hasMessage(expected.replace(file.toString(), "standard input"));
        }
        // Failing at once (while the format is told) and within the JSON, where the reader wraps the failure.
        for (String head : new String[] {"", "{\"load_history\": [{\"logical_expert_load\": [[1, "}) {
            InputStream failing = new java.io.SequenceInputStream(new ByteArrayInputStream(
                    head.getBytes(StandardCharsets.UTF_8)), new InputStream() {
                        @Override
                        public int read() throws IOException {
                            throw new IOException("Input/output error");
                        }
                    });
            assertThatThrownBy(() -> TraceFiles.readStream(failing, "standard input", step -> { }))
                    .as(head).isInstanceOf(InvalidInputException.class)
                    .hasMessage("standard input: cannot read: Input/output error");
        }
    }

    /**
     * A file read under another name (standard input spooled to a temporary file): the file's steps, streamed from
     * the path as a file is (a long SGLang dump read twice), and its errors, the second reading's included, naming
     * that name and not the path.
     */
    @Test
    void aFileReadUnderAnotherNameGivesItsStepsAndNamesThatName() throws IOException {
        ExpertLoadTrace t = synthetic();
        for (TraceFormat format : new TraceFormat[] {TraceFormat.VLLM, TraceFormat.COMPACT}) {
            Path file = dir.resolve("named." + format.cliName());
            TraceFiles.write(t, file, format);
            List<LoadMatrix> steps = new ArrayList<>();
            assertThat(TraceFiles.read(file, "standard input", steps::add)).isEqualTo(t.steps());
            assertThat(steps).isEqualTo(t.stepList());
        }
        byte[][] bad = {
            "{\"load_history\": [{\"logical_expert_load\": [[1, -2]]}]}".getBytes(StandardCharsets.UTF_8),
            gzip("{\"load_history\": [".getBytes(StandardCharsets.UTF_8)),
            "not json".getBytes(StandardCharsets.UTF_8),
            // Past the array: found by the second reading of a dump with a dense layer, none held.
            "{\"logical_count\": [[[0, 1]], [[0, 2]]]} x".getBytes(StandardCharsets.UTF_8),
        };
        for (byte[] content : bad) {
            Path file = bytes("spooled", content);
            String expected = message(() -> TraceFiles.read(file, step -> { }, 0));
            assertThat(expected).startsWith(file + ": ");
            assertThatThrownBy(() -> TraceFiles.read(file, "standard input", step -> { }, 0))
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage(expected.replace(file.toString(), "standard input"));
        }
        // A long dump with a dense layer, read twice from the path: the steps a stream of it gives, which holds them.
        String dump = "{\"logical_count\": [[[0, 0], [1, 2]], [[0, 0], [3, 4]], [[0, 0], [5, 6]]]}";
        Path file = bytes("dump", dump.getBytes(StandardCharsets.UTF_8));
        List<LoadMatrix> streamed = new ArrayList<>();
        TraceFiles.readStream(new ByteArrayInputStream(Files.readAllBytes(file)), "standard input", streamed::add);
        List<LoadMatrix> twice = new ArrayList<>();
        assertThat(TraceFiles.read(file, "standard input", twice::add, 0)).isEqualTo(3);
        assertThat(twice).isEqualTo(streamed).hasSize(3);
    }

    private static String message(Runnable r) {
        try {
            r.run();
        } catch (InvalidInputException e) {
            return e.getMessage();
        }
        throw new AssertionError("no error");
    }

    // ---------------------------------------------------------------- bad JSON traces

    static Stream<Arguments> badJson() {
        return Stream.of(
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, 2], [3]]}]}",
                        "load_history[0].logical_expert_load[1]: has 1 elements where earlier arrays at this depth "
                                + "have 2 (ragged array)"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}, "
                                + "{\"logical_expert_load\": [[1, 2], [3]]}]}",
                        "load_history[1].logical_expert_load[1]: has 1 elements where earlier arrays at this depth "
                                + "have 2 (ragged array)"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, NaN]]}]}",
                        "load_history[0].logical_expert_load[0][1]: load is NaN"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, 2], [-3, 0]]}]}",
                        "load_history[0].logical_expert_load[1][0]: load is negative (-3)"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[Infinity]]}]}",
                        "load_history[0].logical_expert_load[0][0]: load is infinite"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, \"2\"]]}]}",
                        "load_history[0].logical_expert_load[0][1]: expected a number but found a string"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [1, 2]}]}",
                        "load_history[0].logical_expert_load: expected [layers][experts] but found a 1-dimensional "
                                + "array"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1]]}, {\"other\": 1}]}",
                        "load_history[1]: has no \"logical_expert_load\""),
                Arguments.of("{\"load_history\": [[[1]]]}", "load_history[0]: expected an object but found an array"),
                Arguments.of("{\"load_history\": {}}", "load_history: expected an array of steps but found an object"),
                Arguments.of("{\"load_history\": []}", "load_history: has no steps"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}, "
                                + "{\"logical_expert_load\": [[1, 2, 3]]}]}",
                        "step 1: is 1 layer x 3 experts, expected 1 layer x 2 experts"),
                // A step of another shape is reported after the history is read: a bad step after it comes first,
                // and of two steps of other shapes the first is named (read step by step as well as whole).
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}, "
                                + "{\"logical_expert_load\": [[1, 2, 3]]}, {\"logical_expert_load\": [[1, NaN]]}]}",
                        "load_history[2].logical_expert_load[0][1]: load is NaN"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}, "
                                + "{\"logical_expert_load\": [[1, 2, 3]]}, {\"logical_expert_load\": [[1]]}]}",
                        "step 1: is 1 layer x 3 experts, expected 1 layer x 2 experts"),
                Arguments.of("{\"logical_count\": [[[1, 2]], [[1, 2], [3, 4]]]}",
                        "logical_count[1]: has 2 elements where earlier arrays at this depth have 1 (ragged array)"),
                Arguments.of("{\"logical_count\": [[0, 0]]}", "logical_count: every layer has zero load"),
                Arguments.of("{\"logical_count\": [[1, NaN]]}", "logical_count[0][1]: load is NaN"),
                Arguments.of("{\"counts\": [[1, -1]]}", "counts[0][1]: load is negative (-1)"),
                Arguments.of("{\"logical_count\": [[[1, 2]], [[3, NaN]]]}", "logical_count[1][0][1]: load is NaN"),
                Arguments.of("{\"logical_count\": [[1, \"2\"]]}",
                        "logical_count[0][1]: expected a number but found a string"),
                Arguments.of("{\"logical_count\": [1, 2]}",
                        "logical_count: expected [layers][experts] or [steps][layers][experts] but found a "
                                + "1-dimensional array"),
                Arguments.of("{\"logical_count\": [[[[1]]]]}",
                        "logical_count: expected [layers][experts] or [steps][layers][experts] but found a "
                                + "4-dimensional array"),
                Arguments.of("{\"logical_count\": \"none\"}", "logical_count: expected an array but found a string"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badJson")
    void badTracesNameTheOffendingField(String content, String message) throws IOException {
        Path path = text("bad.json", content);
        // Named after the file, as every trace error is (a step of the wrong shape once was not).
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + message);
        // Read step by step into window sums: the same error.
        assertThatThrownBy(() -> TraceFiles.read(path, new WindowSums(1))).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + message);
        // With no SGLang pass held, so read twice where the first reading gets to the end of the array: the same.
        assertThatThrownBy(() -> TraceFiles.read(path, step -> { }, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + message);
    }

    static Stream<Arguments> badDocuments() {
        return Stream.of(
                Arguments.of("", "malformed JSON at line 1, column 1: unexpected end of input, expected a value"),
                Arguments.of(" \n ", "malformed JSON at line 2, column 2: unexpected end of input, expected a value"),
                Arguments.of("{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}]",
                        "malformed JSON at line 1, column 53: unexpected end of input, expected ',' or '}'"),
                Arguments.of("{\"load_history\": [\n  {\"logical_expert_load\": [[1 2]]}]}",
                        "malformed JSON at line 2, column 31: expected ',' or ']' in an array"),
                Arguments.of("{\"logical_count\": [[1]]} x",
                        "malformed JSON at line 1, column 26: unexpected data after the top-level value"),
                Arguments.of("{\"something\": 1}",
                        "no expert loads found: expected a \"load_history\" (vLLM) or \"logical_count\""
                                + " (SGLang recorder dump) member"),
                Arguments.of("{}", "no expert loads found: expected a \"load_history\" (vLLM) or \"logical_count\""
                        + " (SGLang recorder dump) member"),
                Arguments.of("[1, 2]",
                        "expected a JSON object with \"load_history\" (vLLM) or \"logical_count\" (SGLang)"
                                + " but found an array"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("badDocuments")
    void badDocumentsNameTheFile(String content, String problem) throws IOException {
        Path path = text("bad.json", content);
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + problem);
        // The same inside gzip.
        Path gz = bytes("bad.json.gz", gzip(content.getBytes(StandardCharsets.UTF_8)));
        assertThatThrownBy(() -> TraceFiles.read(gz)).isInstanceOf(InvalidInputException.class)
                .hasMessage(gz + ": " + problem);
        for (Path p : List.of(path, gz)) {
            assertThatThrownBy(() -> TraceFiles.read(p, new WindowSums(2))).isInstanceOf(InvalidInputException.class)
                    .hasMessage(p + ": " + problem);
        }
    }

    // ---------------------------------------------------------------- bad files

    @Test
    void missingFilesAndDirectories() {
        Path missing = dir.resolve("missing.json");
        assertThatThrownBy(() -> TraceFiles.read(missing)).isInstanceOf(InvalidInputException.class)
                .hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> TraceFiles.read(dir)).isInstanceOf(InvalidInputException.class)
                .hasMessage(dir + ": holds no .pt file (a trace is a file, or a directory of one SGLang per_pass or "
                        + "per_token dump, one .pt file per rank)");
        assertThatThrownBy(() -> TraceFiles.read(missing, new WindowSums(1))).isInstanceOf(InvalidInputException.class)
                .hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> TraceFiles.read(dir, new WindowSums(1))).isInstanceOf(InvalidInputException.class)
                .hasMessage(dir + ": holds no .pt file (a trace is a file, or a directory of one SGLang per_pass or "
                        + "per_token dump, one .pt file per rank)");
    }

    @Test
    void truncatedGzip() throws IOException {
        Path good = dir.resolve("good.json.gz");
        TraceFiles.write(synthetic(), good, TraceFormat.VLLM);
        byte[] bytes = Files.readAllBytes(good);
        for (int length : new int[] {bytes.length / 2, bytes.length - 4, 12}) {
            Path truncated = bytes("truncated.json.gz", Arrays.copyOf(bytes, length));
            assertThatThrownBy(() -> TraceFiles.read(truncated)).as("length " + length)
                    .isInstanceOf(InvalidInputException.class).hasMessage(truncated + ": truncated file");
            assertThatThrownBy(() -> TraceFiles.read(truncated, new WindowSums(1))).as("length " + length)
                    .isInstanceOf(InvalidInputException.class).hasMessage(truncated + ": truncated file");
        }
    }

    @Test
    void corruptGzip() throws IOException {
        Path good = dir.resolve("good.json.gz");
        TraceFiles.write(synthetic(), good, TraceFormat.VLLM);
        byte[] badCrc = Files.readAllBytes(good);
        badCrc[badCrc.length - 8] ^= 0x55; // the CRC-32 of the trailer
        Path crc = bytes("crc.json.gz", badCrc);
        assertThatThrownBy(() -> TraceFiles.read(crc)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(crc + ": corrupt gzip data: ");

        Path method = bytes("method.json.gz", new byte[] {0x1f, (byte) 0x8b, 0x07, 0, 0, 0, 0, 0, 0, 0});
        assertThatThrownBy(() -> TraceFiles.read(method)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(method + ": corrupt gzip data: ");
    }

    @Test
    void dataAfterTheLastGzipMemberIsRefused() throws IOException {
        Path good = dir.resolve("good.json.gz");
        TraceFiles.write(synthetic(), good, TraceFormat.VLLM);
        byte[] bytes = Files.readAllBytes(good);
        byte[][] tails = {"garbage after the trace\n".getBytes(StandardCharsets.UTF_8), new byte[512], {0x1f},
            {0x0a}};
        for (byte[] tail : tails) {
            Path bad = bytes("tail.json.gz", concat(bytes, tail));
            assertThatThrownBy(() -> TraceFiles.read(bad)).as("%d bytes", tail.length)
                    .isInstanceOf(InvalidInputException.class)
                    .hasMessage(bad + ": corrupt gzip data: unexpected data after the last gzip member");
        }
        Path compact = dir.resolve("good.mlt");
        TraceFiles.write(synthetic(), compact, TraceFormat.COMPACT);
        Path bad = bytes("tail.mlt", concat(Files.readAllBytes(compact), new byte[] {'x'}));
        assertThatThrownBy(() -> TraceFiles.read(bad)).isInstanceOf(InvalidInputException.class)
                .hasMessage(bad + ": corrupt gzip data: unexpected data after the last gzip member");
    }

    @Test
    void everyMemberOfAMultiMemberGzipFileIsRead() throws IOException {
        // The JSON of a trace big enough that members end in the middle of a read buffer, cut into three members.
        ExpertLoadTrace trace = SyntheticTraceGenerator.generate(SyntheticTraceSpec.defaults(4, 64, 200, 5));
        Path plain = dir.resolve("plain.json");
        TraceFiles.write(trace, plain, TraceFormat.VLLM);
        byte[] json = Files.readAllBytes(plain);
        int a = json.length / 3;
        int b = 2 * json.length / 3 + 7;
        byte[] members = concat(gzip(Arrays.copyOfRange(json, 0, a)), gzip(Arrays.copyOfRange(json, a, b)),
                gzip(new byte[0]), gzip(Arrays.copyOfRange(json, b, json.length)));
        Path multi = bytes("multi.json.gz", members);
        assertThat(values(TraceFiles.read(multi))).isDeepEqualTo(values(trace));

        // A garbled later member is not mistaken for the end of the data.
        byte[] second = gzip(Arrays.copyOfRange(json, a, json.length));
        second[second.length - 8] ^= 0x55;
        Path badCrc = bytes("bad.json.gz", concat(gzip(Arrays.copyOfRange(json, 0, a)), second));
        assertThatThrownBy(() -> TraceFiles.read(badCrc)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(badCrc + ": corrupt gzip data: ");
    }

    // ---------------------------------------------------------------- bad compact data

    /** The uncompressed compact bytes of the synthetic trace (3 layers x 16 experts x 25 steps). */
    private byte[] compactPayload() throws IOException {
        Path good = dir.resolve("good.mlt");
        TraceFiles.write(synthetic(), good, TraceFormat.COMPACT);
        return gunzip(Files.readAllBytes(good));
    }

    private void assertCompactError(byte[] payload, String problem) throws IOException {
        Path path = bytes("bad.mlt", gzip(payload));
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + problem);
        assertThatThrownBy(() -> TraceFiles.read(path, new WindowSums(1))).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": " + problem);
    }

    @Test
    void compactWithAnUnknownVersion() throws IOException {
        byte[] raw = compactPayload();
        raw[8] = 9;
        assertCompactError(raw, "compact trace version 9 is not supported (this build reads version 1)");
    }

    @Test
    void truncatedCompactData() throws IOException {
        byte[] raw = compactPayload();
        assertCompactError(Arrays.copyOf(raw, raw.length - 1), "truncated compact trace");
        assertCompactError(Arrays.copyOf(raw, 20), "truncated compact trace");
        assertCompactError(Arrays.copyOf(raw, 10), "truncated compact trace"); // inside the header
        assertCompactError(Arrays.copyOf(raw, 8), "truncated compact trace"); // the magic alone

        // Truncating the gzip stream itself, not the payload, is reported the same way.
        Path good = dir.resolve("good.mlt");
        byte[] gz = Files.readAllBytes(good);
        Path cut = bytes("cut.mlt", Arrays.copyOf(gz, gz.length / 2));
        assertThatThrownBy(() -> TraceFiles.read(cut)).isInstanceOf(InvalidInputException.class)
                .hasMessageStartingWith(cut + ": truncated");
    }

    @Test
    void compactWithTrailingData() throws IOException {
        byte[] raw = compactPayload();
        assertCompactError(Arrays.copyOf(raw, raw.length + 1), "unexpected data after 25 steps");
    }

    @Test
    void compactHeaderChecks() throws IOException {
        assertCompactError(concat(MAGIC, new byte[] {1, 0, 1, 1, 0, 0}), "invalid layers count 0");
        assertCompactError(concat(MAGIC, new byte[] {1, 1, 0, 1, 0, 0}), "invalid experts count 0");
        assertCompactError(concat(MAGIC, new byte[] {1, 1, 1, 0, 0}), "invalid steps count 0");
        assertCompactError(concat(MAGIC, new byte[] {1, 1, 1, 1, 2, 0}), "unknown value encoding 2");
        // 2^28 x 2^28 cells: refused before any allocation.
        assertCompactError(concat(MAGIC, new byte[] {1, (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01,
                (byte) 0x80, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0x01, 1, 0}),
                "header: has 268435456 experts per layer, more than the 65536 read (a placement has at most 65536 "
                        + "slots per layer, so no trace of more can be planned)");
        // A varint of more than 64 bits.
        byte[] endless = new byte[12];
        Arrays.fill(endless, (byte) 0xff);
        assertCompactError(concat(MAGIC, new byte[] {1}, endless), "corrupt varint");
    }

    @Test
    void aHeaderPromisingMoreThanTheFileHoldsAllocatesOnlyForWhatIsThere() throws IOException {
        // 256 x 65536 x 1000 and no values: 2^24 cells a step, the most read (16384 x 16383 once meant 4 GB before
        // the read failed).
        byte[] header = concat(MAGIC, new byte[] {1, (byte) 0x80, 0x02, (byte) 0x80, (byte) 0x80, 0x04,
                (byte) 0xe8, 0x07, 0, 1, 2});
        com.sun.management.ThreadMXBean threads =
                (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long before = threads.getCurrentThreadAllocatedBytes();
        assertCompactError(header, "truncated compact trace");
        long allocated = threads.getCurrentThreadAllocatedBytes() - before;
        assertThat(allocated).as("bytes allocated reading a 19-byte header").isLessThan(16L << 20);
    }

    @Test
    void compactDeltasThatGoNegativeAreBadLoads() throws IOException {
        // 1 x 1 x 2, integers: +1 (zig-zag 2), then -3 (zig-zag 5) gives a load of -2.
        Path path = bytes("neg.mlt", gzip(concat(MAGIC, new byte[] {1, 1, 1, 2, 0, 2, 5})));
        assertThatThrownBy(() -> TraceFiles.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + " step 1[0][0]: load is negative (-2)");
        // And doubles that are not loads.
        byte[] nan = ByteBuffer.allocate(8).putDouble(Double.NaN).array();
        Path nanPath = bytes("nan.mlt", gzip(concat(MAGIC, new byte[] {1, 1, 1, 1, 1}, nan)));
        assertThatThrownBy(() -> TraceFiles.read(nanPath)).hasMessage(nanPath + " step 0[0][0]: load is NaN");
    }

    // ---------------------------------------------------------------- writing

    @Test
    void writingReplacesAnExistingFileAndCreatesDirectories() throws IOException {
        Path path = dir.resolve("a/b/t.json");
        TraceFiles.write(synthetic(), path, TraceFormat.VLLM);
        ExpertLoadTrace small = trace(new double[][] {{1, 2}});
        TraceFiles.write(small, path, TraceFormat.VLLM);
        assertThat(TraceFiles.read(path).stepList()).isEqualTo(small.stepList());
        try (Stream<Path> files = Files.list(path.getParent())) {
            assertThat(files).containsExactly(path);
        }
    }

    @Test
    void sglangIsReadOnly() throws IOException {
        Path path = dir.resolve("s.json");
        assertThatThrownBy(() -> TraceFiles.write(synthetic(), path, TraceFormat.SGLANG))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("SGLang dumps are read, not written");
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).as("no file and no temporary file").isEmpty();
        }
    }

    @Test
    void formatNames() {
        for (TraceFormat f : TraceFormat.values()) {
            assertThat(TraceFormat.parse(f.cliName())).isEqualTo(f);
        }
        assertThat(TraceFormat.COMPACT.cliName()).isEqualTo("compact");
        assertThatThrownBy(() -> TraceFormat.parse("VLLM")).isInstanceOf(InvalidInputException.class)
                .hasMessage("format: unknown trace format 'VLLM' (known: vllm, sglang, compact)");
    }

    /**
     * A trace saved as UTF-16 or UTF-32 (Windows PowerShell's {@code >}), as a file, gzip-compressed or on a stream,
     * is named as not UTF-8 with its first two bytes, as rebalance inputs are: it read as malformed JSON at an
     * unexpected character U+FFFD or U+0000, which did not say what to do. A UTF-8 byte order mark is UTF-8.
     */
    @Test
    void utf16AndUtf32TracesAreNamedAsNotUtf8() throws IOException {
        String json = "{\"load_history\": [{\"logical_expert_load\": [[1, 2], [3, 4]]}]}";
        String[][] cases = {
            {"UTF-16LE", "\uFEFF", "FF FE"}, {"UTF-16BE", "\uFEFF", "FE FF"}, {"UTF-16LE", "", "7B 00"},
            {"UTF-16BE", "", "00 7B"}, {"UTF-32BE", "", "00 00"}, {"UTF-32LE", "\uFEFF", "FF FE"}};
        for (String[] c : cases) {
            byte[] encoded = (c[1] + json).getBytes(java.nio.charset.Charset.forName(c[0]));
            String problem = ": is not UTF-8 text: it starts with bytes " + c[2] + ", as UTF-16 and UTF-32 text do "
                    + "(save it as UTF-8)";
            Path file = bytes("t.json", encoded);
            assertThatThrownBy(() -> TraceFiles.read(file)).as(c[0]).isInstanceOf(InvalidInputException.class)
                    .hasMessage(file + problem);
            Path gz = bytes("t.json.gz", gzip(encoded));
            assertThatThrownBy(() -> TraceFiles.read(gz)).as(c[0]).hasMessage(gz + problem);
            assertThatThrownBy(() -> TraceFiles.readStream(new ByteArrayInputStream(encoded), "standard input",
                    step -> { })).as(c[0]).isInstanceOf(InvalidInputException.class)
                    .hasMessage("standard input" + problem);
        }
        Path bom = bytes("bom.json", ("\uFEFF" + json).getBytes(StandardCharsets.UTF_8));
        assertThat(values(TraceFiles.read(bom))).isDeepEqualTo(new double[][][] {{{1, 2}, {3, 4}}});
        assertThat(TraceFiles.readStream(new ByteArrayInputStream(Files.readAllBytes(bom)), "standard input",
                step -> { })).isEqualTo(1);
    }}
