package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code -} as an output: standard output for text and JSON outputs (printed once, the data alone, the "wrote"
 * note on stderr), refused for PNG plots, compact traces and output directories; and an output that is standard
 * output itself ({@code /dev/stdout}) does not get a report the command prints anyway a second time. Each used to
 * write a file (or make a directory) literally named {@code -} in the working directory.
 */
class StandardOutputTest {
    /** Where a file named {@code -} would appear: the working directory, against which relative outputs resolve. */
    private static final Path DASH = Path.of("-");
    /** Strict: a second document or anything after the first is an error, as for {@code jq}. */
    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    @TempDir
    Path dir;
    Path loads;
    Path trace;

    @BeforeEach
    void write() throws IOException {
        assumeFalse(Files.exists(DASH), "the working directory already holds a file named -");
        loads = Files.writeString(dir.resolve("in.json"), """
                {"weight": [[90, 132, 40, 61, 104, 165, 39, 4, 73, 56, 183, 86],
                            [20, 107, 104, 64, 19, 197, 187, 157, 172, 86, 16, 27]],
                 "num_replicas": 16, "num_groups": 4, "num_nodes": 2, "num_gpus": 8}
                """);
        trace = dir.resolve("t.json");
        ok(CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "40", "--seed", "3",
                "--output", trace.toString()));
    }

    /** A failing run (the defect) must not leave its file in the module directory. */
    @AfterEach
    void removeDash() throws IOException {
        if (Files.isDirectory(DASH)) {
            try (var files = Files.walk(DASH)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
        Files.deleteIfExists(DASH);
    }

    private static Result ok(Result r) {
        assertThat(r.exitCode()).as(r.err()).isZero();
        return r;
    }

    private static void assertRefused(Result r, String message) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: " + message);
        assertThat(r.out()).isEmpty();
        assertThat(DASH).doesNotExist();
    }

    private String[] evaluate(String... extra) {
        List<String> args = new ArrayList<>(List.of("eplb", "evaluate", "--trace", trace.toString(), "--window", "10",
                "--replicas", "16", "--gpus", "4", "--algorithms", "static,snake", "--warmup-ms", "0"));
        args.addAll(List.of(extra));
        return args.toArray(String[]::new);
    }

    @Test
    void evaluateToDashPrintsTheReportOnceAndWritesNoFile() {
        Result r = ok(CliRunner.run(evaluate("--format", "json", "--output", "-")));
        JsonNode report = JSON.readTree(r.out()); // one document, nothing after it
        assertThat(report.get("algorithms")).hasSize(2);
        assertThat(DASH).doesNotExist();
        r = ok(CliRunner.run(evaluate("--format", "csv", "--output", "-")));
        assertThat(r.out().lines().filter(l -> l.startsWith("algorithm,"))).hasSize(1);
        assertThat(r.out().lines()).hasSize(3);
        assertThat(DASH).doesNotExist();
    }

    @Test
    void evaluateToDevStdoutPrintsTheReportOnce() throws Exception {
        assumeTrue(Files.isWritable(Path.of("/dev/stdout")), "/dev/stdout is not available");
        // In a child JVM whose stdout is a pipe, as in 'moelab eplb evaluate ... --output /dev/stdout | jq': the
        // report went into the pipe twice, once written through the device and once printed.
        String out = child(evaluate("--format", "json", "--output", "/dev/stdout"));
        assertThat(JSON.readTree(out).get("algorithms")).hasSize(2);
    }

    @Test
    void rebalanceToDashPrintsThePlacementAloneOnStdout() throws IOException {
        Path file = dir.resolve("out.json");
        ok(CliRunner.run("eplb", "rebalance", "--input", loads.toString(), "--output", file.toString()));
        Result r = ok(CliRunner.run("eplb", "rebalance", "--input", loads.toString(), "--output", "-"));
        // The very bytes of the file: one JSON document and nothing else; the note goes to stderr.
        assertThat(r.out()).isEqualTo(Files.readString(file));
        assertThat(JSON.readTree(r.out()).get("phy2log")).hasSize(2);
        assertThat(r.errLines()).singleElement().asString().contains("wrote standard output");
        assertThat(DASH).doesNotExist();
    }

    @Test
    void rebalanceToDevStdoutPrintsThePlacementOnceWithTheNoteOnStderr() throws Exception {
        assumeTrue(Files.isWritable(Path.of("/dev/stdout")), "/dev/stdout is not available");
        String out = child("eplb", "rebalance", "--input", loads.toString(), "--output", "/dev/stdout");
        assertThat(JSON.readTree(out).get("phy2log")).hasSize(2);
    }

    @Test
    void generateToDashPrintsTheVllmTraceAndRefusesTheCompactOne() throws IOException {
        Result r = ok(CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "40", "--seed",
                "3", "--output", "-"));
        assertThat(r.out()).isEqualTo(Files.readString(trace));
        assertThat(r.err()).contains("wrote standard output: 40 steps");
        assertThat(DASH).doesNotExist();
        assertRefused(CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "40", "--seed",
                "3", "--format", "compact", "--output", "-"), "--output: standard output (-) takes text only, not a "
                + "compact trace (gzip-compressed binary); name a file (./- for one named -)");
    }

    @Test
    void aPlotToDashIsRefusedBeforeAnyWork() throws Exception {
        assertRefused(CliRunner.run(evaluate("--plot", "-")), "--plot: standard output (-) takes text only, not a "
                + "PNG image; name a file (./- for one named -)");
        Path model = TinyMixtral.write(dir.resolve("model"), 258);
        Path text = Files.writeString(dir.resolve("text.txt"), "Some text to route through the experts.\n");
        assertRefused(CliRunner.run("trace", "--model", model.toString(), "--text", text.toString(), "--output",
                dir.resolve("t2.json").toString(), "--plot", "-"), "--plot: standard output (-) takes text only, not a "
                + "PNG image; name a file (./- for one named -)");
        assertThat(dir.resolve("t2.json")).doesNotExist();
    }

    @Test
    void logitsAndTraceToDashPrintWhatTheFileWouldHold() throws Exception {
        Path model = TinyMixtral.write(dir.resolve("model"), 258);
        Path text = Files.writeString(dir.resolve("text.txt"), "Some text to route through the experts.\n");
        Path logits = dir.resolve("logits.json");
        ok(CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2,3", "--output", logits.toString()));
        Result r = ok(CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2,3", "--output", "-"));
        assertThat(r.out()).isEqualTo(Files.readString(logits));
        assertThat(r.err()).contains("wrote standard output (3 positions");

        Path recorded = dir.resolve("trace.json");
        Path png = dir.resolve("heat.png");
        String[] args = {"trace", "--model", model.toString(), "--text", text.toString(), "--plot", png.toString(),
            "--output"};
        Result file = ok(CliRunner.run(concat(args, recorded.toString())));
        Files.delete(png);
        r = ok(CliRunner.run(concat(args, "-")));
        assertThat(r.out()).isEqualTo(Files.readString(recorded));
        // The summary goes with the note, to stderr: the lines it prints beside a file.
        assertThat(r.err()).isEqualTo(file.out().replace("wrote " + recorded, "wrote standard output"));
        assertThat(png).exists();
        assertThat(DASH).doesNotExist();
    }

    @Test
    void anOutputDirectoryCannotBeStandardOutput() {
        String refused = "standard output (-) takes text only, not a directory of files; name a directory (./- for "
                + "one named -)";
        assertRefused(CliRunner.run("sim", "--trace", "builtin:deepseek-v3/prefill_in512", "--model", "deepseek-v3",
                "--cluster", "4x8-h100", "--out", "-"), "--out: " + refused);
        assertRefused(CliRunner.run("sim", "sweep", "--trace", "builtin:deepseek-v3/prefill_in512", "--model",
                "deepseek-v3", "--cluster", "4x8-h100", "--out", "-"), "--out: " + refused);
        assertRefused(CliRunner.run("eplb", "report", "--out", "-"), "--out: " + refused);
        assertRefused(CliRunner.run("evolve", "init", "--task", "eplb", "--dir", "-"), "--dir: " + refused);
        assertRefused(CliRunner.run("evolve", "--task", "eplb", "--out", "-", "--iterations", "1"),
                "--out: " + refused);
        assertRefused(CliRunner.run("train", "--out", "-", "--steps", "1"), "--out: " + refused);
    }

    /** Runs the CLI in a child JVM with stdout to a pipe; returns what came through it after checking exit 0. */
    private String child(String... args) throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        List<String> command = new ArrayList<>(List.of(java, "-Djava.awt.headless=true", "-cp",
                System.getProperty("java.class.path"), Main.class.getName()));
        command.addAll(List.of(args));
        Path err = dir.resolve("child-err.txt");
        Process p = new ProcessBuilder(command).redirectError(err.toFile()).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(Files.readString(err)).isZero();
        return new String(out, StandardCharsets.UTF_8);
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
