package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Topology;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class RebalanceInputTest {
    private static final String TOPOLOGY = "\"num_replicas\": 4, \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 2";

    @TempDir
    Path dir;

    private Path file(String content) throws IOException {
        return Files.writeString(dir.resolve("in.json"), content);
    }

    private static LoadMatrix matrix(double[][] rows) {
        return LoadMatrix.of(rows, "expected");
    }

    @Test
    void readsAFileWithoutHistory() throws IOException {
        RebalanceInput in = RebalanceInput.read(file("{\"weight\": [[1, 2.5, 0], [3, 4, 1e3]], " + TOPOLOGY + "}"));
        assertThat(in.weight()).isEqualTo(matrix(new double[][] {{1, 2.5, 0}, {3, 4, 1000}}));
        assertThat(in.history()).isEmpty();
        assertThat(in.topology(null, null, null, null)).isEqualTo(new Topology(4, 1, 1, 2));
    }

    @Test
    void readsAFileWithHistoryOldestFirst() throws IOException {
        RebalanceInput in = RebalanceInput.read(file("""
                {"weight": [[1, 2], [3, 4]],
                 "history": [[[0, 1], [1, 0]], [[2, 2], [2, 5.5]]],
                 "num_replicas": 4, "num_groups": 1, "num_nodes": 1, "num_gpus": 2}
                """));
        assertThat(in.weight()).isEqualTo(matrix(new double[][] {{1, 2}, {3, 4}}));
        assertThat(in.history()).containsExactly(
                matrix(new double[][] {{0, 1}, {1, 0}}),
                matrix(new double[][] {{2, 2}, {2, 5.5}}));
        assertThatThrownBy(() -> in.history().clear()).isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void nullOrEmptyHistoryIsNoHistory() throws IOException {
        assertThat(RebalanceInput.read(file("{\"weight\": [[1]], \"history\": null}")).history()).isEmpty();
        assertThat(RebalanceInput.read(file("{\"weight\": [[1]], \"history\": []}")).history()).isEmpty();
    }

    @Test
    void membersMayComeInAnyOrderAndUnknownOnesAreSkipped() throws IOException {
        RebalanceInput in = RebalanceInput.read(file("""
                {"num_gpus": 2, "comment": {"nested": [1, [2, {"weight": "not this one"}]]},
                 "history": [[[9, 9]]], "num_nodes": 1, "tags": ["a", null, true],
                 "weight": [[5, 6]], "num_groups": 1, "num_replicas": 4, "zz": -1.5e3}
                """));
        assertThat(in.weight()).isEqualTo(matrix(new double[][] {{5, 6}}));
        assertThat(in.history()).containsExactly(matrix(new double[][] {{9, 9}}));
        assertThat(in.topology(null, null, null, null)).isEqualTo(new Topology(4, 1, 1, 2));
    }

    @Test
    void integralNumbersInAnyNotationAreIntegers() throws IOException {
        RebalanceInput in = RebalanceInput.read(file(
                "{\"weight\": [[1]], \"num_replicas\": 8.0, \"num_groups\": 1e0, \"num_nodes\": 2, "
                        + "\"num_gpus\": 0.4e1}"));
        assertThat(in.topology(null, null, null, null)).isEqualTo(new Topology(8, 1, 2, 4));
    }

    @Test
    void commandLineNumbersOverrideTheFile() throws IOException {
        RebalanceInput in = RebalanceInput.read(file("{\"weight\": [[1, 2]], " + TOPOLOGY + "}"));
        assertThat(in.topology(8, null, null, null)).isEqualTo(new Topology(8, 1, 1, 2));
        assertThat(in.topology(null, 2, null, null)).isEqualTo(new Topology(4, 2, 1, 2));
        assertThat(in.topology(null, null, 2, null)).isEqualTo(new Topology(4, 1, 2, 2));
        assertThat(in.topology(null, null, null, 4)).isEqualTo(new Topology(4, 1, 1, 4));
        assertThat(in.topology(16, 4, 2, 8)).isEqualTo(new Topology(16, 4, 2, 8));
    }

    @Test
    void numbersGivenNowhereAreMissingWithTheOptionToGiveThem() throws IOException {
        RebalanceInput bare = RebalanceInput.read(file("{\"weight\": [[1, 2]]}"));
        assertThatThrownBy(() -> bare.topology(null, 1, 1, 2)).isInstanceOf(InvalidInputException.class)
                .hasMessage("num_replicas: missing (give it in the input file or with --replicas)");
        assertThatThrownBy(() -> bare.topology(4, null, 1, 2))
                .hasMessage("num_groups: missing (give it in the input file or with --groups)");
        assertThatThrownBy(() -> bare.topology(4, 1, null, 2))
                .hasMessage("num_nodes: missing (give it in the input file or with --nodes)");
        assertThatThrownBy(() -> bare.topology(4, 1, 1, null))
                .hasMessage("num_gpus: missing (give it in the input file or with --gpus)");
        // The first missing one is named.
        assertThatThrownBy(() -> bare.topology(null, null, null, null)).hasMessageStartingWith("num_replicas: missing");
        assertThat(bare.topology(4, 1, 1, 2)).isEqualTo(new Topology(4, 1, 1, 2));

        RebalanceInput partial = RebalanceInput.read(file("{\"weight\": [[1, 2]], \"num_replicas\": 4, "
                + "\"num_groups\": 1, \"num_nodes\": 1}"));
        InvalidInputException e = catchThrowableOfType(InvalidInputException.class,
                () -> partial.topology(null, null, null, null));
        assertThat(e.field()).isEqualTo("num_gpus");
        assertThat(e).hasMessage("num_gpus: missing (give it in the input file or with --gpus)");
        assertThat(partial.topology(null, null, null, 2)).isEqualTo(new Topology(4, 1, 1, 2));
    }

    @Test
    void invalidTopologiesAreReportedByField() throws IOException {
        RebalanceInput in = RebalanceInput.read(file("{\"weight\": [[1, 2]], \"num_replicas\": 6, \"num_groups\": 1,"
                + " \"num_nodes\": 1, \"num_gpus\": 4}"));
        assertThatThrownBy(() -> in.topology(null, null, null, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage("num_replicas: R=6 is not a multiple of num_gpus M=4 (every GPU holds R/M slots)");
        assertThatThrownBy(() -> in.topology(null, null, null, -2)).hasMessage("num_gpus: must be at least 1, got -2");
    }

    static Stream<Arguments> badContent() {
        return Stream.of(
                Arguments.of("{\"num_gpus\": 2}", "weight", "weight: missing (expected [layers][experts] loads)"),
                Arguments.of("{\"weight\": [[1, 2], [3, 4, 5]]}", "weight[1]",
                        "weight[1]: has 3 elements where earlier arrays at this depth have 2 (ragged array)"),
                Arguments.of("{\"weight\": [[1, NaN]]}", "weight[0][1]", "weight[0][1]: load is NaN"),
                Arguments.of("{\"weight\": [[1, 2], [-1, 0]]}", "weight[1][0]", "weight[1][0]: load is negative (-1)"),
                Arguments.of("{\"weight\": [[Infinity]]}", "weight[0][0]", "weight[0][0]: load is infinite"),
                Arguments.of("{\"weight\": [[1e400]]}", "weight[0][0]", "weight[0][0]: load is infinite"),
                Arguments.of("{\"weight\": [[1, \"2\"]]}", "weight[0][1]",
                        "weight[0][1]: expected a number but found a string"),
                Arguments.of("{\"weight\": [[1, null]]}", "weight[0][1]",
                        "weight[0][1]: expected a number but found null"),
                Arguments.of("{\"weight\": [1, 2]}", "weight",
                        "weight: expected [layers][experts] but found a 1-dimensional array"),
                Arguments.of("{\"weight\": []}", "weight", "weight: is an empty array"),
                Arguments.of("{\"weight\": \"x\"}", "weight", "weight: expected an array but found a string"),
                Arguments.of("{\"weight\": [[1]], \"num_gpus\": 2.5}", "num_gpus",
                        "num_gpus: expected an integer but found 2.5"),
                Arguments.of("{\"weight\": [[1]], \"num_gpus\": \"2\"}", "num_gpus",
                        "num_gpus: expected an integer but found a string"),
                Arguments.of("{\"weight\": [[1]], \"num_gpus\": null}", "num_gpus",
                        "num_gpus: expected an integer but found null"),
                Arguments.of("{\"weight\": [[1]], \"num_gpus\": NaN}", "num_gpus",
                        "num_gpus: expected an integer but found NaN"),
                // The number as people write it: these read "1.0E10", "3.0E9" and "-2.5E9", Java's form of a double.
                Arguments.of("{\"weight\": [[1]], \"num_replicas\": 1e10}", "num_replicas",
                        "num_replicas: expected an integer of at most 2147483647 in magnitude but found 10000000000"),
                Arguments.of("{\"weight\": [[1]], \"num_gpus\": 3000000000}", "num_gpus",
                        "num_gpus: expected an integer of at most 2147483647 in magnitude but found 3000000000"),
                Arguments.of("{\"weight\": [[1]], \"num_nodes\": -2500000000}", "num_nodes",
                        "num_nodes: expected an integer of at most 2147483647 in magnitude but found -2500000000"),
                Arguments.of("{\"weight\": [[1]], \"num_nodes\": [1]}", "num_nodes",
                        "num_nodes: expected an integer but found an array"),
                Arguments.of("{\"weight\": [[1, 2]], \"history\": [[[1, 2]], [[1]]]}", "history[1]",
                        "history[1]: is 1 layer x 1 expert, expected 1 layer x 2 experts"),
                Arguments.of("{\"weight\": [[1, 2]], \"history\": [[[1, 2], [3, 4]]]}", "history[0]",
                        "history[0]: is 2 layers x 2 experts, expected 1 layer x 2 experts"),
                Arguments.of("{\"weight\": [[1, 2]], \"history\": [[1, 2]]}", "history[0]",
                        "history[0]: expected [layers][experts] but found a 1-dimensional array"),
                Arguments.of("{\"weight\": [[1, 2]], \"history\": [[[1, 2], [NaN, 0]]]}", "history[0][1][0]",
                        "history[0][1][0]: load is NaN"),
                Arguments.of("{\"weight\": [[1, 2]], \"history\": [[[1, 2]], [[1, 2], [3]]]}", "history[1][1]",
                        "history[1][1]: has 1 elements where earlier arrays at this depth have 2 (ragged array)"),
                Arguments.of("{\"weight\": [[1, 2]], \"history\": 3}", "history",
                        "history: expected [windows][layers][experts] but found a number"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badContent")
    void badContentNamesTheFileAndTheField(String content, String field, String message) throws IOException {
        Path path = file(content);
        // The file first, then the field within it, as a --previous placement's errors read.
        assertThatThrownBy(() -> RebalanceInput.read(path)).isInstanceOfSatisfying(InvalidInputException.class, e -> {
            assertThat(e.field()).isEqualTo(path.toString());
            assertThat(e).hasMessage(path + ": " + message);
            assertThat(e.getCause()).isInstanceOfSatisfying(InvalidInputException.class,
                    cause -> assertThat(cause.field()).isEqualTo(field));
        });
    }

    /** A row of {@code n} zeros. */
    static String zeros(int n) {
        return "[" + "0,".repeat(n - 1) + "0]";
    }

    @Test
    void rowsPastALayersSlotsAreRefusedWhileTheyAreParsed() throws IOException {
        // Before the limits a file of 600 such rows ran a 64 MiB heap out of memory (exit 1) instead of naming them.
        String tooMany = "has more than 65536 experts per layer, the most read (a layer has at most 65536 slots)";
        Path weight = file("{\"weight\": [[1], " + zeros(65_537) + "]}");
        assertThatThrownBy(() -> RebalanceInput.read(weight)).isInstanceOf(InvalidInputException.class)
                .hasMessage(weight + ": weight[1]: " + tooMany);
        Path history = file("{\"weight\": [[1]], \"history\": [[[1]], [" + zeros(65_537) + "]]}");
        assertThatThrownBy(() -> RebalanceInput.read(history)).isInstanceOf(InvalidInputException.class)
                .hasMessage(history + ": history[1][0]: " + tooMany);
        // At the limit the rows are read (and the shapes then compared as before).
        assertThat(RebalanceInput.read(file("{\"weight\": [" + zeros(65_536) + "]}")).weight().experts())
                .isEqualTo(65_536);
    }

    /**
     * {@code history} windows, each within the row and matrix limits, are refused once together they pass 2^24
     * numbers, at the first number past it, while they are parsed: before, a history's windows had no bound
     * together. Every field, whatever its depth, holds at most 2^24.
     */
    @Test
    void historyWindowsPast2To24NumbersInAllAreRefusedWhileTheyAreParsed() throws IOException {
        // 256 windows of 1 x 65535 leave 256 numbers of the 2^24; the 257th window's 257th number is past them.
        String window = "[" + zeros(65_535) + "]";
        Path history = file("{\"weight\": " + window + ", \"history\": [" + (window + ",").repeat(256) + window
                + "]}");
        assertThatThrownBy(() -> RebalanceInput.read(history)).isInstanceOf(InvalidInputException.class)
                .hasMessage(history + ": history[256]: brings the history's windows past 16777216 numbers in all, "
                        + "the most read (2^24: 1,074 windows of DeepSeek-V3's 61 x 256)");
        for (NumericArray.Limits limits : List.of(InputLimits.LOADS, InputLimits.SLOTS, InputLimits.COUNTS,
                InputLimits.REPLICA_SLOTS)) {
            assertThat(limits.total()).isEqualTo(1 << 24);
        }
    }

    @Test
    void malformedJsonNamesTheFileLineAndColumn() throws IOException {
        Path path = file("{\"weight\": [[1, 2]],\n \"num_gpus\": 2,,\n}");
        assertThatThrownBy(() -> RebalanceInput.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": malformed JSON at line 2, column 16: expected a member name in double quotes");
        Path trailing = file("{\"weight\": [[1]]} {}");
        assertThatThrownBy(() -> RebalanceInput.read(trailing))
                .hasMessage(trailing
                        + ": malformed JSON at line 1, column 19: unexpected data after the top-level value");
        Path empty = file("");
        assertThatThrownBy(() -> RebalanceInput.read(empty))
                .hasMessage(empty + ": malformed JSON at line 1, column 1: unexpected end of input, expected a value");
    }

    @Test
    void theFileMustHoldAnObject() throws IOException {
        Path path = file("[[1, 2]]");
        assertThatThrownBy(() -> RebalanceInput.read(path)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": expected a JSON object but found an array");
    }

    @Test
    void missingFilesAndDirectoriesAreNamed() {
        Path missing = dir.resolve("none.json");
        assertThatThrownBy(() -> RebalanceInput.read(missing)).isInstanceOf(InvalidInputException.class)
                .hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> RebalanceInput.read(dir)).isInstanceOf(InvalidInputException.class)
                .hasMessage(dir + ": is a directory, expected a JSON file");
    }

    /** A read the file system fails says how: it read "cannot read: reading FILE", the file twice, no cause. */
    @Test
    void aFailedReadSaysWhy() {
        Path unreadable = Path.of("/proc/self/mem"); // Linux: reading at offset 0 fails with EIO
        assumeTrue(Files.isReadable(unreadable), "needs Linux's /proc/self/mem");
        assertThatThrownBy(() -> RebalanceInput.read(unreadable)).isInstanceOf(InvalidInputException.class)
                .hasMessage(unreadable + ": cannot read: Input/output error");
        assertThatThrownBy(() -> PlacementFile.read(unreadable, 2, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage(unreadable + ": cannot read: Input/output error");
    }

    /**
     * A file saved as UTF-16 (Windows PowerShell's {@code >} writes it) is named as such: its BOM or its NUL bytes read
     * as "unexpected character" at line 1, column 1 or 2, which did not say what to do.
     */
    @Test
    void utf16FilesAreNamedAsNotUtf8() throws IOException {
        String json = "{\"weight\": [[1, 2]], " + TOPOLOGY + "}";
        String[][] cases = {
                {"UTF-16LE", "\uFEFF", "FF FE"}, {"UTF-16BE", "\uFEFF", "FE FF"}, {"UTF-16LE", "", "7B 00"},
                {"UTF-16BE", "", "00 7B"}, {"UTF-32BE", "", "00 00"}};
        for (String[] c : cases) {
            Path path = Files.write(dir.resolve("utf16.json"), (c[1] + json).getBytes(Charset.forName(c[0])));
            assertThatThrownBy(() -> RebalanceInput.read(path)).as(c[0]).isInstanceOf(InvalidInputException.class)
                    .hasMessage(path + ": is not UTF-8 text: it starts with bytes " + c[2] + ", as UTF-16 and UTF-32 "
                            + "text do (save it as UTF-8)");
            assertThatThrownBy(() -> PlacementFile.read(path, 2, null)).as(c[0])
                    .hasMessageStartingWith(path + ": is not UTF-8 text: it starts with bytes " + c[2]);
        }
        // A UTF-8 byte order mark is UTF-8: read.
        Path bom = Files.write(dir.resolve("bom.json"), ("\uFEFF" + json).getBytes(StandardCharsets.UTF_8));
        assertThat(RebalanceInput.read(bom).weight().experts()).isEqualTo(2);
    }
}
