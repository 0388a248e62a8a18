package io.moelab.cli.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.moelab.cli.CliRunner;
import io.moelab.cli.CliRunner.Result;
import io.moelab.eplb.trace.TraceFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Where the commands' outputs go: through symbolic links and FIFOs rather than replacing them, and bad output paths
 * (a directory, a file where a parent goes, two outputs naming one file) refused as bad input before any output is
 * written.
 */
class OutputPathsTest {
    @TempDir
    Path dir;
    Path model;
    Path text;
    /** Where the outputs go; the model and text stay out of it, so that its listing is only outputs. */
    Path out;

    @BeforeEach
    void write() throws Exception {
        model = TinyMixtral.write(dir.resolve("model"), 258);
        text = Files.writeString(dir.resolve("text.txt"), "Some text to route through the experts.\n");
        out = Files.createDirectory(dir.resolve("out"));
    }

    private Result trace(Path output, String... extra) {
        List<String> args = new java.util.ArrayList<>(List.of("trace", "--model", model.toString(), "--text",
                text.toString(), "--output", output.toString()));
        args.addAll(List.of(extra));
        return CliRunner.run(args.toArray(String[]::new));
    }

    private List<String> outputs() throws IOException {
        try (Stream<Path> files = Files.list(out)) {
            return files.map(f -> f.getFileName().toString()).sorted().toList();
        }
    }

    private static void assertBadInput(Result r, String message) {
        assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
        assertThat(r.errLines()).containsExactly("error: " + message);
    }

