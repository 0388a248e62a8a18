package io.moelab.cli.eplb;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class RebalanceCommandTest {
    /** The example in the README of deepseek-ai/EPLB, and the reference's answer. */
    private static final String README_INPUT = """
            {"weight": [[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
                        [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27]],
             "num_replicas": 16, "num_groups": 4, "num_nodes": 2, "num_gpus": 8}
            """;
    private static final int[][] README_PHY2LOG = {
            {5, 6, 5, 7, 8, 4, 3, 4, 10, 9, 10, 2, 0, 1, 11, 1},
            {7, 10, 6, 8, 6, 11, 8, 9, 2, 4, 5, 1, 5, 0, 3, 1}};

    @TempDir
    Path dir;

    private Path write(String name, String content) throws IOException {
        return Files.writeString(dir.resolve(name), content);
    }

    @Test
    void writesDeepSeeksAnswerForItsReadmeExample() throws IOException {
        Path in = write("in.json", README_INPUT);
        Path out = dir.resolve("out.json");
        Result r = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out.toString(),
                "--algorithm", "deepseek");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("deepseek").contains(out.toString());
        JsonNode json = JsonMapper.builder().build().readTree(out.toFile());
        assertThat(json.get("algorithm").asString()).isEqualTo("deepseek");
        for (int l = 0; l < 2; l++) {
            for (int p = 0; p < 16; p++) {
                assertThat(json.get("phy2log").get(l).get(p).asInt()).isEqualTo(README_PHY2LOG[l][p]);
            }
        }
        assertThat(json.get("logcnt").get(0).toString()).isEqualTo("[1,2,1,1,2,2,1,1,1,1,2,1]");
        assertThat(json.get("log2phy").get(0).get(1).toString()).isEqualTo("[15,13]");
        assertThat(json.get("log2phy").get(0).get(0).toString()).isEqualTo("[12,-1]");
    }

    @Test
    void commandLineOverridesTheTopology() throws IOException {
        Path in = write("in.json", README_INPUT);
        Path out = dir.resolve("out.json");
        Result r = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out.toString(),
                "--replicas", "24", "--gpus", "4", "--nodes", "1", "--groups", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode json = JsonMapper.builder().build().readTree(out.toFile());
        assertThat(json.get("phy2log").get(0).size()).isEqualTo(24);
        assertThat(json.get("num_gpus").asInt()).isEqualTo(4);
    }

    /** The same setting given both ways is no conflict. */
    @Test
    void anOptionGivenTwiceAlikeIsAccepted() throws IOException {
        Path in = write("in.json", README_INPUT);
        Path out = dir.resolve("out.json");
        Result r = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out.toString(),
                "--algorithm", "moelab:global:tolerance=0.01:parallel=on", "--mode", "global", "--tolerance", "0.010",
                "--parallel");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(out).exists();
    }

    static Stream<Arguments> badInputs() {
        String topo = ", \"num_replicas\": 4, \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 2}";
        return Stream.of(
                Arguments.of("malformed JSON", "{\"weight\": [[1, 2]", new String[0],
                        "in.json: malformed JSON"),
                Arguments.of("ragged", "{\"weight\": [[1, 2], [3]]" + topo, new String[0], "weight[1]"),
                Arguments.of("empty", "{\"weight\": []" + topo, new String[0], "weight: is an empty array"),
                Arguments.of("negative", "{\"weight\": [[1, -2]]" + topo, new String[0],
                        "weight[0][1]: load is negative (-2)"),
                Arguments.of("NaN", "{\"weight\": [[NaN, 2]]" + topo, new String[0], "weight[0][0]: load is NaN"),
                Arguments.of("infinite", "{\"weight\": [[1, Infinity]]" + topo, new String[0],
                        "weight[0][1]: load is infinite"),
                Arguments.of("non-numeric", "{\"weight\": [[1, \"two\"]]" + topo, new String[0],
                        "weight[0][1]: expected a number"),
                Arguments.of("R < E", "{\"weight\": [[1, 2, 3, 4, 5]]" + topo, new String[0], "num_replicas"),
                Arguments.of("R not a multiple of M", "{\"weight\": [[1, 2]]" + topo, new String[] {"--replicas", "5"},
                        "--replicas: R=5 is not a multiple of num_gpus"),
                Arguments.of("M not a multiple of N", "{\"weight\": [[1, 2]]" + topo, new String[] {"--nodes", "3"},
                        "in.json: num_gpus: M=2 is not a multiple of --nodes"),
                Arguments.of("E not a multiple of G", "{\"weight\": [[1, 2, 3]]" + topo,
                        new String[] {"--groups", "2"}, "--groups: E=3 experts do not split into G=2"),
                Arguments.of("a load no token count reaches", "{\"weight\": [[1e308, 1e308]]" + topo, new String[0],
                        "weight[0][0]: load 1.0E308 is above 2^53 tokens"),
                Arguments.of("too many slots", "{\"weight\": [[1, 2]]" + topo, new String[] {"--replicas", "131072"},
                        "--replicas: R=131072 slots per layer is more than this tool plans (at most 65536)"),
                Arguments.of("a member twice", "{\"weight\": [[1, 2]], \"weight\": [[2, 1]]" + topo,
                        new String[0], "member \"weight\" appears twice"),
                Arguments.of("zero GPUs", "{\"weight\": [[1, 2]]" + topo, new String[] {"--gpus", "0"},
                        "--gpus: must be at least 1"),
                Arguments.of("unknown algorithm", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "magic"}, "unknown algorithm 'magic'"),
                Arguments.of("missing topology", "{\"weight\": [[1, 2]]}", new String[0], "num_replicas: missing"),
                // Given twice, differently: the spec's value used to win without a word.
                Arguments.of("mode twice", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "moelab:global", "--mode", "hierarchical"},
                        "--mode: hierarchical conflicts with --algorithm moelab:global, which sets mode global"),
                Arguments.of("tolerance twice", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "moelab:tolerance=0.1", "--tolerance", "0.5"},
                        "--tolerance: 0.5 conflicts with --algorithm moelab:tolerance=0.1, which sets tolerance=0.1"),
                // The option's value as written, not as Java prints a double ("1.0").
                Arguments.of("tolerance twice, a whole number", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "moelab:tolerance=0.1", "--tolerance", "1"},
                        "--tolerance: 1 conflicts with --algorithm moelab:tolerance=0.1, which sets tolerance=0.1"),
                Arguments.of("parallel twice", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "moelab:parallel=off", "--parallel"},
                        "--parallel: on conflicts with --algorithm moelab:parallel=off, which sets parallel=off"),
                // moelab's options on another algorithm: the error named --algorithm, which the user had right.
                Arguments.of("tolerance for deepseek", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "deepseek", "--tolerance", "0.01"},
                        "error: --tolerance: applies to moelab only, not to --algorithm deepseek"),
                Arguments.of("parallel for snake", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "snake:global", "--parallel"},
                        "error: --parallel: applies to moelab only, not to --algorithm snake:global"),
                Arguments.of("a bad spec with --tolerance", "{\"weight\": [[1, 2]]" + topo,
                        new String[] {"--algorithm", "deepseek:hedge=1", "--tolerance", "0.01"},
                        "error: --algorithm: unknown option 'hedge' for deepseek (it takes none)"),
                Arguments.of("no weight", "{\"num_gpus\": 2}", new String[0], "weight: missing"),
                Arguments.of("fractional count", "{\"weight\": [[1, 2]], \"num_replicas\": 4.5}", new String[0],
                        "num_replicas: expected an integer"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInputs")
    void badInputExitsWithTwoAndOneErrorLineAndNoOutput(String name, String input, String[] extra, String expected)
            throws IOException {
        Path in = write("in.json", input);
        Path out = dir.resolve("out.json");
        String[] base = {"eplb", "rebalance", "--input", in.toString(), "--output", out.toString()};
        String[] args = Stream.concat(Stream.of(base), Stream.of(extra)).toArray(String[]::new);
        Result r = CliRunner.run(args);
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).hasSize(1);
        assertThat(r.errLines().getFirst()).startsWith("error: ").contains(expected);
        assertThat(r.err()).doesNotContain("\tat ");
        assertThat(out).doesNotExist();
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files.map(p -> p.getFileName().toString())).containsExactly("in.json");
        }
    }

    /**
     * A bad value in --input names the file before its field, as --previous errors do, whether the reader or the
     * request refuses it.
     */
    @Test
    void badValuesInTheInputNameTheFile() throws IOException {
        String topo = ", \"num_replicas\": 4, \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 2}";
        Path nan = write("nan.json", "{\"weight\": [[1, NaN]]" + topo);
        Path shape = write("shape.json", "{\"weight\": [[1, 2]], \"history\": [[[1, 2, 3]]]" + topo);
        Path huge = write("huge.json", "{\"weight\": [[1, 2]], \"history\": [[[1, 1e300]]]" + topo);
        Path out = dir.resolve("out.json");
        assertThat(CliRunner.run("eplb", "rebalance", "--input", nan.toString(), "--output", out.toString())
                .errLines()).containsExactly("error: " + nan + ": weight[0][1]: load is NaN");
        assertThat(CliRunner.run("eplb", "rebalance", "--input", shape.toString(), "--output", out.toString())
                .errLines()).containsExactly("error: " + shape
                        + ": history[0]: is 1 layer x 3 experts, expected 1 layer x 2 experts");
        assertThat(CliRunner.run("eplb", "rebalance", "--input", huge.toString(), "--output", out.toString())
                .errLines()).containsExactly("error: " + huge + ": history[0][0][1]: load 1.0E300 is above 2^53 "
                        + "tokens, which planning cannot sum or square reliably");
        assertThat(out).doesNotExist();
    }

    static Stream<Arguments> topologyErrors() {
        return Stream.of(
                // A number from the file: the file, then the member, as a bad load reads.
                Arguments.of("{\"weight\": [[1, 2]], \"num_replicas\": 0, \"num_groups\": 1, \"num_nodes\": 1, "
                        + "\"num_gpus\": 1}", new String[0], "IN: num_replicas: must be at least 1, got 0"),
                Arguments.of("{\"weight\": [[1, 2, 3, 4]], \"num_replicas\": 2, \"num_groups\": 1, \"num_nodes\": 1, "
                        + "\"num_gpus\": 1}", new String[0], "IN: num_replicas: R=2 is less than the number of experts "
                        + "E=4 (every expert needs at least one slot)"),
                Arguments.of("{\"weight\": [[1, 2]], \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 1}",
                        new String[0], "IN: num_replicas: missing (give it in the input file or with --replicas)"),
                // A number from an option: the option, and another option named in the problem by its name too.
                Arguments.of(GOOD_INPUT, new String[] {"--gpus", "0"}, "--gpus: must be at least 1, got 0"),
                Arguments.of(GOOD_INPUT, new String[] {"--replicas", "6"},
                        "--replicas: R=6 is not a multiple of num_gpus M=4 (every GPU holds R/M slots)"),
                Arguments.of(GOOD_INPUT, new String[] {"--replicas", "6", "--gpus", "4"},
                        "--replicas: R=6 is not a multiple of --gpus M=4 (every GPU holds R/M slots)"),
                Arguments.of(GOOD_INPUT, new String[] {"--replicas", "2", "--gpus", "2"},
                        "--replicas: R=2 is less than the number of experts E=4 (every expert needs at least one "
                                + "slot)"),
                Arguments.of(GOOD_INPUT, new String[] {"--groups", "3"}, "--groups: E=4 experts do not split into G=3 "
                        + "equal groups (hierarchical placement needs E to be a multiple of G)"),
                // The file's number blamed, an option's in the problem.
                Arguments.of(GOOD_INPUT, new String[] {"--nodes", "3"},
                        "IN: num_gpus: M=4 is not a multiple of --nodes N=3 (every node holds M/N GPUs)"));
    }

    private static final String GOOD_INPUT = "{\"weight\": [[10, 20, 30, 40]], \"num_replicas\": 8, "
            + "\"num_groups\": 2, \"num_nodes\": 1, \"num_gpus\": 4}";

    /**
     * A topology number is checked under its member name, but the user set it in one of two places: the error names
     * that place, the input file (as a bad load does) or the option. Both used to read "num_gpus: ...".
     */
    @ParameterizedTest(name = "{2}")
    @MethodSource("topologyErrors")
    void topologyErrorsNameTheFileOrTheOptionThatGaveTheNumber(String input, String[] extra, String expected)
            throws IOException {
        Path in = write("in.json", input);
        Path out = dir.resolve("out.json");
        String[] base = {"eplb", "rebalance", "--input", in.toString(), "--output", out.toString()};
        Result r = CliRunner.run(Stream.concat(Stream.of(base), Stream.of(extra)).toArray(String[]::new));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: " + expected.replace("IN", in.toString()));
        assertThat(out).doesNotExist();
    }

    @Test
    void missingFileIsBadInput() {
        Result r = CliRunner.run("eplb", "rebalance", "--input", dir.resolve("nope.json").toString(), "--output",
                dir.resolve("out.json").toString());
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString().startsWith("error: ").contains("nope.json: no such file");
    }

    @Test
    void usageErrorsAreOneLine() {
        Result r = CliRunner.run("eplb", "rebalance", "--input", "x.json", "--output", "y.json", "--bogus");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.errLines()).singleElement().asString().startsWith("error: ").contains("--bogus");
    }

    @Test
    void outputPathFailuresAreBadInputAndShowTracesOnlyWhenVerbose() throws IOException {
        Path in = write("in.json", README_INPUT);
        Path blocker = write("file", "not a directory");
        String out = blocker.resolve("out.json").toString();
        Result quiet = CliRunner.run("eplb", "rebalance", "--input", in.toString(), "--output", out);
        // A file where the output's directory goes is the user's to fix: bad input, not a failure (exit 1).
        assertThat(quiet.exitCode()).isEqualTo(2);
        assertThat(quiet.errLines()).containsExactly("error: " + out + ": cannot write: " + blocker.toRealPath()
                + " is a file, not a directory");
        Result verbose = CliRunner.run("--verbose", "eplb", "rebalance", "--input", in.toString(), "--output", out);
        assertThat(verbose.exitCode()).isEqualTo(2);
        assertThat(verbose.err()).contains("\tat ");
        Result verboseBadInput = CliRunner.run("eplb", "rebalance", "--verbose", "--input", in.toString(), "--output",
                dir.resolve("o.json").toString(), "--gpus", "0");
        assertThat(verboseBadInput.exitCode()).isEqualTo(2);
        assertThat(verboseBadInput.err()).startsWith("error: --gpus").contains("\tat ");
    }
}
