package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.cli.Main;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code -} as an input: standard input for the streams a user pipes (traces, {@code eplb rebalance}'s JSON, texts),
 * read as the same content in a file is read, with a file's errors naming {@code standard input}; at most one input
 * of a command may be {@code -}; a directory input refuses it. Each used to fail with {@code -: no such file}.
 */
class StandardInputTest {
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path TMP = Path.of(System.getProperty("java.io.tmpdir"));

    @TempDir
    Path dir;
    Path loads;
    Path trace;

    @BeforeEach
    void write() throws IOException {
        loads = Files.writeString(dir.resolve("in.json"), """
                {"weight": [[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
                            [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27]],
                 "num_replicas": 16, "num_groups": 4, "num_nodes": 2, "num_gpus": 8}
                """);
        trace = dir.resolve("t.json");
        ok(CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "40", "--seed", "3",
                "--output", trace.toString()));
    }

    private static Result ok(Result r) {
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r;
    }

    private static void assertRefused(Result r, String message) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: " + message);
        assertThat(r.out()).isEmpty();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String[] evaluate(String source, String... extra) {
        List<String> args = new ArrayList<>(List.of("eplb", "evaluate", "--trace", source, "--window", "10",
                "--replicas", "16", "--gpus", "4", "--algorithms", "static,snake,moelab", "--warmup-ms", "0"));
        args.addAll(List.of(extra));
        if (!args.contains("--format")) {
            args.addAll(List.of("--format", "json"));
        }
        return args.toArray(String[]::new);
    }

    /** An evaluation's JSON report less what differs between two runs over the same loads: timings, the source. */
    private static JsonNode scores(String report) {
        ObjectNode json = (ObjectNode) JSON.readTree(report);
        json.remove("trace");
        json.get("algorithms").forEach(a -> ((ObjectNode) a).remove("timing"));
        return json;
    }

    /** The temporary files the commands made for standard input that are still there. */
    private static Set<Path> spools() throws IOException {
        try (Stream<Path> files = Files.list(TMP)) {
            return files.filter(p -> p.getFileName().toString().startsWith("moelab-stdin-"))
                    .collect(Collectors.toSet());
        }
    }

    @Test
    void evaluateReadsATraceFromStandardInputInEachFormatAsFromItsFile() throws IOException {
        JsonNode expected = scores(ok(CliRunner.run(evaluate(trace.toString()))).out());
        Path gz = dir.resolve("t.json.gz");
        Path compact = dir.resolve("t.mlt");
        ok(CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "40", "--seed", "3",
                "--output", gz.toString()));
        ok(CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "40", "--seed", "3",
                "--format", "compact", "--output", compact.toString()));
        // The format is told from the content: no file name says it.
        for (Path file : List.of(trace, gz, compact)) {
            Result r = ok(CliRunner.runWithStdin(Files.readAllBytes(file), evaluate("-")));
            assertThat(scores(r.out())).as(file.toString()).isEqualTo(expected);
            assertThat(JSON.readTree(r.out()).get("trace").get(0).asString()).isEqualTo("-");
        }
        // Concatenated with a file, in the order given; the table names the stream.
        Result both = ok(CliRunner.runWithStdin(Files.readAllBytes(trace), evaluate(trace.toString(), "--trace", "-",
                "--format", "table")));
        assertThat(both.out()).startsWith("trace: " + trace + " + standard input (80 steps, ");
        assertThat(Path.of("-")).doesNotExist();
    }

    @Test
    void aMalformedTraceOnStandardInputIsTheFilesErrorNamingStandardInput() throws IOException {
        String[] contents = {
            "{\"load_history\": [{\"logical_expert_load\": [[1, 2]]}, {\"logical_expert_load\": [[1, -2]]}]}",
            "{\"load_history\": [",
            "MOELABTR\u0001",
            "",
            "not a trace",
        };
        for (String content : contents) {
            Path file = Files.writeString(dir.resolve("bad.json"), content);
            Result fromFile = CliRunner.run(evaluate(file.toString()));
            assertThat(fromFile.exitCode()).isEqualTo(2);
            assertThat(fromFile.errLines()).singleElement().asString().startsWith("error: " + file + ": ");
            assertRefused(CliRunner.runWithStdin(bytes(content), evaluate("-")),
                    fromFile.errLines().getFirst().substring("error: ".length()).replace(file.toString(),
                            "standard input"));
        }
    }

    @Test
    void onlyOneInputMayBeStandardInput() {
        assertRefused(CliRunner.runWithStdin(bytes("{}"), evaluate("-", "--trace", "-")),
                "--trace: names standard input (-) twice; it can be read once (name a file for the other)");
        assertRefused(CliRunner.runWithStdin(bytes("{}"), "eplb", "rebalance", "--input", "-", "--previous", "-",
                "--output", dir.resolve("out.json").toString()),
                "--previous: names standard input (-) as --input does; it can be read once (name a file for the "
                        + "other)");
        assertRefused(CliRunner.runWithStdin(bytes("{}"), "sim", "--trace", "-", "--trace", "-", "--model",
                "deepseek-v2-lite", "--cluster", "4x8-h100", "--out", dir.resolve("sim").toString()),
                "--trace: names standard input (-) twice; it can be read once (name a file for the other)");
        assertThat(dir.resolve("out.json")).doesNotExist();
        assertThat(dir.resolve("sim")).doesNotExist();
    }

    @Test
    void rebalanceReadsItsInputAndPreviousPlacementFromStandardInput() throws IOException {
        Path placement = dir.resolve("p.json");
        ok(CliRunner.run("eplb", "rebalance", "--input", loads.toString(), "--output", placement.toString()));
        Result r = ok(CliRunner.runWithStdin(Files.readAllBytes(loads), "eplb", "rebalance", "--input", "-",
                "--output", "-"));
        assertThat(r.out()).isEqualTo(Files.readString(placement));

        // A placement in service from stdin, the loads from a file: the same plan and note as from the file.
        Path next = dir.resolve("next.json");
        Result fromFile = ok(CliRunner.run("eplb", "rebalance", "--input", loads.toString(), "--previous",
                placement.toString(), "--output", next.toString()));
        Result fromStdin = ok(CliRunner.runWithStdin(Files.readAllBytes(placement), "eplb", "rebalance", "--input",
                loads.toString(), "--previous", "-", "--output", "-"));
        assertThat(fromStdin.out()).isEqualTo(Files.readString(next));
        String note = fromFile.out().replaceAll(" in [0-9.]+ ms", "");
        assertThat(fromStdin.err().replaceAll(" in [0-9.]+ ms", "")).isEqualTo(note
                .replace("moved from " + placement, "moved from standard input")
                .replace("wrote " + next, "wrote standard output"));
    }

    @Test
    void aMalformedRebalanceInputOnStandardInputIsTheFilesErrorNamingStandardInput() throws IOException {
        String[] inputs = {
            "{\"weight\": [[1, -2]], \"num_replicas\": 2, \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 1}",
            "{\"weight\": [[1, 2]], \"num_replicas\": 2, \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 1",
            "",
            "[1, 2]",
        };
        Path out = dir.resolve("out.json");
        for (String content : inputs) {
            Path file = Files.writeString(dir.resolve("bad.json"), content);
            Result fromFile = CliRunner.run("eplb", "rebalance", "--input", file.toString(), "--output",
                    out.toString());
            assertThat(fromFile.exitCode()).as(fromFile.err()).isEqualTo(2);
            assertThat(fromFile.errLines().getFirst()).contains(file.toString());
            assertRefused(CliRunner.runWithStdin(bytes(content), "eplb", "rebalance", "--input", "-", "--output",
                    out.toString()), fromFile.errLines().getFirst().substring("error: ".length())
                    .replace(file.toString(), "standard input"));
            assertThat(out).doesNotExist();
        }
        // A placement that does not fit the loads, on stdin.
        Path placement = Files.writeString(dir.resolve("bad-placement.json"), "{\"phy2log\": [[0, 1]]}");
        Result fromFile = CliRunner.run("eplb", "rebalance", "--input", loads.toString(), "--previous",
                placement.toString(), "--output", out.toString());
        assertThat(fromFile.exitCode()).isEqualTo(2);
        assertRefused(CliRunner.runWithStdin(Files.readAllBytes(placement), "eplb", "rebalance", "--input",
                loads.toString(), "--previous", "-", "--output", out.toString()), fromFile.errLines().getFirst()
                .substring("error: ".length()).replace(placement.toString(), "standard input"));
    }

    @Test
    void simAndSweepReadTheirTraceFromStandardInputOnceAndLeaveNoTemporaryFile() throws IOException {
        Set<Path> before = spools();
        Path mlt = dir.resolve("t.mlt");
        ok(CliRunner.run("eplb", "generate", "--layers", "26", "--experts", "64", "--steps", "60", "--seed", "5",
                "--format", "compact", "--output", mlt.toString()));
        List<String> common = List.of("--model", "deepseek-v2-lite", "--cluster", "4x8-h100", "--policies",
                "none,moelab", "--rebalance-every", "20", "--planning-ms", "2");
        for (List<String> command : List.of(List.of("sim"), List.of("sim", "sweep", "--intervals", "10,20",
                "--redundants", "32"))) {
            String name = command.size() == 1 ? "summary.json" : "sweep.json";
            List<String> args = new ArrayList<>(command);
            args.addAll(common);
            Path a = dir.resolve(String.join("-", command) + "-file");
            Path b = dir.resolve(String.join("-", command) + "-stdin");
            List<String> fromFile = new ArrayList<>(args);
            fromFile.addAll(List.of("--trace", mlt.toString(), "--out", a.toString()));
            List<String> fromStdin = new ArrayList<>(args);
            fromStdin.addAll(List.of("--trace", "-", "--out", b.toString()));
            Result file = ok(CliRunner.run(fromFile.toArray(String[]::new)));
            Result stdin = ok(CliRunner.runWithStdin(Files.readAllBytes(mlt), fromStdin.toArray(String[]::new)));
            ObjectNode expected = (ObjectNode) JSON.readTree(a.resolve(name).toFile());
            ObjectNode actual = (ObjectNode) JSON.readTree(b.resolve(name).toFile());
            assertThat(actual.remove("trace").get(0).asString()).isEqualTo("-");
            expected.remove("trace");
            assertThat(actual).as(String.join(" ", command)).isEqualTo(expected);
            assertThat(stdin.out().lines().findFirst().orElseThrow())
                    .isEqualTo(file.out().lines().findFirst().orElseThrow().replace(mlt.toString(), "standard input"));
        }
        // Malformed: the file's error, read once (the first reading checks the trace).
        Path bad = Files.writeString(dir.resolve("bad.json"), "{\"load_history\": [{\"logical_expert_load\": "
                + "[[1, -2]]}]}");
        List<String> args = new ArrayList<>(List.of("sim", "--trace", "-", "--out", dir.resolve("bad").toString()));
        args.addAll(common);
        assertRefused(CliRunner.runWithStdin(Files.readAllBytes(bad), args.toArray(String[]::new)),
                "standard input: load_history[0].logical_expert_load[0][1]: load is negative (-2)");
        assertThat(spools()).isEqualTo(before);
    }

    @Test
    void perplexityAndTraceReadATextFromStandardInput() throws Exception {
        Path model = TinyMixtral.write(dir.resolve("model"), 258);
        String content = "Some text to route through the experts.\n";
        Path text = Files.writeString(dir.resolve("text.txt"), content);
        Result file = ok(CliRunner.run("perplexity", "--model", model.toString(), "--text", text.toString()));
        Result stdin = ok(CliRunner.runWithStdin(bytes(content), "perplexity", "--model", model.toString(), "--text",
                "-"));
        assertThat(stdin.out()).isEqualTo(file.out());

        Path other = Files.writeString(dir.resolve("other.txt"), "Another one, shorter.\n");
        Path recorded = dir.resolve("trace.json");
        Result traced = ok(CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(),
                other.toString(), "--output", recorded.toString()));
        Result fromStdin = ok(CliRunner.runWithStdin(bytes(content), "trace", "--model", model.toString(), "--text",
                "-", other.toString(), "--output", "-"));
        assertThat(fromStdin.out()).isEqualTo(Files.readString(recorded));
        // The summary labels the text by the stream it came from.
        assertThat(fromStdin.err()).contains("\n  standard input ").doesNotContain("text.txt");
        // The same lines but for the names (and the padding after them).
        assertThat(fromStdin.err().replace("wrote standard output", "wrote " + recorded)
                .replace("standard input", "text.txt").replaceAll(" +", " "))
                .isEqualTo(traced.out().replaceAll(" +", " "));

        assertRefused(CliRunner.runWithStdin(new byte[] {(byte) 0xff, 'a'}, "perplexity", "--model",
                model.toString(), "--text", "-"), "--text: standard input is not UTF-8 text");
        assertRefused(CliRunner.runWithStdin(new byte[0], "perplexity", "--model", model.toString(), "--text", "-"),
                "--text: standard input is empty");
        assertRefused(CliRunner.runWithStdin(new byte[0], "trace", "--model", model.toString(), "--text", "-",
                "--output", "-"), "--text: standard input is empty");
        assertRefused(CliRunner.runWithStdin(bytes(content), "trace", "--model", model.toString(), "--text", "-",
                "-", "--output", dir.resolve("t2.json").toString()),
                "--text: names standard input (-) twice; it can be read once (name a file for the other)");
    }

    @Test
    void aModelDirectoryCannotBeStandardInput() throws IOException {
        Path text = Files.writeString(dir.resolve("text.txt"), "Some text.\n");
        String refused = "--model: standard input (-) is a stream, not a directory of files; name a directory "
                + "(./- for one named -)";
        assertRefused(CliRunner.run("logits", "--model", "-", "--token-ids", "1", "--output", "-"), refused);
        assertRefused(CliRunner.run("perplexity", "--model", "-", "--text", text.toString()), refused);
        assertRefused(CliRunner.run("trace", "--model", "-", "--text", text.toString(), "--output", "-"), refused);
        assertRefused(CliRunner.run("generate", "--model", "-", "--prompt", "a", "--max-tokens", "1"), refused);
        assertRefused(CliRunner.run("bench", "--model", "-"), refused);
    }

    /** Through a real pipe between two JVMs, as {@code moelab eplb generate --output - | moelab eplb evaluate}. */
    @Test
    void generateOutputPipesIntoEvaluateAndRebalance() throws Exception {
        JsonNode expected = scores(ok(CliRunner.run(evaluate(trace.toString()))).out());
        String out = pipe(new String[] {"eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "40",
            "--seed", "3", "--output", "-"}, evaluate("-"));
        assertThat(scores(out)).isEqualTo(expected);
        Path placement = dir.resolve("p.json");
        ok(CliRunner.run("eplb", "rebalance", "--input", loads.toString(), "--output", placement.toString()));
        String piped = pipe(new String[] {"eplb", "rebalance", "--input", loads.toString(), "--output", "-"},
                "eplb", "rebalance", "--input", loads.toString(), "--previous", "-", "--output", "-");
        assertThat(piped).isEqualTo(Files.readString(placement));
    }

    /** Runs {@code moelab FIRST | moelab SECOND} in two child JVMs; returns the second's stdout after both exit 0. */
    private String pipe(String[] first, String... second) throws Exception {
        List<ProcessBuilder> builders = new ArrayList<>();
        int i = 0;
        for (String[] args : List.of(first, second)) {
            String java = ProcessHandle.current().info().command().orElseThrow();
            List<String> command = new ArrayList<>(List.of(java, "-Djava.awt.headless=true", "-cp",
                    System.getProperty("java.class.path"), Main.class.getName()));
            command.addAll(Arrays.asList(args));
            builders.add(new ProcessBuilder(command).redirectError(dir.resolve("err" + i++ + ".txt").toFile()));
        }
        List<Process> processes = ProcessBuilder.startPipeline(builders);
        byte[] out = processes.getLast().getInputStream().readAllBytes();
        for (int p = 0; p < processes.size(); p++) {
            assertThat(processes.get(p).waitFor(120, TimeUnit.SECONDS)).isTrue();
            assertThat(processes.get(p).exitValue()).as(Files.readString(dir.resolve("err" + p + ".txt"))).isZero();
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
