package io.moelab.eplb.trace;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.moelab.eplb.InvalidInputException;
import io.moelab.eplb.LoadMatrix;
import io.moelab.eplb.io.JsonReader;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * SGLang dumps are read pass by pass (held, streamed or read twice): the steps and errors of the old whole-array
 * parse ({@link JsonTracesBefore}) on the built-in fixtures and on random dumps, good and bad.
 */
class SglangStreamingTest {
    /** Budgets of held loads: none (a second reading at once), some passes, all. */
    private static final long[] BUDGETS = {0, 1, 7, 40, JsonTraces.HELD_LOADS};

    @TempDir
    Path dir;

    /** What a reading gave: its steps, or its error's message. */
    private record Outcome(List<LoadMatrix> steps, String error) {
    }

    private static Outcome before(String json) {
        List<LoadMatrix> steps = new ArrayList<>();
        try {
            int n = JsonTracesBefore.read(new JsonReader(new StringReader(json), "t.json"), steps::add);
            assertThat(n).isEqualTo(steps.size());
            return new Outcome(steps, null);
        } catch (InvalidInputException e) {
            return new Outcome(null, e.getMessage());
        }
    }

    /** The streaming reader; {@code again} counts its second readings in {@code opened}. */
    private static Outcome now(String json, boolean rereadable, long held, int[] opened) throws IOException {
        List<LoadMatrix> steps = new ArrayList<>();
        JsonTraces.Reopen again = rereadable ? () -> {
            opened[0]++;
            return new JsonReader(new StringReader(json), "t.json");
        } : null;
        try {
            int n = JsonTraces.read(new JsonReader(new StringReader(json), "t.json"), steps::add, again, held);
            assertThat(n).isEqualTo(steps.size());
            return new Outcome(steps, null);
        } catch (InvalidInputException e) {
            return new Outcome(null, e.getMessage());
        }
    }

    private static void assertSameAsBefore(String json) throws IOException {
        Outcome expected = before(json);
        for (long held : BUDGETS) {
            for (boolean rereadable : new boolean[] {true, false}) {
                int[] opened = {0};
                Outcome got = now(json, rereadable, held, opened);
                assertThat(got).as("held %d, rereadable %s: %s", held, rereadable, json).isEqualTo(expected);
                assertThat(opened[0]).isLessThanOrEqualTo(1);
            }
        }
    }

    // ---------------------------------------------------------------- fixtures

    static List<String> builtins() {
        return BuiltinTraces.names();
    }