    @Test
    void aFullDeviceIsAFailureThatNamesTheFile() {
        // /dev/full fails every write as a full disk does: exit 1 (the file system failed, not the input), one
        // line naming the file; it used to read "error: java.io.IOException: No space left on device".
        Path full = Path.of("/dev/full");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "/dev/full is not available");
        for (Result r : List.of(trace(full), CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "4",
                "--steps", "300", "--seed", "1", "--output", full.toString()))) {
            assertThat(r.exitCode()).as(r.err()).isEqualTo(1);
            assertThat(r.errLines()).containsExactly("error: /dev/full: cannot write: No space left on device");
        }
    }

    @Test
    void aLinkedOutputWritesTheLinksTarget() throws Exception {
        Path target = Files.writeString(Files.createDirectory(dir.resolve("kept")).resolve("trace.json"), "old");
        Path link = Files.createSymbolicLink(out.resolve("trace.json"), target);
        Result r = trace(link);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(TraceFiles.read(target).experts()).isEqualTo(2);
        assertThat(outputs()).containsExactly("trace.json");
    }

    @Test
    void aDanglingLinkWritesWhereItPoints() throws Exception {
        Path link = Files.createSymbolicLink(out.resolve("trace.json"), dir.resolve("later/trace.json"));
        Result r = trace(link);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(Files.isSymbolicLink(link)).isTrue();
        assertThat(TraceFiles.read(dir.resolve("later/trace.json")).experts()).isEqualTo(2);
    }

    @Test
    void aFifoIsWrittenThrough() throws Exception {
        Path fifo = out.resolve("trace.fifo");
        int code;
        try {
            code = new ProcessBuilder("mkfifo", fifo.toString()).inheritIO().start().waitFor();
        } catch (IOException e) {
            code = -1;
        }
        assumeTrue(code == 0 && Files.exists(fifo), "mkfifo is not available");
        CompletableFuture<byte[]> read = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                read.complete(Files.readAllBytes(fifo));
            } catch (Throwable e) {
                read.completeExceptionally(e);
            }
        });
        reader.setDaemon(true); // blocked in open() forever if nothing writes the FIFO: must not hold up the JVM
        reader.start();
        Result r = trace(fifo);
        assertThat(r.exitCode()).as(r.err()).isZero();
        Path copy = dir.resolve("copy.json");
        Files.write(copy, read.get(20, TimeUnit.SECONDS));
        assertThat(TraceFiles.read(copy).experts()).isEqualTo(2);
        assertThat(Files.readAttributes(fifo, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS).isOther())
                .isTrue();
        assertThat(outputs()).containsExactly("trace.fifo");
    }

    @Test
    void anOutputWrittenThroughLeavesStdoutToTheData() throws Exception {
        // A device or FIFO output is a stream, often stdout itself ('--output /dev/stdout | jq'): the "wrote ..."
        // line printed after the data went into that stream, so jq read two documents and gunzip trailing garbage.
        // The note goes to stderr then; with a file it stays on stdout.
        Path sink = Path.of("/dev/null");
        assumeTrue(Files.isWritable(sink), "/dev/null is not available");
        Path input = Files.writeString(dir.resolve("in.json"), "{\"weight\": [[3, 1, 2, 2]], \"num_replicas\": 4, "
                + "\"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 2}");
        String[][] commands = {
            {"trace", "--model", model.toString(), "--text", text.toString(), "--output"},
            {"trace", "--model", model.toString(), "--text", text.toString(), "--output", out.resolve("t.json")
                .toString(), "--plot"},
            {"logits", "--model", model.toString(), "--token-ids", "1,2", "--output"},
            {"eplb", "generate", "--layers", "2", "--experts", "4", "--steps", "3", "--seed", "1", "--output"},
            {"eplb", "rebalance", "--input", input.toString(), "--output"},
        };
        for (String[] command : commands) {
            String name = String.join(" ", command);
            Result r = CliRunner.run(concat(command, sink.toString()));
            assertThat(r.exitCode()).as(name + ": " + r.err()).isZero();
            assertThat(r.out()).as(name).doesNotContain("wrote " + sink);
            assertThat(r.err()).as(name).contains("wrote " + sink);
            Path file = out.resolve("file.out");
            r = CliRunner.run(concat(command, file.toString()));
            assertThat(r.exitCode()).as(name + ": " + r.err()).isZero();
            assertThat(r.out()).as(name).contains("wrote " + file);
            Files.delete(file);
        }
    }

    @Test
    void aDirectoryInTheOutputsPlaceIsBadInput() throws Exception {
        Path taken = Files.createDirectory(out.resolve("taken"));
        assertBadInput(trace(taken), taken + ": cannot write: is a directory");
        assertThat(outputs()).containsExactly("taken");
        assertThat(Files.list(taken)).isEmpty();
    }

    @Test
    void aFileWhereAParentGoesIsBadInput() throws Exception {
        Path file = Files.writeString(out.resolve("file"), "keep");
        assertBadInput(trace(file.resolve("sub/trace.json")), file.resolve("sub/trace.json") + ": cannot write: "
                + file.toRealPath() + " is a file, not a directory");
        assertThat(file).hasContent("keep");
    }

    @Test
    void missingParentDirectoriesAreMade() throws Exception {
        Path deep = out.resolve("a/b/trace.json");
        Result r = trace(deep);
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(TraceFiles.read(deep).experts()).isEqualTo(2);
    }

    @Test
    void theTraceAndItsPlotMustBeTwoFiles() throws Exception {
        Path same = out.resolve("same.png");
        // Also under another name of the same file.
        for (String plot : new String[] {same.toString(), out.resolve("../out/./same.png").toString()}) {
            assertBadInput(trace(same, "--plot", plot), "--plot: names the same file as --output (" + plot
                    + "); give each output its own file");
            assertThat(outputs()).isEmpty();
        }
    }

    /**
     * An output that is one of the command's own inputs (through a link too) is refused before any work, and the
     * input is left as it was: each command used to replace it by its output (the trace by the report, say).
     */
    @Test
    void anOutputThatIsAnInputIsBadInput() throws Exception {
        Path trace = out.resolve("trace.json");
        Result generated = CliRunner.run("eplb", "generate", "--layers", "2", "--experts", "8", "--steps", "20",
                "--seed", "1", "--output", trace.toString());
        assertThat(generated.exitCode()).as(generated.err()).isZero();
        Path link = Files.createSymbolicLink(dir.resolve("link.json"), trace);
        Path loads = Files.writeString(out.resolve("in.json"), "{\"weight\": [[90, 132, 40, 61]], \"num_replicas\": 8,"
                + " \"num_groups\": 1, \"num_nodes\": 1, \"num_gpus\": 4}");
        Path cluster = Files.writeString(out.resolve("cluster.json"), "{\"nodes\": 1, \"gpus_per_node\": 4, "
                + "\"peak_tflops\": 900, \"hbm_tbps\": 3, \"nvlink_gbps\": 400, \"network_gbps\": 50}");
        Path config = model.resolve("config.json");
        Files.copy(text, out.resolve("text.txt"));
        Path textCopy = out.resolve("text.txt");
        List<Path> inputs = List.of(trace, loads, cluster, config, textCopy);
        List<String> before = new java.util.ArrayList<>();
        for (Path p : inputs) {
            before.add(Files.readString(p));
        }
        String[] evaluate = {"eplb", "evaluate", "--trace", trace.toString(), "--window", "5", "--replicas", "16",
            "--gpus", "4"};
        assertBadInput(CliRunner.run(concat(evaluate, "--output", link.toString())),
                "--output: " + link + " is also the input --trace; write the output to another file");
        assertBadInput(CliRunner.run(concat(evaluate, "--plot", trace.toString())),
                "--plot: " + trace + " is also the input --trace; write the output to another file");
        assertBadInput(CliRunner.run("eplb", "rebalance", "--input", loads.toString(), "--output",
                out.resolve("../out/in.json").toString()), "--output: " + out.resolve("../out/in.json")
                + " is also the input --input; write the output to another file");
        String[] sim = {"--trace", out.resolve("steps.csv").toString(), "--model", "deepseek-v2-lite", "--cluster",
            cluster.toString(), "--out", out.toString()};
        Files.copy(trace, out.resolve("steps.csv"));
        Files.copy(trace, out.resolve("sweep.json"));
        assertBadInput(CliRunner.run(concat(new String[] {"sim"}, sim)), "--out steps.csv: "
                + out.resolve("steps.csv") + " is also the input --trace; write the output to another file");
        sim[1] = out.resolve("sweep.json").toString();
        assertBadInput(CliRunner.run(concat(new String[] {"sim", "sweep"}, sim)), "--out sweep.json: "
                + out.resolve("sweep.json") + " is also the input --trace; write the output to another file");
        // The model and cluster files too, not only the trace.
        Path clusterThere = Files.copy(cluster, out.resolve("summary.json"));
        assertBadInput(CliRunner.run("sim", "--trace", trace.toString(), "--model", "deepseek-v2-lite", "--cluster",
                clusterThere.toString(), "--out", out.toString()), "--out summary.json: " + clusterThere
                + " is also the input --cluster; write the output to another file");
        Path modelThere = Files.writeString(out.resolve("throughput_vs_interval.png"), "{\"moe_layers\": 2, "
                + "\"experts\": 8, \"top_k\": 2, \"hidden\": 64, \"expert_ffn\": 32}");
        assertBadInput(CliRunner.run("sim", "sweep", "--trace", trace.toString(), "--model", modelThere.toString(),
                "--cluster", cluster.toString(), "--out", out.toString()), "--out throughput_vs_interval.png: "
                + modelThere + " is also the input --model; write the output to another file");
        assertThat(clusterThere).hasSameTextualContentAs(cluster);
        assertBadInput(CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2", "--output",
                config.toString()), "--output: " + config + " is also the input --model; write the output to another "
                + "file");
        assertBadInput(trace(textCopy, "--text", textCopy.toString()),
                "--output: " + textCopy + " is also the input --text; write the output to another file");
        assertBadInput(trace(out.resolve("t.json"), "--plot", config.toString()),
                "--plot: " + config + " is also the input --model; write the output to another file");
        for (int i = 0; i < inputs.size(); i++) {
            assertThat(inputs.get(i)).hasContent(before.get(i));
        }
        assertThat(outputs()).containsExactly("cluster.json", "in.json", "steps.csv", "summary.json", "sweep.json",
                "text.txt", "throughput_vs_interval.png", "trace.json");
    }

    @Test
    void aPlotThatCannotBeWrittenLeavesNoTrace() throws Exception {
        Path file = Files.writeString(out.resolve("file"), "keep");
        Path json = out.resolve("trace.json");
        Path png = file.resolve("heat.png");
        assertBadInput(trace(json, "--plot", png.toString()), png + ": cannot write: " + file.toRealPath()
                + " is a file, not a directory");
        assertThat(outputs()).containsExactly("file");
        // Where only trying shows it (root may write anywhere by permissions, but not new files in /proc).
        if (Files.isDirectory(Path.of("/proc/self"))) {
            Result r = trace(json, "--plot", "/proc/moelab-test.png");
            assertThat(r.exitCode()).as(r.err()).isEqualTo(2);
            assertThat(r.errLines()).singleElement().asString()
                    .startsWith("error: /proc/moelab-test.png: cannot write");
            assertThat(outputs()).containsExactly("file");
        }
    }

    @Test
    void theTraceAndItsPlotAreWrittenTogether() throws Exception {
        Path json = out.resolve("trace.json");
        Path png = out.resolve("heat.png");
        Result r = trace(json, "--plot", png.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(TraceFiles.read(json).experts()).isEqualTo(2);
        assertThat(Arrays.copyOf(Files.readAllBytes(png), 4)).containsExactly(0x89, 'P', 'N', 'G');
        assertThat(outputs()).containsExactly("heat.png", "trace.json");
    }

    @Test
    void logitsRefusesADirectoryBeforeRunningTheModel() throws Exception {
        Path taken = Files.createDirectory(out.resolve("taken"));
        assertBadInput(CliRunner.run("logits", "--model", model.toString(), "--token-ids", "1,2", "--output",
                taken.toString()), taken + ": cannot write: is a directory");
    }

    @Test
    void evaluateOutputAndPlotMustBeTwoWritableFiles() throws Exception {
        String[] base = {"eplb", "evaluate", "--trace", "builtin:deepseek-v3/prefill_in512", "--window", "1",
            "--replicas", "288", "--groups", "8", "--nodes", "4", "--gpus", "32", "--algorithms", "static",
            "--warmup-ms", "0"};
        Path same = out.resolve("report.txt");
        assertBadInput(CliRunner.run(concat(base, "--output", same.toString(), "--plot", same.toString())),
                "--plot: names the same file as --output (" + same + "); give each output its own file");
        Path taken = Files.createDirectory(out.resolve("taken.png"));
        assertBadInput(CliRunner.run(concat(base, "--output", same.toString(), "--plot", taken.toString())),
                taken + ": cannot write: is a directory");
        assertThat(outputs()).containsExactly("taken.png");
    }

    @Test
    void outputDirectoriesThatAreFilesAreBadInput() throws Exception {
        Path file = Files.writeString(out.resolve("file"), "keep");
        assertBadInput(CliRunner.run("sim", "--trace", "builtin:deepseek-v3/prefill_in512", "--model", "deepseek-v3",
                "--cluster", "4x8-h100", "--out", file.toString()), "--out " + file + ": is a file, not a directory");
        assertBadInput(CliRunner.run("sim", "sweep", "--trace", "builtin:deepseek-v3/prefill_in512", "--model",
                "deepseek-v3", "--cluster", "4x8-h100", "--out", file.toString()),
                "--out " + file + ": is a file, not a directory");
        assertBadInput(CliRunner.run("eplb", "report", "--out", file.resolve("sub").toString()),
                "--out " + file.resolve("sub") + ": " + file + " is a file, not a directory");
        assertBadInput(CliRunner.run("evolve", "init", "--task", "eplb", "--dir", file.toString()),
                "--dir " + file + ": is a file, not a directory");
        assertBadInput(CliRunner.run("train", "--out", file.toString(), "--steps", "1"),
                "--out " + file + ": is a file, not a directory");
        assertThat(file).hasContent("keep");
        assertThat(outputs()).containsExactly("file");
    }

    @Test
    void simWritesNoneOfItsFilesWhenOneCannotBe() throws Exception {
        Path sim = Files.createDirectories(out.resolve("sim/step_time.png")).getParent();
        assertBadInput(CliRunner.run("sim", "--trace", "builtin:deepseek-v3/prefill_in512", "--model", "deepseek-v3",
                "--cluster", "4x8-h100", "--out", sim.toString()), sim.resolve("step_time.png")
                + ": cannot write: is a directory");
        try (Stream<Path> files = Files.list(sim)) {
            assertThat(files.map(f -> f.getFileName().toString())).containsExactly("step_time.png");
        }
    }

    private static String[] concat(String[] a, String... b) {
        String[] all = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
