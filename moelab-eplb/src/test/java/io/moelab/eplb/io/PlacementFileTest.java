package io.moelab.eplb.io;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.Placement;
import io.moelab.eplb.Topology;
import io.moelab.eplb.algorithm.BalancingRequest;
import io.moelab.eplb.algorithm.DeepSeekBalancer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class PlacementFileTest {
    private static final JsonMapper JACKSON = JsonMapper.builder().build();

    /** Hand-made: 6 slots on 2 GPUs, 4 experts; expert 0 has three replicas in layer 0. */
    private static final Topology SMALL = new Topology(6, 1, 1, 2);
    private static final int[][] SMALL_PHY2LOG = {{0, 1, 2, 3, 0, 0}, {3, 3, 2, 1, 0, 1}};

    @TempDir
    Path dir;

    private static Placement small() {
        return Placement.of(SMALL, 4, SMALL_PHY2LOG);
    }

    private Path file(String content) throws IOException {
        return Files.writeString(dir.resolve("p.json"), content);
    }

    @Test
    void rowsPastALayersSlotsAreRefusedWhileTheyAreParsed() throws IOException {
        // Before the limits a --previous of 600 such rows ran a 64 MiB heap out of memory (exit 1).
        String row = RebalanceInputTest.zeros(65_537);
        String why = ", the most read (a layer has at most 65536 slots)";
        Path phy2log = file("{\"phy2log\": [[0, 1, 2, 3, 0, 0], " + row + "]}");
        assertThatThrownBy(() -> PlacementFile.read(phy2log, 4, SMALL)).isInstanceOf(InvalidInputException.class)
                .hasMessage(phy2log + ": phy2log[1]: has more than 65536 slots per layer" + why);
        Path logcnt = file("{\"logcnt\": [" + row + "], \"phy2log\": [[0, 1, 2, 3, 0, 0]]}");
        assertThatThrownBy(() -> PlacementFile.read(logcnt, 4, SMALL)).isInstanceOf(InvalidInputException.class)
                .hasMessage(logcnt + ": logcnt[0]: has more than 65536 experts per layer" + why);
        Path log2phy = file("{\"log2phy\": [[[0], " + row + "]], \"phy2log\": [[0, 1, 2, 3, 0, 0]]}");
        assertThatThrownBy(() -> PlacementFile.read(log2phy, 4, SMALL)).isInstanceOf(InvalidInputException.class)
                .hasMessage(log2phy + ": log2phy[0][1]: has more than 65536 replicas per expert" + why);
    }

    /**
     * A {@code log2phy} was bounded per layer only: layers within the row and matrix limits added up without end.
     * It is now refused at the first number past 2^24 in all, while it is parsed.
     */
    @Test
    void aLog2phyPast2To24NumbersInAllIsRefusedWhileItIsParsed() throws IOException {
        String layer = "[" + RebalanceInputTest.zeros(65_536) + "]"; // one expert of 65536 replica slots
        Path log2phy = file("{\"log2phy\": [" + (layer + ",").repeat(256) + layer + "], \"phy2log\": [[0]]}");
        assertThatThrownBy(() -> PlacementFile.read(log2phy, 4, SMALL)).isInstanceOf(InvalidInputException.class)
                .hasMessage(log2phy + ": log2phy: has more than 16777216 numbers in all, the most read (2^24, far "
                        + "above any model: DeepSeek-V3 has 61 x 256 loads)");
    }

    @Test
    void writesTheDocumentedLayout() throws IOException {
        Path path = dir.resolve("p.json");
        PlacementFile.write(path, "hand", small());
        // Ranks follow slot order (Placement.of), so log2phy and logcnt are worked out by hand from phy2log.
        assertThat(Files.readString(path)).isEqualTo("""
                {
                  "algorithm": "hand",
                  "num_replicas": 6,
                  "num_groups": 1,
                  "num_nodes": 1,
                  "num_gpus": 2,
                  "phy2log": [
                    [0, 1, 2, 3, 0, 0],
                    [3, 3, 2, 1, 0, 1]
                  ],
                  "log2phy": [
                    [
                      [0, 4, 5],
                      [1, -1, -1],
                      [2, -1, -1],
                      [3, -1, -1]
                    ],
                    [
                      [4, -1, -1],
                      [3, 5, -1],
                      [2, -1, -1],
                      [0, 1, -1]
                    ]
                  ],
                  "logcnt": [
                    [3, 1, 1, 1],
                    [1, 2, 1, 2]
                  ]
                }
                """);
    }

    @Test
    void roundTripsToAnEqualPlacement() throws IOException {
        Path path = dir.resolve("sub/dir/p.json");
        Placement p = small();
        PlacementFile.write(path, "hand", p);
        Placement back = PlacementFile.read(path, 4, null);
        assertThat(back).isEqualTo(p);
        assertThat(back.topology()).isEqualTo(SMALL);
        assertThat(back.phy2log()).isDeepEqualTo(SMALL_PHY2LOG);
        assertThat(back.phyRank()).isDeepEqualTo(p.phyRank());
        assertThat(back.log2phy()).isDeepEqualTo(p.log2phy());
        assertThat(back.logcnt()).isDeepEqualTo(p.logcnt());
    }

    /**
     * A property: any valid placement (random topology, every expert placed at least once, the rest of the slots
     * anywhere) reads back equal, and writing what was read gives the same bytes. Seeded, so a failure reproduces.
     */
    @Test
    void randomPlacementsRoundTripExactly() throws IOException {
        Random random = new Random(7);
        Path first = dir.resolve("first.json");
        Path second = dir.resolve("second.json");
        for (int i = 0; i < 150; i++) { // each case two atomic (synced) writes
            int gpus = 1 + random.nextInt(6);
            int nodes = gpus % 2 == 0 && random.nextBoolean() ? 2 : 1;
            int replicas = gpus * (1 + random.nextInt(5));
            int experts = 1 + random.nextInt(replicas);
            int groups = experts % 2 == 0 && random.nextBoolean() ? 2 : 1;
            Topology topology = new Topology(replicas, groups, nodes, gpus);
            int[][] phy2log = new int[1 + random.nextInt(4)][];
            for (int l = 0; l < phy2log.length; l++) {
                List<Integer> slots = new ArrayList<>();
                for (int e = 0; e < replicas; e++) {
                    slots.add(e < experts ? e : random.nextInt(experts));
                }
                Collections.shuffle(slots, random);
                phy2log[l] = slots.stream().mapToInt(Integer::intValue).toArray();
            }
            Placement p = Placement.of(topology, experts, phy2log);
            PlacementFile.write(first, "case" + i, p);
            Placement back = PlacementFile.read(first, experts, null);
            assertThat(back).as("case %d", i).isEqualTo(p);
            assertThat(back.topology()).isEqualTo(topology);
            assertThat(back.phy2log()).isDeepEqualTo(phy2log);
            assertThat(back.log2phy()).isDeepEqualTo(p.log2phy());
            assertThat(back.logcnt()).isDeepEqualTo(p.logcnt());
            PlacementFile.write(second, "case" + i, back);
            assertThat(Files.readAllBytes(second)).as("case %d", i).isEqualTo(Files.readAllBytes(first));
        }
    }

    private static Placement deepSeek() {
        Topology t = new Topology(16, 4, 2, 8);
        LoadMatrix load = LoadMatrix.of(new double[][] {{90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86},
                {20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27}}, "w");
        return new DeepSeekBalancer().rebalance(BalancingRequest.of(load, t));
    }

    /** Every key and array checked against a parse by Jackson, independent of our reader and writer. */
    private static void assertFileHolds(JsonNode json, String algorithm, Placement p) {
        List<String> keys = new ArrayList<>();
        json.propertyNames().forEach(keys::add);
        assertThat(keys).containsExactly("algorithm", "num_replicas", "num_groups", "num_nodes", "num_gpus",
                "phy2log", "log2phy", "logcnt");
        assertThat(json.get("algorithm").asString()).isEqualTo(algorithm);
        Topology t = p.topology();
        assertThat(json.get("num_replicas").asInt()).isEqualTo(t.replicas());
        assertThat(json.get("num_groups").asInt()).isEqualTo(t.groups());
        assertThat(json.get("num_nodes").asInt()).isEqualTo(t.nodes());
        assertThat(json.get("num_gpus").asInt()).isEqualTo(t.gpus());
        assertThat(toInts2(json.get("phy2log"))).isDeepEqualTo(p.phy2log());
        assertThat(toInts2(json.get("logcnt"))).isDeepEqualTo(p.logcnt());
        JsonNode log2phy = json.get("log2phy");
        int[][][] expected = p.log2phy();
        assertThat(log2phy.size()).isEqualTo(expected.length);
        for (int l = 0; l < expected.length; l++) {
            assertThat(toInts2(log2phy.get(l))).isDeepEqualTo(expected[l]);
        }
    }

    private static int[][] toInts2(JsonNode rows) {
        int[][] out = new int[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            JsonNode row = rows.get(i);
            out[i] = new int[row.size()];
            for (int j = 0; j < out[i].length; j++) {
                assertThat(row.get(j).isIntegralNumber()).isTrue();
                out[i][j] = row.get(j).asInt();
            }
        }
        return out;
    }

    @Test
    void jacksonReadsWhatThePlacementReturns() throws IOException {
        for (Placement p : List.of(small(), deepSeek())) {
            Path path = dir.resolve("p.json");
            PlacementFile.write(path, "deepseek", p);
            assertFileHolds(JACKSON.readTree(path.toFile()), "deepseek", p);
        }
    }

    @Test
    void deepSeekPlacementsKeepEveryExpertAndSlot() throws IOException {
        // The reader takes phy2log only and re-derives ranks in slot order, while DeepSeek ranks replicas in its
        // own order: compare what phy2log fixes (see the report: log2phy's rank order is not read back).
        Placement p = deepSeek();
        Path path = dir.resolve("p.json");
        PlacementFile.write(path, DeepSeekBalancer.NAME, p);
        Placement back = PlacementFile.read(path, 12, null);
        assertThat(back.topology()).isEqualTo(p.topology());
        assertThat(back.phy2log()).isDeepEqualTo(p.phy2log());
        assertThat(back.logcnt()).isDeepEqualTo(p.logcnt());
    }

    @Test
    void algorithmNamesAreEscaped() throws IOException {
        Path path = dir.resolve("p.json");
        String name = "x\"y\\z\n\u0001é";
        PlacementFile.write(path, name, small());
        assertThat(JACKSON.readTree(path.toFile()).get("algorithm").asString()).isEqualTo(name);
        assertThat(PlacementFile.read(path, 4, null)).isEqualTo(small());
    }

    @Test
    void rewritingReplacesTheFileWhole() throws IOException {
        Path path = dir.resolve("p.json");
        PlacementFile.write(path, "first", deepSeek()); // the larger file
        PlacementFile.write(path, "second", small());
        assertFileHolds(JACKSON.readTree(path.toFile()), "second", small());
        try (Stream<Path> files = Files.list(dir)) {
            assertThat(files).containsExactly(path);
        }
    }

    @Test
    void theFilesTopologyWinsAndTheFallbackFillsGaps() throws IOException {
        Path f = file("{\"phy2log\": [[0, 1, 2, 0]], \"num_gpus\": 2}");
        Placement p = PlacementFile.read(f, 3, new Topology(4, 1, 1, 4));
        assertThat(p.topology()).isEqualTo(new Topology(4, 1, 1, 2));
        assertThat(p.phy2log()).isDeepEqualTo(new int[][] {{0, 1, 2, 0}});
        assertThat(p.replicaCount(0, 0)).isEqualTo(2);
        assertThatThrownBy(() -> PlacementFile.read(f, 3, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage(f + ": num_replicas: missing (not in " + f + " and not given otherwise)");
    }

    /**
     * phy2log defines a placement; logcnt and log2phy, where a file has them, must agree with it (a file edited in one
     * field only was once taken by phy2log without a word). Their absence is fine, and so is another order of a
     * expert's replicas in log2phy (other tools rank replicas their own way).
     */
    @Test
    void log2phyAndLogcntMustAgreeWithPhy2log() throws IOException {
        String topology = ", \"num_replicas\": 3, \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 1}";
        Path bare = file("{\"phy2log\": [[1, 0, 1]]" + topology);
        assertThat(PlacementFile.read(bare, 2, null).log2phy()).isDeepEqualTo(new int[][][] {{{1, -1}, {0, 2}}});
        Path reordered = file("{\"phy2log\": [[1, 0, 1]], \"logcnt\": [[1, 2]], \"log2phy\": [[[1, -1], [2, 0]]]"
                + topology);
        assertThat(PlacementFile.read(reordered, 2, null).logcnt()).isDeepEqualTo(new int[][] {{1, 2}});

        Path count = file("{\"phy2log\": [[1, 0, 1]], \"logcnt\": [[2, 1]]" + topology);
        assertThatThrownBy(() -> PlacementFile.read(count, 2, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage(count + ": logcnt[0][0]: is 2 but phy2log holds 1 replica(s) of expert 0 (phy2log "
                        + "defines the placement: fix or drop logcnt and log2phy)");
        Path slots = file("{\"phy2log\": [[1, 0, 1]], \"log2phy\": [[[2, -1], [0, 1]]]" + topology);
        assertThatThrownBy(() -> PlacementFile.read(slots, 2, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage(slots + ": log2phy[0][0]: lists slots [2] but phy2log puts expert 0 in slots [1] (phy2log "
                        + "defines the placement: fix or drop logcnt and log2phy)");
        Path shape = file("{\"phy2log\": [[1, 0, 1]], \"logcnt\": [[1, 2, 0]]" + topology);
        assertThatThrownBy(() -> PlacementFile.read(shape, 2, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage(shape + ": logcnt: expected [1][2] to match phy2log, found shape [1, 3]");
    }

    static Stream<Arguments> badFiles() {
        Topology two = new Topology(2, 1, 1, 1);
        Topology four = new Topology(4, 1, 1, 1);
        return Stream.of(
                Arguments.of("{\"num_gpus\": 1}", 2, two, "%s: has no \"phy2log\""),
                Arguments.of("{\"phy2log\": [[0, 1.5]]}", 2, two,
                        "phy2log[0][1]: expected an expert index but found 1.5"),
                // A whole number too large for an index was quoted as a Java double ("-3.0E9").
                Arguments.of("{\"phy2log\": [[0, -3000000000]]}", 2, two,
                        "phy2log[0][1]: expected an expert index but found -3000000000"),
                Arguments.of("{\"phy2log\": [[0, 1], [1, NaN]]}", 2, two,
                        "phy2log[1][1]: expected an expert index but found NaN"),
                Arguments.of("{\"phy2log\": [[0, 5]]}", 2, two, "phy2log[0][1]: expert 5 is out of range 0..1"),
                Arguments.of("{\"phy2log\": [[0, -1]]}", 2, two, "phy2log[0][1]: expert -1 is out of range 0..1"),
                Arguments.of("{\"phy2log\": [[0, 1, 0]]}", 2, two, "phy2log[0]: has 3 slots, expected num_replicas=2"),
                Arguments.of("{\"phy2log\": [[0, 0, 1, 1], [0, 0, 0, 1]]}", 3, four,
                        "phy2log: places experts 0..1 but the loads have 3 experts per layer"),
                Arguments.of("{\"phy2log\": [[0, 0, 2, 1], [0, 0, 0, 2]]}", 3, four,
                        "phy2log[1]: expert 1 has no replica"),
                Arguments.of("{\"phy2log\": [[0, 1], [0]]}", 2, two,
                        "phy2log[1]: has 1 elements where earlier arrays at this depth have 2 (ragged array)"),
                Arguments.of("{\"phy2log\": [0, 1]}", 2, two,
                        "phy2log: expected [layers][replicas] but found a 1-dimensional array"),
                Arguments.of("{\"phy2log\": [[[0, 1]]]}", 2, two,
                        "phy2log: expected [layers][replicas] but found a 3-dimensional array"),
                Arguments.of("{\"phy2log\": [[0, \"1\"]]}", 2, two,
                        "phy2log[0][1]: expected a number but found a string"),
                Arguments.of("{\"phy2log\": [[0, 1]], \"num_gpus\": 1.5}", 2, two,
                        "num_gpus: expected an integer but found 1.5"),
                Arguments.of("{\"phy2log\": [[0, 1]]}", 3, two,
                        "num_replicas: R=2 is less than the number of experts E=3 (every expert needs at least one "
                                + "slot)"),
                // A slot that is no index was listed as slot -2147483648 ("lists slots [-2147483648, 0]").
                Arguments.of("{\"phy2log\": [[1, 0, 1]], \"log2phy\": [[[1, -1], [0, 2.5]]]}", 2,
                        new Topology(3, 1, 1, 1), "log2phy[0][1][1]: expected a slot index or -1 but found 2.5"),
                Arguments.of("{\"phy2log\": [[1, 0, 1]], \"log2phy\": [[[1, -1], [0, 3e9]]]}", 2,
                        new Topology(3, 1, 1, 1), "log2phy[0][1][1]: expected a slot index or -1 but found 3000000000"),
                Arguments.of("[]", 2, two, "%s: expected a JSON object but found an array"),
                Arguments.of("{\"phy2log\": [[0, 1]],}", 2, two,
                        "%s: malformed JSON at line 1, column 22: expected a member name in double quotes"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badFiles")
    void badFilesNameTheProblem(String content, int experts, Topology fallback, String message) throws IOException {
        Path f = file(content);
        // Every message names the file: read as --previous, its "phy2log[0]" is not the input's.
        String expected = message.startsWith("%s") ? message.formatted(f) : f + ": " + message;
        assertThatThrownBy(() -> PlacementFile.read(f, experts, fallback)).isInstanceOf(InvalidInputException.class)
                .hasMessage(expected);
    }

    @Test
    void missingFilesAndDirectoriesAreNamed() {
        Path missing = dir.resolve("none.json");
        assertThatThrownBy(() -> PlacementFile.read(missing, 2, null)).isInstanceOf(InvalidInputException.class)
                .hasMessage(missing + ": no such file");
        assertThatThrownBy(() -> PlacementFile.read(dir, 2, null))
                .hasMessage(dir + ": is a directory, expected a JSON file");
    }
}