    @ParameterizedTest
    @MethodSource("builtins")
    void builtinDumpsGiveTheOldParsesSteps(String name) throws IOException {
        String json;
        try (InputStream in = new GZIPInputStream(SglangStreamingTest.class.getResourceAsStream(
                "/io/moelab/eplb/trace/builtin/" + name + ".json.gz"))) {
            json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Outcome expected = before(json);
        assertThat(expected.error()).isNull();
        assertSameAsBefore(json);
        // Through the public readers: a file, plain and gzip, and the built-in resource stream.
        Path plain = Files.writeString(dir.resolve("plain.json"), json);
        Path gz = Files.write(dir.resolve("dump.json.gz"), gzip(json));
        assertThat(TraceFiles.read(plain).stepList()).isEqualTo(expected.steps());
        assertThat(TraceFiles.read(gz).stepList()).isEqualTo(expected.steps());
        assertThat(BuiltinTraces.read(name).stepList()).isEqualTo(expected.steps());
    }

    /** The same passes stacked: each fixture as a 3-pass dump, read with no passes held, so read twice. */
    @ParameterizedTest
    @MethodSource("builtins")
    void builtinsAsPassesReadTwiceGiveTheOldParsesSteps(String name) throws IOException {
        String one;
        try (InputStream in = new GZIPInputStream(SglangStreamingTest.class.getResourceAsStream(
                "/io/moelab/eplb/trace/builtin/" + name + ".json.gz"))) {
            one = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        // {"logical_count": M, ...} or {"counts": M, ...}: M's text, found as the old parse read it.
        LoadMatrix step = before(one).steps().getFirst();
        String key = one.contains("\"logical_count\"") ? "logical_count" : "counts";
        String matrix = matrixText(one, key);
        String json = "{\"" + key + "\": [" + matrix + ", " + matrix + ", " + matrix + "]}";
        Path path = Files.write(dir.resolve("passes.json.gz"), gzip(json));
        List<LoadMatrix> steps = new ArrayList<>();
        assertThat(TraceFiles.read(path, steps::add, 0)).isEqualTo(3);
        assertThat(steps).isEqualTo(List.of(step, step, step)).isEqualTo(before(json).steps());
    }

    private static String matrixText(String json, String key) {
        int start = json.indexOf('[', json.indexOf("\"" + key + "\""));
        int depth = 0;
        for (int i = start; ; i++) {
            char c = json.charAt(i);
            depth += c == '[' ? 1 : c == ']' ? -1 : 0;
            if (depth == 0) {
                return json.substring(start, i + 1);
            }
        }
    }

    // ---------------------------------------------------------------- random dumps

    @Test
    void randomDumpsGiveTheOldParsesStepsAndErrors() throws IOException {
        Random random = new Random(20260105);
        int errors = 0;
        for (int trial = 0; trial < 1500; trial++) {
            String json = randomDump(random);
            if (random.nextInt(3) == 0) {
                json = spoil(json, random);
            }
            errors += before(json).error() != null ? 1 : 0;
            assertSameAsBefore(json);
        }
        assertThat(errors).as("bad dumps among the trials (660)").isBetween(400, 900);
    }

    /**
     * A dump of 1 to 12 passes (or one aggregate matrix) of 1 to 5 layers x 1 to 4 experts; each layer is loaded from
     * pass 0, from a later pass, or never (a dense layer), and its loads are small integers, fractions or -0.
     */
    private static String randomDump(Random random) {
        int steps = 1 + random.nextInt(12);
        int layers = 1 + random.nextInt(5);
        int experts = 1 + random.nextInt(4);
        int[] from = new int[layers];
        for (int l = 0; l < layers; l++) {
            from[l] = switch (random.nextInt(3)) {
                case 0 -> 0;
                case 1 -> random.nextInt(steps + 1);
                default -> Integer.MAX_VALUE;
            };
        }
        boolean aggregate = random.nextInt(5) == 0;
        StringBuilder sb = new StringBuilder("{\"rank\": 3, \"");
        sb.append(random.nextBoolean() ? "logical_count" : "counts").append("\": ");
        sb.append(aggregate ? "" : "[");
        for (int s = 0; s < (aggregate ? 1 : steps); s++) {
            sb.append(s == 0 ? "[" : ",\n [");
            for (int l = 0; l < layers; l++) {
                sb.append(l == 0 ? "[" : ", [");
                for (int e = 0; e < experts; e++) {
                    sb.append(e == 0 ? "" : ", ");
                    if (s < from[l] || random.nextInt(4) == 0) {
                        sb.append(random.nextInt(6) == 0 ? "-0" : random.nextBoolean() ? "0" : "0.0");
                    } else {
                        sb.append(random.nextInt(4) == 0 ? Double.toString(random.nextDouble() * 9)
                                : Integer.toString(random.nextInt(50)));
                    }
                }
                sb.append(']');
            }
            sb.append(']');
        }
        sb.append(aggregate ? "" : "]");
        return sb.append(random.nextBoolean() ? ", \"tail\": [1, {\"x\": null}]}" : "}").toString();
    }

    /** The dump with one fault: a bad load, a ragged or deeper row, a string, broken syntax, or a twin member. */
    private static String spoil(String json, Random random) {
        int at = randomNumber(json, random);
        int end = at;
        while (end < json.length() && "-0123456789.E".indexOf(json.charAt(end)) >= 0) {
            end++;
        }
        String fault = switch (random.nextInt(8)) {
            case 0 -> "NaN";
            case 1 -> "-2";
            case 2 -> "Infinity";
            case 3 -> "\"7\"";
            case 4 -> json.substring(at, end) + ", 1"; // a ragged row
            case 5 -> "[1]"; // deeper
            case 6 -> json.substring(at, end) + " 1"; // malformed
            default -> null;
        };
        if (fault == null) {
            return json.substring(0, json.length() - 1) + ", \"counts\": [[1]]}";
        }
        return json.substring(0, at) + fault + json.substring(end);
    }

    private static int randomNumber(String json, Random random) {
        int start = json.indexOf('[');
        while (true) {
            int at = start + random.nextInt(json.length() - start);
            char c = json.charAt(at);
            boolean begins = (c == '-' || Character.isDigit(c)) && "-0123456789.E".indexOf(json.charAt(at - 1)) < 0;
            if (begins && json.lastIndexOf(']') > at) {
                return at;
            }
        }
    }

    // ---------------------------------------------------------------- what is held and read twice

    @Test
    void passesAreDeliveredAsTheyComeOnceEveryLayerHasALoad() throws IOException {
        // Layer 1 first has a load in pass 2: passes 0-2 are held, then each is delivered as it is read.
        StringBuilder json = new StringBuilder("{\"logical_count\": [[[1, 2], [0, 0]], [[3, 4], [0, 0]], "
                + "[[5, 6], [7, 0]]");
        for (int s = 3; s < 10; s++) {
            json.append(", [[").append(s).append(", 1], [1, 1]]");
        }
        String text = json.append("]}").toString();
        List<Integer> deliveredAt = new ArrayList<>();
        int[] opened = {0};
        JsonReader reader = new JsonReader(new StringReader(text), "t.json");
        JsonTraces.read(reader, step -> deliveredAt.add(column(reader)), () -> {
            opened[0]++;
            return new JsonReader(new StringReader(text), "t.json");
        }, 100);
        assertThat(opened[0]).isZero();
        assertThat(deliveredAt).hasSize(10);
        // The first three at once when pass 2 is read, the others each when it is read: all before the end.
        assertThat(deliveredAt.subList(0, 3)).containsOnly(deliveredAt.getFirst());
        assertThat(deliveredAt.subList(2, 10)).isSorted().doesNotHaveDuplicates();
        // The last right after its pass: the array's closing bracket (column length - 1) not yet read.
        assertThat(deliveredAt.getLast()).isEqualTo(text.length() - 1);
    }

    private static int column(JsonReader reader) {
        String location = reader.location();
        return Integer.parseInt(location.substring(location.lastIndexOf(' ') + 1));
    }

    @Test
    void aDumpWithADenseLayerPastTheBudgetIsReadTwice() throws IOException {
        String json = "{\"logical_count\": [[[0, 0], [1, 2]], [[0, 0], [3, 4]], [[0, 0], [5, 6]]], \"x\": 1}";
        for (long held : new long[] {0, 3}) {
            int[] opened = {0};
            Outcome got = now(json, true, held, opened);
            assertThat(opened[0]).as("held %d", held).isEqualTo(1);
            assertThat(got).isEqualTo(before(json));
        }
        // Within the budget (12 loads held) or where it cannot be read again: held, read once.
        for (boolean rereadable : new boolean[] {true, false}) {
            int[] opened = {0};
            assertThat(now(json, rereadable, rereadable ? 12 : 0, opened)).isEqualTo(before(json));
            assertThat(opened[0]).isZero();
        }
    }

    @Test
    void aFileChangedBetweenTheReadingsIsRefused() throws IOException {
        String first = "{\"logical_count\": [[[0, 0], [1, 2]], [[0, 0], [3, 4]]]}";
        List<String> seconds = List.of(
                "{\"logical_count\": [[[0, 0], [1, 2]], [[0, 9], [3, 4]]]}", // a dense layer with a load
                "{\"logical_count\": [[[0, 0], [0, 0]], [[0, 0], [0, 0]]]}", // no layer with a load
                "{\"logical_count\": [[[0, 0], [1, 2]]]}", // fewer passes
                "{\"logical_count\": [[[0, 0, 0], [1, 2, 3]], [[0, 0, 0], [3, 4, 5]]]}", // more experts
                "{\"logical_count\": [[0, 0], [1, 2]]}", // one matrix
                "{\"counts\": [[[0, 0], [1, 2]], [[0, 0], [3, 4]]]}"); // another member
        for (String second : seconds) {
            List<LoadMatrix> steps = new ArrayList<>();
            assertThatThrownBy(() -> JsonTraces.read(new JsonReader(new StringReader(first), "t.json"), steps::add,
                    () -> new JsonReader(new StringReader(second), "t.json"), 0))
                    .as(second).isInstanceOf(InvalidInputException.class)
                    .hasMessageEndingWith("changed while it was read (a long SGLang dump is read twice: to find its "
                            + "all-zero layers, then to deliver its steps)");
        }
    }

    @Test
    void errorsAfterTheArrayComeFromTheSecondReadingAsBefore() throws IOException {
        String json = "{\"logical_count\": [[[0, 1]], [[0, 2]]], \"counts\": [[1]]}";
        int[] opened = {0};
        assertThat(now(json, true, 0, opened)).isEqualTo(before(json));
        assertThat(before(json).error()).contains("has both \"logical_count\" and \"counts\"");
        Path path = Files.writeString(dir.resolve("twice.json"), "{\"logical_count\": [[[0, 1]], [[0, 2]]]} x");
        assertThatThrownBy(() -> TraceFiles.read(path, step -> { }, 0)).isInstanceOf(InvalidInputException.class)
                .hasMessage(path + ": malformed JSON at line 1, column 41: unexpected data after the top-level value");
    }

    @Test
    void aLongDumpInAFileIsReadTwiceWithTheSameSteps() throws IOException {
        // 400 passes of 61 x 256 with three dense layers: 6.2 M loads, past the default budget of held loads.
        int steps = 400;
        StringBuilder sb = new StringBuilder("{\"logical_count\": [");
        for (int s = 0; s < steps; s++) {
            sb.append(s == 0 ? "[" : ",[");
            for (int l = 0; l < 61; l++) {
                sb.append(l == 0 ? "[" : ",[");
                for (int e = 0; e < 256; e++) {
                    sb.append(e == 0 ? "" : ",").append(l < 3 ? 0 : (s * 31 + l * 7 + e) % 97);
                }
                sb.append(']');
            }
            sb.append(']');
        }
        String json = sb.append("]}").toString();
        assertThat((long) steps * 61 * 256).isGreaterThan(JsonTraces.HELD_LOADS);
        Path path = Files.write(dir.resolve("long.json.gz"), gzip(json));
        List<LoadMatrix> expected = before(json).steps();
        List<LoadMatrix> got = new ArrayList<>();
        assertThat(TraceFiles.read(path, got::add)).isEqualTo(steps);
        assertThat(got).isEqualTo(expected);
        assertThat(got.getFirst().layers()).isEqualTo(58);
    }

    private static byte[] gzip(String text) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (OutputStream out = new GZIPOutputStream(bytes)) {
            out.write(text.getBytes(StandardCharsets.UTF_8));
        }
        return bytes.toByteArray();
    }
}
